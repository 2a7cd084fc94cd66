"""The one clock: all "now" and deadline arithmetic goes through it, so tests can move time."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta


class Clock:
    """Wall-clock time in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self) -> date:
        return self.now().date()

    def record_time(self) -> datetime:
        """The time written on a record made now (an audit event, an outbox row): the moment itself."""
        return self.now()


def start_of_day(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


class ReportersClock(Clock):
    """The clock of a request a reporter makes. It tells the time as the clock it wraps does
    (sessions, throttles and deadlines need the moment), but every record written while serving
    the request — the reporter's audit events and the system's (routing, triage, escalation at
    intake), the outbox rows of the notices it queues — is dated to the day: a finer time on any
    of them would say when the reporter acted."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    def now(self) -> datetime:
        return self.clock.now()

    def record_time(self) -> datetime:
        return start_of_day(self.now())


class ManualClock(Clock):
    """A clock that stands still until moved: for tests and benchmarks."""

    def __init__(self, start: datetime) -> None:
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta

    def set(self, moment: datetime) -> None:
        self._now = moment
