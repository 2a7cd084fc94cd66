"""The OpenAPI 3.1 description of the public API, served at GET /api/v1/openapi.json.

API.md is the contract; this document is its machine-readable form. A test fails when a route
under /api/ is missing here, so the two cannot drift.
"""
from pyramid.view import view_config

from whistle.openapi.document import build_document
from whistle.security.permissions import Permission


@view_config(route_name="api.openapi", request_method="GET", renderer="json", permission=Permission.PUBLIC)
def openapi_json(request):
    return build_document()


def includeme(config) -> None:
    config.add_route("api.openapi", "/api/v1/openapi.json")
    config.scan(__name__)
