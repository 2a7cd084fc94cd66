"""Throttles kept in the database, keyed by purpose, never by client address: the table, fixed
windows counted in it (`count_one`, `spent`), `client_hash`, the only form in which a client's
address may key a throttle, and budgets (`Budget`, `check`, `count`, `forget_ended`): a limit per
client and one across the whole service, checked before the work and counted after it."""
from __future__ import annotations

import ipaddress
import math
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, DateTime, String, and_, delete, or_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from whistle import crypto
from whistle.clock import Clock
from whistle.db import Base
from whistle.i18n import plural
from whistle.jobs import TickContext

# Wrong receipts and lookup values across the whole service (whistle.reporters.services), and a
# lookup value that a new case built on a client finds taken (whistle.intake.e2e).
RECEIPT_FAILURES = "receipt-failures"
RECEIPT_FAILURES_WINDOW = timedelta(minutes=1)

# Budgets counted for each client (rows f"{purpose}:{client_hash}", per CLIENT_WINDOW) and across
# the service (the row named by the purpose, per SERVICE_WINDOW): reports (whistle.intake.limits),
# wrong receipts from one client and files started (whistle.reporters.limits). The tick's
# "throttles" job forgets their rows once the windows end (forget_ended).
REPORTS = "reports"
# Reports with a valid proof of work, counted across the service apart from the others: they pass
# the service's budget, and counted in it they would let a flood of proven reports spend the
# budget that reporters without JavaScript (who never have a proof) rely on.
PROVEN_REPORTS = "reports-proven"
RECEIPT_TRIES = "receipts"
UPLOADS = "uploads"
BUDGETED = (REPORTS, PROVEN_REPORTS, RECEIPT_TRIES, UPLOADS)
CLIENT_WINDOW = timedelta(minutes=10)
SERVICE_WINDOW = timedelta(minutes=1)


class Throttle(Base):
    """A fixed-window counter: `count` events of `key` since `window_start`.

    Used for things like wrong receipts across the whole service: an attacker guessing
    receipts is slowed down without anyone's address being stored."""

    __tablename__ = "throttles"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    count: Mapped[int] = mapped_column(default=0)


@dataclass(frozen=True)
class ClosedWindow:
    """A throttle window that has ended: `count` events of its key from `start` to `end`."""

    start: datetime
    end: datetime
    count: int


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything stored is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def spent(dbsession: Session, clock: Clock, key: str, window: timedelta, budget: int) -> datetime | None:
    """When the current window of `key` ends, if its `budget` is spent; None while it is not. A plain
    read, no lock."""
    row = dbsession.get(Throttle, key)
    if row is None:
        return None
    end = _aware(row.window_start) + window
    return end if end > clock.now() and row.count >= budget else None


def count_one(dbsession: Session, clock: Clock, key: str, window: timedelta) -> ClosedWindow | None:
    """Count one event of `key` in its current window (locking the row). Returns the window this
    closed, if the last one had ended with events in it, so the caller can record its count."""
    now = clock.now()
    row = dbsession.get(Throttle, key, with_for_update=True)
    if row is None:
        try:
            with dbsession.begin_nested():
                dbsession.add(Throttle(key=key, window_start=now, count=1))
            return None
        except IntegrityError:  # another node made it first
            row = dbsession.get(Throttle, key, with_for_update=True)
            assert row is not None
    closed = close_ended(row, clock, window)
    row.count += 1
    return closed


def close_ended(row: Throttle, clock: Clock, window: timedelta) -> ClosedWindow | None:
    """Start a new, empty window on `row` if its window has ended; returns the ended window if
    anything was counted in it (the caller holds the row's lock)."""
    now, start = clock.now(), _aware(row.window_start)
    if start + window > now:
        return None
    closed = ClosedWindow(start, start + window, row.count) if row.count else None
    row.window_start, row.count = now, 0
    return closed


# --- Telling clients apart without storing who they are ---------------------------------------
#
# A per-client limit needs some handle on the client. The address is hashed with a key derived for
# the hour from the session key file (whistle.crypto.client_hour_key, docs/crypto.md 6.17). Every
# node holds the same key file, so every node counts a client in the same rows: a client spreading
# its requests over several nodes gets the per-client budget once, not once per node. The price:
# whoever holds the session key file and a throttle row, while the row lives (a reporter's budget
# rows until the tick forgets them after CLIENT_WINDOW; sign-in rows up to two hours), can test
# guesses of the address that made it. The hash keys throttle rows only, and is never logged.

CLIENT_KEY_LIFETIME = timedelta(hours=1)  # a new subkey each hour: without the key file, rows of two hours do not link


# The addresses every request has when the client's own is not passed on: the reverse proxy and
# Tor connect from loopback (docs/operations.md, "Limits"). No client is told apart by them.
NOT_A_CLIENT = frozenset({"", "127.0.0.1", "::1"})


