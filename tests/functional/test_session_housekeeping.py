"""Sessions: idle expiry is written at most once a minute; expired sessions are purged at the next login."""
from datetime import timedelta, timezone

from sqlalchemy import func, select

from tests.factories import api_login, make_channel, make_staff
from whistle.sessions.models import LoginSession


def naive(moment):
    # SQLite returns naive UTC, PostgreSQL aware datetimes in the session's time zone.
    return moment.astimezone(timezone.utc).replace(tzinfo=None) if moment.tzinfo else moment


def test_idle_expiry_is_written_at_most_once_a_minute(testapp, dbsession, settings, clock):
    make_channel(dbsession)
    guardian = make_staff(dbsession, settings, clock)
    headers = api_login(testapp, guardian, clock)
    row = dbsession.scalars(select(LoginSession)).one()
    first = naive(row.idle_expires_at)
    clock.advance(timedelta(seconds=20))
    testapp.get("/api/v1/cases", headers=headers, status=200)
    assert naive(row.idle_expires_at) == first
    clock.advance(timedelta(seconds=50))
    testapp.get("/api/v1/cases", headers=headers, status=200)
    assert naive(row.idle_expires_at) > first


def test_expired_sessions_are_deleted_when_anyone_logs_in(testapp, dbsession, settings, clock):
    make_channel(dbsession)
    first, second = make_staff(dbsession, settings, clock, "first"), make_staff(dbsession, settings, clock, "second")
    api_login(testapp, first, clock)
    clock.advance(settings.staff_session_idle + timedelta(minutes=1))
    api_login(testapp, second, clock)
    assert dbsession.scalar(select(func.count()).select_from(LoginSession)) == 1


def test_a_login_while_a_session_read_from_the_database_is_in_memory_still_works(testapp, dbsession, settings, clock):
    """SQLite gives stored times back without a time zone: the purge must not compare them in Python."""
    make_channel(dbsession)
    first, second = make_staff(dbsession, settings, clock, "first"), make_staff(dbsession, settings, clock, "second")
    api_login(testapp, first, clock)
    dbsession.expire_all()
    in_memory = dbsession.scalars(select(LoginSession)).one()  # loaded again, as the database stores it
    api_login(testapp, second, clock)
    assert dbsession.scalar(select(func.count()).select_from(LoginSession)) == 2
    assert in_memory.kind == "staff"
