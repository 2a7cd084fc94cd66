"""The caller's session is resolved once per request, however often Pyramid asks."""
from sqlalchemy import event

from tests.factories import api_login, make_channel, make_staff, submit_api
from whistle.sessions.models import LoginSession


def test_one_session_lookup_per_request(testapp, dbsession, settings, clock):
    make_channel(dbsession)
    guardian = make_staff(dbsession, settings, clock, channels=["staff"])
    ref = submit_api(testapp)["case"]
    headers = api_login(testapp, guardian, clock)

    statements = []
    engine = dbsession.get_bind()

    def count(conn, cursor, statement, *args):
        if LoginSession.__tablename__ in statement and statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        testapp.get(f"/api/v1/cases/{ref}", headers=headers, status=200)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == 1
