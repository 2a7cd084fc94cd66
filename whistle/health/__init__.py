"""GET /healthz: 200 when the database answers; no other detail."""
from pyramid.view import view_config
from sqlalchemy import text

from whistle.security.permissions import Permission


@view_config(route_name="health", request_method="GET", renderer="json", permission=Permission.PUBLIC)
def healthz(request):
    try:
        request.dbsession.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any database failure is just "unavailable" to the outside
        request.response.status = 503
        return {"status": "unavailable"}
    return {"status": "ok"}


def includeme(config) -> None:
    config.scan(__name__)
