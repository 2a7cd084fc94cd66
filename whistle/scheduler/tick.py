"""One tick: every scheduled job once (whistle.jobs: the areas register them), then a summary line per kind.

Run by `whistle -c FILE tick` (cron or a systemd timer, on any number of nodes) and, with
`whistle.scheduler.embedded = true`, every minute by a thread in the app (thread.py).

Safe to run anywhere at once: on PostgreSQL each job claims its rows with
`FOR UPDATE SKIP LOCKED`, so ticks on several nodes share the work and never do one item twice;
on SQLite the whole tick runs under a single-writer lease (lease.py), so a second tick started
meanwhile does nothing. Idempotent: what a tick did is recorded in the same transaction as the
work (the schedule mark and `cases.schedule_checked_on`, notification states), so running it
again does nothing more.
"""
from __future__ import annotations

import logging
from dataclasses import replace

from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from whistle.jobs import TickContext
from whistle.scheduler.lease import Lease, LeaseLost
from whistle.scheduler.models import JobRun

log = logging.getLogger(__name__)

LEASE_NAME = "tick"


def run_tick(ctx: TickContext) -> list[str]:
    """Run every job once; returns one summary line per kind (or why nothing was done)."""
    if ctx.uses_row_locks:
        return _run_jobs(ctx)
    with Lease(ctx, LEASE_NAME) as lease:
        if not lease.held:
            return ["tick: another tick holds the lease (SQLite runs one at a time); nothing done"]
        try:
            return _run_jobs(replace(ctx, heartbeat=lease.renew))
        except LeaseLost:
            return ["tick: stopped, the lease was lost to another tick; it carries on from here"]


def _run_jobs(ctx: TickContext) -> list[str]:
    """Each registered job in turn; one that fails is logged (by type) and the next still runs."""
    lines, succeeded = [], []
    for job in ctx.jobs.in_order():
        try:
            said = job.run(ctx)
            lines.extend([said] if isinstance(said, str) else said)
            succeeded.append(job.name)
        except LeaseLost:
            raise
        except Exception as error:  # noqa: BLE001 - never a traceback with data in it; the type says enough
            log.error("tick job %s failed: %s", job.name, type(error).__name__)
            lines.append(f"{job.name}: failed ({type(error).__name__}); retried next tick")
        ctx.heartbeat()
    _record_successes(ctx, succeeded)
    return lines


def _record_successes(ctx: TickContext, names: list[str]) -> None:
    """When these jobs last succeeded (JobRun, for /metrics): one upsert each, in one transaction.
    Never fails the tick: the work is done and committed whatever this says."""
    if not names:
        return
    now = ctx.clock.now()
    try:
        with ctx.session() as dbsession:
            upsert = postgresql_insert if dbsession.get_bind().dialect.name == "postgresql" else sqlite_insert
            for name in names:
                statement = upsert(JobRun).values(name=name[:64], succeeded_at=now)
                dbsession.execute(statement.on_conflict_do_update(
                    index_elements=[JobRun.name], set_={"succeeded_at": statement.excluded.succeeded_at}))
    except Exception as error:  # noqa: BLE001 - as above: the type says enough
        log.error("tick: could not record when its jobs succeeded: %s", type(error).__name__)