def client_hash(environ: dict, clock: Clock, purpose: str, session_key: bytes) -> str | None:
    """A short keyed hash of the client's address (`REMOTE_ADDR`, which waitress sets from a
    trusted proxy's header when its `trusted_proxy` options say so) under the hour's subkey of
    `session_key` (the session key file's), for keying throttles; the same on every node. None
    when the address says nothing of the client (NOT_A_CLIENT, or not an address), and then only
    the service-wide budgets apply. An IPv6 address is taken by its /64: one household or server
    has a whole /64 and could otherwise seem to be endless clients. `purpose` is hashed in, so the
    rows of one client for different purposes (a report, a sign-in) cannot be linked to each other
    by someone reading the database. Never log the hash or store it beyond the throttle row it keys."""
    address = str(environ.get("REMOTE_ADDR") or "")
    if address in NOT_A_CLIENT:
        return None
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is None:
        address = str(ipaddress.IPv6Network((ip, 64), strict=False).network_address)
    hour = int(clock.now().timestamp() // CLIENT_KEY_LIFETIME.total_seconds())
    return crypto.client_tag(crypto.client_hour_key(session_key, hour), purpose, address)


# --- Budgets: so many events per window, for one client or for the whole service --------------
#
# A budget is checked with plain reads before the work it guards (no lock is held while, say, an
# Argon2id runs or a file streams in), and counted once the work is done, just before the
# transaction commits, so its row is locked only for that moment. Requests running at the same
# moment can each pass the check before any of them is counted: a budget may be overrun by the
# requests in flight (a handful), never by more.


@dataclass(frozen=True)
class Budget:
    """At most `events` of `key` per `window` (fixed windows, counted in the throttles table)."""

    key: str
    events: int
    window: timedelta


class BudgetSpent(Exception):
    """A budget is spent: `retry_after` whole seconds (at least 1) until its window ends."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"try again in {retry_after} seconds")
        self.retry_after = retry_after

    @property
    def minutes_words(self) -> str:
        """The wait in whole minutes, in words for people in the page's language: "1 minute", "7 minutes"."""
        minutes = max(1, math.ceil(self.retry_after / 60))
        return plural("${count} minute", "${count} minutes", minutes)


def client_key(purpose: str, client: str) -> str:
    """The key of `purpose`'s row for one client (`client`: a client_hash)."""
    return f"{purpose}:{client}"


def client_budget(purpose: str, client: str | None, events: int, window: timedelta) -> list[Budget]:
    """The budget of `purpose` for one client, or none when the client cannot be told apart."""
    return [] if client is None else [Budget(client_key(purpose, client), events, window)]


# Refusals because a limit was spent, by the limit's name, in this process (for /metrics): a count
# per name, never who was refused.
_refusals: dict[str, int] = {}
_refusals_lock = threading.Lock()


def refused(limit: str) -> None:
    """Count one request refused because `limit` (a purpose, never a client's key) was spent."""
    with _refusals_lock:
        _refusals[limit] = _refusals.get(limit, 0) + 1


def refusal_counts() -> dict[str, int]:
    with _refusals_lock:
        return dict(_refusals)


def limit_name(key: str) -> str:
    """A budget's key as a limit's name: "reports" (the service's) or "reports per client"."""
    purpose, per_client, _ = key.partition(":")
    return f"{purpose} per client" if per_client else purpose


def check(dbsession: Session, clock: Clock, budgets: Iterable[Budget], *, more: int = 1) -> None:
    """Raise BudgetSpent, with the longest wait, if any of `budgets` has no room for `more` events
    in its current window (counting the refusal by the limits spent). Plain reads, no lock."""
    now, ends, spent_limits = clock.now(), [], []
    for budget in budgets:
        row = dbsession.get(Throttle, budget.key)
        end = _aware(row.window_start) + budget.window if row is not None else now
        counted = row.count if row is not None and end > now else 0
        if counted + more > budget.events:
            ends.append(end if end > now else now + budget.window)
            spent_limits.append(limit_name(budget.key))
    if ends:
        for name in spent_limits:
            refused(name)
        raise BudgetSpent(max(1, math.ceil((max(ends) - now).total_seconds())))


def count(dbsession: Session, clock: Clock, budgets: Iterable[Budget]) -> None:
    """Count one event in each of `budgets`, in the order given: callers give a client's budget
    before the service's, so two transactions always lock rows in the same order."""
    for budget in budgets:
        count_one(dbsession, clock, budget.key, budget.window)


def forget_ended(dbsession: Session, clock: Clock, purposes: Iterable[str] = BUDGETED) -> int:
    """Delete the rows of `purposes` whose window has ended (the service's after SERVICE_WINDOW,
    each client's after CLIENT_WINDOW); returns how many went. Nothing is lost: a row whose window
    has ended counts as empty. Left behind, a row would say when someone last sent something, and
    a client's row outlives its hourly key only as clutter."""
    now = clock.now()
    forgotten = 0
    for purpose in purposes:
        ended = or_(and_(Throttle.key == purpose, Throttle.window_start <= now - SERVICE_WINDOW),
                    and_(Throttle.key.startswith(f"{purpose}:", autoescape=True),
                         Throttle.window_start <= now - CLIENT_WINDOW))
        result = dbsession.execute(delete(Throttle).where(ended))
        forgotten += cast(CursorResult[Any], result).rowcount or 0  # a DELETE: a CursorResult, typed as Result
    return forgotten


def forget_ended_job(ctx: TickContext) -> list[str]:
    """The tick's "throttles" job: forget the budgets' rows whose windows have ended (a line only
    when some went)."""
    with ctx.session() as dbsession:
        forgotten = forget_ended(dbsession, ctx.clock)
    return [f"throttles: {forgotten} ended windows forgotten"] if forgotten else []


def includeme(config) -> None:
    # After the areas' jobs: it only tidies.
    config.add_scheduled_job("throttles", forget_ended_job, order=60)
