"""Opening, resolving and closing login sessions (staff and reporter alike)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from whistle import crypto
from whistle.clock import Clock
from whistle.sessions.models import REPORTER_E2E, STAFF, LoginSession
from whistle.settings import Settings


@dataclass(frozen=True)
class OpenSession:
    """A resolved session: the row and the private key it carries, unwrapped for this request."""

    row: LoginSession
    private_key: bytes


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything we store is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# A session's idle expiry moves on only when it would move by at least this much: one write
# a minute instead of one per request, because on SQLite that write takes the database's only
# write lock for the rest of the request.
EXPIRY_STEP = timedelta(minutes=1)


def idle_limit(settings: Settings, kind: str) -> timedelta:
    return settings.staff_session_idle if kind == STAFF else settings.reporter_session_idle


def open_session(
    dbsession: Session,
    settings: Settings,
    clock: Clock,
    *,
    kind: str,
    private_key: bytes,
    account_id: int | None = None,
    case_id: int | None = None,
) -> str:
    """Store a new session and return its token, which only the client keeps.

    Expired sessions (anyone's) are deleted first, so their wrapped keys and expiry times do not
    linger in the database until someone presents the same token again."""
    token = crypto.new_session_token()
    now = clock.now()
    delete_expired_sessions(dbsession, now)
    dbsession.add(
        LoginSession(
            token_id=crypto.session_token_id(token, settings.session_key),
            kind=kind,
            account_id=account_id,
            case_id=case_id,
            wrapped_key=crypto.wrap_for_session(private_key, token, settings.session_key),
            created_at=now if kind == STAFF else None,
            idle_expires_at=now + idle_limit(settings, kind),
            absolute_expires_at=now + settings.staff_session_absolute if kind == STAFF else None,
        )
    )
    dbsession.flush()
    return token


# What an end-to-end reporter session's wrap holds instead of a private key: it has none.
NO_PRIVATE_KEY = bytes(32)


def open_e2e_reporter_session(dbsession: Session, settings: Settings, clock: Clock, *, case_id: int) -> str:
    """A new end-to-end reporter session on the case (REPORTER_E2E: no private key in it); its token."""
    return open_session(dbsession, settings, clock, kind=REPORTER_E2E, private_key=NO_PRIVATE_KEY, case_id=case_id)


def open_staff_device_session(dbsession: Session, settings: Settings, clock: Clock, *, account_id: int) -> str:
    """A staff session in device mode: it holds no key (the guardian's device does); its token."""
    return open_session(dbsession, settings, clock, kind=STAFF, private_key=NO_PRIVATE_KEY, account_id=account_id)


def resolve_session(
    dbsession: Session, settings: Settings, clock: Clock, token: str, kind: str | None
) -> OpenSession | None:
    """The live session for `token` (of `kind`, if given), its idle expiry pushed on; None if
    unknown or expired."""
    token_id = crypto.session_token_id(token, settings.session_key)
    row = dbsession.scalars(select(LoginSession).where(LoginSession.token_id == token_id)).one_or_none()
    if row is None or (kind is not None and row.kind != kind):
        return None
    now = clock.now()
    expired = _aware(row.idle_expires_at) <= now or (
        row.absolute_expires_at is not None and _aware(row.absolute_expires_at) <= now
    )
    if expired:
        dbsession.delete(row)
        return None
    try:
        private_key = crypto.unwrap_for_session(row.wrapped_key, token, settings.session_key)
    except crypto.DecryptionFailed:
        return None
    new_expiry = now + idle_limit(settings, row.kind)
    if new_expiry - _aware(row.idle_expires_at) >= EXPIRY_STEP:
        row.idle_expires_at = new_expiry
    return OpenSession(row=row, private_key=private_key)


def seconds_left(row: LoginSession, now: datetime) -> int:
    """How long the session has from `now` before it ends if nothing more happens: its idle expiry,
    or its absolute one when that comes first (what a page's sign-out warning counts down from)."""
    ends = _aware(row.idle_expires_at)
    if row.absolute_expires_at is not None:
        ends = min(ends, _aware(row.absolute_expires_at))
    return max(0, int((ends - now).total_seconds()))


def extend_session(row: LoginSession, settings: Settings, clock: Clock) -> int:
    """A full idle limit from now, whatever EXPIRY_STEP would round it to: the person asked to stay
    signed in, so the warning must not come back a minute early. The seconds left afterwards."""
    now = clock.now()
    row.idle_expires_at = now + idle_limit(settings, row.kind)
    return seconds_left(row, now)


def delete_expired_sessions(dbsession: Session, now: datetime) -> None:
    # "fetch": the database says which rows went, rather than SQLAlchemy comparing the sessions
    # already in memory in Python, where SQLite's times (read back without a zone) cannot be
    # compared with an aware `now`.
    dbsession.execute(
        delete(LoginSession).where(
            (LoginSession.idle_expires_at <= now)
            | (LoginSession.absolute_expires_at.is_not(None) & (LoginSession.absolute_expires_at <= now))
        ).execution_options(synchronize_session="fetch")
    )


def close_session(dbsession: Session, settings: Settings, token: str) -> None:
    token_id = crypto.session_token_id(token, settings.session_key)
    dbsession.execute(delete(LoginSession).where(LoginSession.token_id == token_id))
