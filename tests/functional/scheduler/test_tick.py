"""The tick's machinery: the SQLite lease, failure isolation, and the embedded scheduler thread."""
from __future__ import annotations

import time
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests.functional.scheduler.conftest import ladder, submit_api
from whistle.audit.models import AuditEvent
from whistle.cases.models import Case
from whistle.config import make_configurator
from whistle.escalations import schedule
from whistle.jobs import context_from_registry
from whistle.scheduler import tick
from whistle.scheduler import lease as lease_module
from whistle.scheduler.lease import Lease, LeaseLost
from whistle.scheduler.models import JobRun
from whistle.scheduler.thread import EmbeddedScheduler


def test_one_holder_at_a_time_holds_the_lease_and_on_sqlite_a_second_tick_does_nothing(world):
    world = world()
    first, second = Lease(world.ctx, "tick"), Lease(world.ctx, "tick")
    assert first.acquire() and not second.acquire()
    if not world.ctx.uses_row_locks:  # PostgreSQL shares the work by row locks instead
        assert tick.run_tick(world.ctx) == [
            "tick: another tick holds the lease (SQLite runs one at a time); nothing done"]
    first.renew()  # the holder may renew
    first.release()
    assert second.acquire()
    # A holder that died: its lease runs out and anyone may take it.
    world.clock.advance(timedelta(minutes=6))
    assert first.acquire() and not second.acquire()
    first.release()


def test_a_holder_whose_lease_expired_and_was_taken_stops_at_its_next_renewal(world, monkeypatch):
    world = world()
    monkeypatch.setattr(lease_module, "RENEW_EVERY", timedelta(0))
    slow, other = Lease(world.ctx, "tick"), Lease(world.ctx, "tick")
    assert slow.acquire()
    world.clock.advance(timedelta(minutes=6))  # the slow tick did not renew in time
    assert other.acquire()
    with pytest.raises(LeaseLost):
        slow.renew()
    other.release()


def test_a_case_whose_rules_fail_is_retried_next_tick_and_the_others_go_on(world, monkeypatch):
    world = world(plugins=["eu_directive"], start=date(2026, 3, 2))
    ladder(world, "staff")
    refs = [submit_api(world.testapp, "staff")["case"] for _ in range(3)]
    world.go_to(date(2026, 3, 7))  # the day-5 reminder for all three
    real = schedule.apply_actions
    with world.session() as dbsession:
        broken_id = dbsession.scalar(select(Case.id).where(Case.ref == refs[1]))

    def breaks_on_one_case(dbsession, clock, case, actions, **kwargs):
        if case.id == broken_id:
            raise RuntimeError("a bug")
        return real(dbsession, clock, case, actions, **kwargs)

    monkeypatch.setattr(schedule, "apply_actions", breaks_on_one_case)
    assert world.tick()[0] == "escalations: 2 cases checked, 2 actions (2 notify), 1 failed (retried next tick)"
    monkeypatch.setattr(schedule, "apply_actions", real)
    assert world.tick()[0] == "escalations: 1 cases checked, 1 actions (1 notify)"
    assert sorted(e["rule"] for e in world.escalations()) == ["eu.ack-reminder"] * 3


def test_a_failing_job_does_not_stop_the_next(world, monkeypatch):
    world = world()

    def broken(ctx):
        raise RuntimeError("a bug with private words in it")

    monkeypatch.setattr(schedule, "run_schedule", broken)
    lines = world.tick()
    assert lines[0] == "escalations: failed (RuntimeError); retried next tick"
    assert lines[1].startswith("protection alerts:") and lines[2].startswith("notifications:")


def test_the_tick_records_when_each_job_last_succeeded_and_not_a_failed_one(world, monkeypatch):
    world = world()
    world.tick()
    with world.session() as dbsession:
        first = {run.name: run.succeeded_at for run in dbsession.scalars(select(JobRun))}
    assert set(first) == {job.name for job in world.ctx.jobs.in_order()}

    def broken(ctx):
        raise RuntimeError("a bug")

    monkeypatch.setattr(schedule, "run_schedule", broken)
    world.clock.advance(timedelta(minutes=1))
    world.tick()
    with world.session() as dbsession:
        second = {run.name: run.succeeded_at for run in dbsession.scalars(select(JobRun))}
    assert second["escalations"] == first["escalations"]  # it failed: its time stands still
    assert second["notifications"] - first["notifications"] == timedelta(minutes=1)


def test_what_a_date_rule_returns_that_core_cannot_use_is_dropped_and_audited_once_a_day(world):
    world = world(plugins=["tests.plugins.sloppy_plugin"], start=date(2026, 3, 2))
    ladder(world, "staff")
    submit_api(world.testapp, "staff")
    world.go_to(date(2026, 3, 4))  # the 3rd and the 4th: two days' rules
    assert world.tick()[0] == "escalations: 1 cases checked, 0 actions"
    with world.session() as dbsession:
        dropped = [(e.detail, e.at.date()) for e in dbsession.scalars(
            select(AuditEvent).where(AuditEvent.action == "plugin.action_dropped").order_by(AuditEvent.seq))
            if e.detail["hook"] == "whistle_escalate_on_schedule"]
    detail = {"plugin": "tests.plugins.sloppy_plugin", "hook": "whistle_escalate_on_schedule", "type": "int"}
    assert dropped == [(detail, date(2026, 3, 4))] * 3, "the 2nd (opened), 3rd and 4th, each dropped"


def test_the_tick_runs_the_jobs_the_areas_register_in_their_order(committed_database):
    config = make_configurator(committed_database("jobs"))
    registered = [job.name for job in config.registry.scheduled_jobs.in_order()]
    assert registered == [
        "escalations", "protection alerts", "records", "notifications", "recovery failures", "sign-in throttles",
        "key directory", "unfinished uploads", "partial blobs", "shred wraps", "unreferenced blobs", "throttles", "audit checkpoint"], \
        "each area registers its own"
    config.add_scheduled_job("test reminders", lambda ctx: f"test reminders: {ctx.clock.today()}", order=25)
    registry = config.make_wsgi_app().registry
    try:
        lines = tick.run_tick(context_from_registry(registry))
    finally:
        registry["db_engine"].dispose()
    assert [line.split(":")[0] for line in lines] == [
        "escalations", "check-ins", "protection alerts", "test reminders", "notifications", "key directory",
        "audit checkpoint"]
    assert lines[3] == f"test reminders: {registry.clock.today()}"


def test_the_embedded_scheduler_ticks_in_a_thread(world):
    world = world(plugins=["eu_directive"], start=date(2026, 3, 2))
    ladder(world, "staff")
    ref = submit_api(world.testapp, "staff")["case"]
    world.go_to(date(2026, 3, 7))
    registry = world.testapp.app.registry
    scheduler = EmbeddedScheduler(registry)
    scheduler.interval = 0.05
    scheduler.start()
    try:
        deadline = time.monotonic() + 10
        while not world.escalations(ref) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        scheduler.stop()
    assert [e["rule"] for e in world.escalations(ref)] == ["eu.ack-reminder"]
    assert not scheduler._thread.is_alive()
