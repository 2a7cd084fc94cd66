"""Scheduled jobs: what the tick runs, and what each job gets (a TickContext).

Each area registers its own jobs in its includeme: `config.add_scheduled_job(name, run, order=...)`,
where `run(ctx)` does the work and returns its summary line (or lines). The tick
(whistle.scheduler.tick) runs every registered job once, lowest `order` first; `name` is what the
tick's line says when the job fails.

A job runs outside any request, so it opens its own short transactions (`with ctx.session() as
dbsession:`), one per batch of work: a crash then loses at most the batch in hand, and row locks
(PostgreSQL) are held only while that batch is worked on.
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from whistle.clock import Clock
from whistle.events import EventBus
from whistle.hooks import HookCaller, Hooks, hook_caller
from whistle.settings import Settings


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[TickContext], str | list[str]]
    order: int


class Jobs:
    """The app's scheduled jobs (registry.scheduled_jobs), in the order the tick runs them."""

    def __init__(self) -> None:
        self._jobs: list[Job] = []

    def add(self, name: str, run: Callable[[TickContext], str | list[str]], *, order: int) -> None:
        if any(job.name == name for job in self._jobs):
            raise ValueError(f"a scheduled job named {name!r} is registered already")
        self._jobs.append(Job(name, run, order))

    def in_order(self) -> list[Job]:
        return sorted(self._jobs, key=lambda job: job.order)


@dataclass(frozen=True)
class TickContext:
    session_factory: sessionmaker
    settings: Settings
    clock: Clock
    hooks: Hooks
    events: EventBus
    jobs: Jobs  # what the tick runs
    notification_channels: Mapping[str, Any] = field(default_factory=dict)  # name -> NotificationChannel
    deadline_profiles: Mapping[str, Any] = field(default_factory=dict)
    # Jobs call this between units of work (a batch, a guardian): on SQLite it renews the tick's
    # lease (and raises LeaseLost if another tick took it over), elsewhere it does nothing.
    heartbeat: Callable[[], None] = field(default=lambda: None, repr=False)

    @property
    def uses_row_locks(self) -> bool:
        """PostgreSQL: claim rows with FOR UPDATE SKIP LOCKED. SQLite has no row locks: there the
        whole tick runs under a single-writer lease (whistle.scheduler.lease) instead."""
        return self.session_factory.kw["bind"].dialect.name == "postgresql"

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        with self.session_factory() as dbsession, dbsession.begin():
            yield dbsession

    def call_hook(self, dbsession: Session) -> HookCaller:
        """`request.call_hook` for a job: a plugin that raises is audited in `dbsession`, and
        events are published to the app's subscribers."""
        return hook_caller(self.hooks, self.events, dbsession, self.clock)


def context_from_registry(registry) -> TickContext:
    """The context of a running app (the embedded scheduler, and `whistle tick` via the app)."""
    return TickContext(
        session_factory=registry["dbsession_factory"],
        settings=registry.whistle_settings,
        clock=registry.clock,
        hooks=registry.hooks,
        events=registry.events,
        jobs=registry.scheduled_jobs,
        notification_channels=getattr(registry, "notification_channels", {}),
        deadline_profiles=getattr(registry, "deadline_profiles", {}),
    )


def includeme(config) -> None:
    config.registry.scheduled_jobs = Jobs()

    def add_scheduled_job(config, name: str, run, *, order: int) -> None:
        """Have the tick run `run(ctx)` (a summary line, or lines) among its jobs, by `order`."""
        config.registry.scheduled_jobs.add(name, config.maybe_dotted(run), order=order)

    config.add_directive("add_scheduled_job", add_scheduled_job)
