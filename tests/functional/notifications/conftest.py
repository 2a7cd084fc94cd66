"""Scheduled-work fixtures: a fresh SQLite file per module, with COMMITTED data, and TickContexts.

A tick opens its own transactions, so these tests cannot use the doomed `dbsession` of
tests/conftest.py: everything here is really committed, to a database of the module's own
(always SQLite: PostgreSQL concurrency is covered by the scheduler's own tests).

    def test_x(tick_app):
        world = tick_app(plugins=["smtp"], raw={"whistle_smtp.host": ...}, notification_max_attempts=3)
        with world.session() as dbsession: ...        # one committed transaction
        deliver_due(world.ctx)
        world.clock.advance(...)
        world.testapp.get("/admin/notifications")    # WebTest over the same app, committing
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timezone

import pytest
from sqlalchemy import delete
from webtest import TestApp

from tests.conftest import app_settings
from tests.factories import make_staff
from whistle.cli.database import upgrade
from whistle.clock import ManualClock
from whistle.config import make_configurator
from whistle.notifications.models import Notification, NotificationRecipient
from whistle.jobs import TickContext, context_from_registry
from whistle.settings import load_settings

# aiosmtpd logs from its own thread, sometimes after the test that caused it has ended.
logging.getLogger("mail.log").addHandler(logging.NullHandler())
logging.getLogger("mail.log").propagate = False

START = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


@dataclass
class TickWorld:
    """An app over the module's database, its registry's TickContext, and its movable clock."""

    app: object
    ctx: TickContext
    clock: ManualClock
    testapp: TestApp

    @property
    def settings(self):
        return self.ctx.settings

    def session(self):
        return self.ctx.session()

    def staff(self, username: str, **kwargs):
        """A committed account, still readable after its transaction (for html_login)."""
        with self.session() as dbsession:
            made = make_staff(dbsession, self.settings, self.clock, username, **kwargs)
            dbsession.flush()
            dbsession.expunge(made.account)
        return made


@pytest.fixture(scope="module")
def tick_database(tmp_path_factory):
    """(tmp_dir, raw settings) of a fresh, migrated SQLite file for this module."""
    tmp_dir = tmp_path_factory.mktemp("tick")
    db_url = f"sqlite:///{tmp_dir / 'tick.sqlite'}"
    upgrade(db_url)
    return tmp_dir, app_settings(tmp_dir, db_url)


@pytest.fixture
def tick_app(tick_database):
    """tick_app(plugins=(), plaintext=(), raw={}, start=START, **settings) -> TickWorld.

    `raw` adds .ini keys (e.g. plugin settings, which reach plugins through whistle_configure);
    `settings` replaces fields of the typed Settings (e.g. notification_max_attempts=3).
    The outbox is emptied first, so each test starts with nothing due."""
    _tmp_dir, base_raw = tick_database
    built = []

    def build(plugins=(), plaintext=(), raw=None, start=START, **overrides) -> TickWorld:
        raw_settings = {**base_raw, **(raw or {})}
        settings = replace(load_settings(raw_settings, environ={}), plugins=tuple(plugins),
                           plugins_plaintext=tuple(plaintext), **overrides)
        clock = ManualClock(start)
        app = make_configurator(raw_settings, settings=settings, clock=clock).make_wsgi_app()
        ctx = context_from_registry(app.registry)
        with ctx.session() as dbsession:
            dbsession.execute(delete(Notification))
            dbsession.execute(delete(NotificationRecipient))
        world = TickWorld(app=app, ctx=ctx, clock=clock, testapp=TestApp(app, extra_environ={"HTTP_HOST": "example.com"}))
        built.append(world)
        return world

    yield build
    for world in built:
        # Plugins keep what whistle_configure gave them at module level: leave them unconfigured.
        world.ctx.hooks.call("whistle_configure", settings={})
        world.app.registry["db_engine"].dispose()
