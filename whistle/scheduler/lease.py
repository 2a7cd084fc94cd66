"""A single-writer lease: on SQLite, at most one tick at a time runs the scheduled work.

PostgreSQL claims work row by row (`FOR UPDATE SKIP LOCKED`), so ticks on many nodes share it.
SQLite has no row locks, so there a tick first takes the lease "tick": one row whose holder and
expiry are set by a single conditional UPDATE, which SQLite's one-writer-at-a-time locking makes
atomic. A second tick finds the lease held and does nothing; a tick that dies leaves a lease
that simply expires (`TTL`), and the holder renews it between batches while it works.
"""
from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from datetime import timedelta
from typing import Any, Self, cast

from sqlalchemy import CursorResult, insert, update
from sqlalchemy.exc import IntegrityError

from whistle.jobs import TickContext
from whistle.scheduler.models import SchedulerLease

log = logging.getLogger(__name__)

TTL = timedelta(minutes=5)
RENEW_EVERY = timedelta(seconds=20)  # well inside the TTL, and rarely enough to cost nothing


def new_holder() -> str:
    """Who is asking: host, process and a random part (one process may run several ticks)."""
    return f"{socket.gethostname()[:64]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


class Lease:
    """`with Lease(ctx, "tick") as lease:` then `if lease.held:` ... `lease.renew()` as you go."""

    def __init__(self, ctx: TickContext, name: str, holder: str | None = None) -> None:
        self.ctx, self.name, self.holder = ctx, name, holder or new_holder()
        self.held = False
        self._renewed = 0.0

    def acquire(self) -> bool:
        """Take the lease if it is free, expired, or already ours; True if we hold it now."""
        now = self.ctx.clock.now()
        with self.ctx.session() as dbsession:
            taken = cast(CursorResult[Any], dbsession.execute(  # an UPDATE: a CursorResult, typed as Result
                update(SchedulerLease)
                .where(SchedulerLease.name == self.name,
                       (SchedulerLease.expires_at < now) | (SchedulerLease.holder == self.holder))
                .values(holder=self.holder, expires_at=now + TTL)
            )).rowcount
        if not taken:
            try:
                with self.ctx.session() as dbsession:
                    dbsession.execute(insert(SchedulerLease).values(name=self.name, holder=self.holder,
                                                                    expires_at=now + TTL))
                taken = 1
            except IntegrityError:  # someone else holds it (the row exists and is not expired)
                taken = 0
        self.held = bool(taken)
        self._renewed = time.monotonic()
        return self.held

    def renew(self) -> None:
        """Push the expiry on; call between units of work (it writes at most every RENEW_EVERY).
        Losing the lease (it expired and another tick took it) is logged, and raises LeaseLost."""
        if not self.held or time.monotonic() - self._renewed < RENEW_EVERY.total_seconds():
            return
        if not self.acquire():
            log.warning("the %s lease expired and was taken by another tick; stopping", self.name)
            raise LeaseLost(self.name)

    def release(self) -> None:
        if not self.held:
            return
        with self.ctx.session() as dbsession:
            dbsession.execute(update(SchedulerLease)
                              .where(SchedulerLease.name == self.name, SchedulerLease.holder == self.holder)
                              .values(expires_at=self.ctx.clock.now() - timedelta(seconds=1)))
        self.held = False

    def __enter__(self) -> Self:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


class LeaseLost(Exception):
    """Another tick took over the lease: this one must stop writing."""
