"""A whole installation on a committed database, with a movable clock, for the tick's tests."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone

import pytest
from sqlalchemy import select
from webtest import TestApp

from tests.factories import make_channel, make_staff, sign_directory, submit_api
from whistle.audit.models import AuditEvent
from whistle.intake_channels.models import TIER_SECOND, ChannelGuardian
from whistle.clock import ManualClock
from whistle.config import make_configurator
from whistle.jobs import TickContext, context_from_registry
from whistle.scheduler.tick import run_tick
from whistle.settings import load_settings


@dataclass
class World:
    """An app, its database and its clock; `tick()` runs `whistle tick` in-process."""

    testapp: TestApp
    clock: ManualClock
    ctx: TickContext

    def session(self):
        return self.ctx.session()

    def tick(self) -> list[str]:
        return run_tick(self.ctx)

    def go_to(self, day: date, hour: int = 9) -> None:
        self.clock.set(datetime.combine(day, time(hour), tzinfo=timezone.utc))

    def escalations(self, case_ref: str | None = None) -> list[dict]:
        """The `case.escalated` audit details so far, oldest first, with the day they happened."""
        from whistle.cases.models import Case

        with self.session() as dbsession:
            query = select(AuditEvent).where(AuditEvent.action == "case.escalated").order_by(AuditEvent.seq)
            if case_ref:
                query = query.where(AuditEvent.case_id == select(Case.id).where(Case.ref == case_ref).scalar_subquery())
            return [{"day": event.at.date(), **event.detail} for event in dbsession.scalars(query)]


@pytest.fixture
def world(committed_database):
    """world(plugins=(), plaintext=(), start=date) -> a World on a fresh committed database."""

    def build(plugins=(), plaintext=(), start: date = date(2026, 3, 2), name: str = "world",
              sqlite: bool = False) -> World:
        raw = committed_database(name, sqlite=sqlite)
        settings = replace(load_settings(raw, environ={}), plugins=tuple(plugins), plugins_plaintext=tuple(plaintext))
        clock = ManualClock(datetime.combine(start, time(9), tzinfo=timezone.utc))
        app = make_configurator(raw, settings=settings, clock=clock).make_wsgi_app()
        return World(TestApp(app, extra_environ={"HTTP_HOST": "example.com"}), clock,
                     context_from_registry(app.registry))

    return build


def ladder(world: World, slug: str, *, profile: str = "eu_directive"):
    """A channel with a guardian and a second-tier guardian, committed: (channel slug, first, second)."""
    with world.session() as dbsession:
        channel = make_channel(dbsession, slug, deadline_profile=profile)
        first = make_staff(dbsession, world.ctx.settings, world.clock, f"{slug}.first")
        second = make_staff(dbsession, world.ctx.settings, world.clock, f"{slug}.second")
        dbsession.add(ChannelGuardian(channel_id=channel.id, account_id=first.account.id))
        dbsession.add(ChannelGuardian(channel_id=channel.id, account_id=second.account.id, tier=TIER_SECOND))
        sign_directory(dbsession, world.ctx.settings, world.clock)
        dbsession.flush()
        ids = (first.account.id, second.account.id)
    return ids


def days(start: date, end: date):
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


__all__ = ["World", "days", "ladder", "submit_api"]
