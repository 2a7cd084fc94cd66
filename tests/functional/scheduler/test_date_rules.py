"""The tick looks only at the cases whose date rules can fire, and misses none of them: many cases
over many days, each rule's firings compared with what the rule itself says, day by day."""
from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy import func, insert, select, update

import whistle_eu_directive
from tests.functional.scheduler.conftest import days, ladder, submit_api
from tests.plugins import acknowledged_check_plugin, weekly_plugin
from whistle.audit import verify_chain
from whistle.audit.models import AuditEvent
from whistle.cases.models import HOLDER_GUARDIAN, Case, CaseGrant
from whistle.deadlines import EU_DIRECTIVE
from whistle.escalations.models import ScheduleMark
from whistle.escalations.schedule import MARK, checkin_actions
from whistle.hooks.types import CaseInfo
from whistle.intake_channels.models import Channel
from whistle.notifications.models import Notification

START = date(2026, 3, 2)


def add_cases(world, slug: str, guardian: int, opened: list[tuple[date, str]]) -> list[int]:
    """Metadata-only cases (dummy keys: the date rules read no key) held by `guardian`, one per
    (opened on, status), with the EU profile's dates; acknowledged the day after opening unless
    still "received". Their rules were last run the day before START."""
    with world.session() as dbsession:
        channel_id = dbsession.scalar(select(Channel.id).where(Channel.slug == slug))
        first = (dbsession.scalar(select(func.max(Case.id))) or 0) + 1
        key, rows, grants = bytes(32), [], []
        for n, (opened_on, status) in enumerate(opened):
            acknowledged = None if status == "received" else opened_on + timedelta(days=1)
            case_id = first + n
            rows.append({"id": case_id, "ref": f"T{case_id:09d}", "channel_id": channel_id, "status": status,
                         "priority": "normal", "public_key": key, "team_public_key": key,
                         "reporter_lookup_id": case_id.to_bytes(32, "big"), "reporter_public_key": key,
                         "opened_on": opened_on, "acknowledged_on": acknowledged,
                         "ack_due": EU_DIRECTIVE.ack_due(opened_on),
                         "feedback_due": EU_DIRECTIVE.feedback_due(opened_on, acknowledged), "detriment": False,
                         "changes": [], "schedule_checked_on": START - timedelta(days=1),
                         "shred_handle": case_id.to_bytes(16, "big")})
            grants.append({"case_id": case_id, "holder": HOLDER_GUARDIAN, "account_id": guardian,
                           "wrapped_case_key": key, "granted_on": opened_on})
        dbsession.execute(insert(Case), rows)
        dbsession.execute(insert(CaseGrant), grants)
    return [first + n for n in range(len(opened))]


def fired_since(world, seq: int) -> dict[int, set[str]]:
    """case id -> the rules that escalated it, in audit events after `seq`."""
    fired: dict[int, set[str]] = defaultdict(set)
    with world.session() as dbsession:
        for case_id, detail in dbsession.execute(select(AuditEvent.case_id, AuditEvent.detail).where(
                AuditEvent.seq > seq, AuditEvent.action == "case.escalated")):
            fired[case_id].add(detail["rule"])
    return dict(fired)


def last_seq(world) -> int:
    with world.session() as dbsession:
        return dbsession.scalar(select(func.max(AuditEvent.seq))) or 0


def infos(world) -> dict[int, CaseInfo]:
    with world.session() as dbsession:
        return {case.id: CaseInfo(id=case.id, ref=case.ref, channel="staff", status=case.status,
                                  priority=case.priority, labels=(), opened_on=case.opened_on,
                                  acknowledged_on=case.acknowledged_on, ack_due=case.ack_due,
                                  feedback_due=case.feedback_due, detriment=False)
                for case in dbsession.scalars(select(Case))}


def test_over_many_cases_each_day_fires_exactly_the_rules_due_and_looks_only_at_the_cases_that_can_be_due(world):
    world = world(plugins=["eu_directive"], start=START)
    first, _ = ladder(world, "staff")
    # 240 cases opened over the 120 days before START, half still unacknowledged: each day a
    # few of them reach a reminder or a deadline, the rest nothing.
    ids = add_cases(world, "staff", first, [(START - timedelta(days=n // 2), "received" if n % 2 else "investigating")
                                            for n in range(240)])
    with world.session() as dbsession:
        dbsession.add(ScheduleMark(name=MARK, checked_through=START - timedelta(days=1)))
    looked_at = []
    for day in days(START, START + timedelta(days=30)):
        world.go_to(day)
        before, cases = last_seq(world), infos(world)
        looked_at.append(int(world.tick()[0].split()[1]))
        # What the plugin's own rules and core's check-ins say for each case on this day, against
        # what the tick did.
        expected = {case_id: {action.rule for action in whistle_eu_directive.schedule_actions(info, day)
                              + checkin_actions(info, day, world.ctx.settings.checkin_months)}
                    for case_id, info in cases.items()}
        assert fired_since(world, before) == {case_id: rules for case_id, rules in expected.items() if rules}, day
        assert world.tick()[0] == "escalations: 0 cases checked, 0 actions"  # later ticks of the day
    assert sum(looked_at) > 0 and max(looked_at) <= 12, f"looked at {looked_at} of {len(ids)} cases a day"
    with world.session() as dbsession:
        assert verify_chain(dbsession).intact
        assert dbsession.scalar(select(ScheduleMark.checked_through)) == START + timedelta(days=30)


def test_a_reminder_among_many_cases_is_sent_once_to_the_holders_with_every_outbox_row_and_audit_event(world):
    world = world(plugins=["eu_directive"], start=START)
    first, _ = ladder(world, "staff")
    # 300 cases whose day-5 reminder is today (carried out together), among 300 that are due nothing.
    due = add_cases(world, "staff", first, [(START - timedelta(days=5), "received")] * 300)
    add_cases(world, "staff", first, [(START - timedelta(days=20), "investigating")] * 300)
    with world.session() as dbsession:
        dbsession.add(ScheduleMark(name=MARK, checked_through=START - timedelta(days=1)))
        notices = dbsession.scalar(select(func.count()).select_from(Notification))
    before = last_seq(world)
    assert world.tick()[0] == "escalations: 300 cases checked, 300 actions (300 notify)"
    assert fired_since(world, before) == {case_id: {"eu.ack-reminder"} for case_id in due}
    with world.session() as dbsession:
        assert dbsession.scalar(select(func.count()).select_from(Notification)) == notices + 300
        assert verify_chain(dbsession).intact
    world.go_to(START, hour=15)
    assert world.tick()[0] == "escalations: 0 cases checked, 0 actions"


def test_a_plugins_own_rule_fires_on_the_day_it_declares_once_a_later_change_makes_the_case_due(world):
    world = world(plugins=["eu_directive", "tests.plugins.acknowledged_check_plugin"], start=START)
    first, _ = ladder(world, "staff")
    ref = submit_api(world.testapp, "staff")["case"]
    add_cases(world, "staff", first, [(START - timedelta(days=n), "investigating") for n in range(50)])
    for day in days(START, START + timedelta(days=5)):
        world.go_to(day)
        world.tick()
    # Acknowledged on the sixth day (after the EU reminder): its check is due five days later, a
    # day no EU rule can fire on.
    with world.session() as dbsession:
        dbsession.execute(update(Case).where(Case.ref == ref).values(status="acknowledged",
                                                                     acknowledged_on=START + timedelta(days=5)))
    for day in days(START + timedelta(days=6), START + timedelta(days=14)):
        world.go_to(day)
        world.tick()
    assert [(e["day"], e["rule"]) for e in world.escalations(ref)] == [
        (START + timedelta(days=5), "eu.ack-reminder"), (START + timedelta(days=10), acknowledged_check_plugin.RULE)]


def test_a_plugin_that_declares_no_windows_runs_for_every_open_case_every_day_beside_one_that_does(world):
    world = world(plugins=["eu_directive", "tests.plugins.weekly_plugin"], start=START)
    first, _ = ladder(world, "staff")
    ids = add_cases(world, "staff", first, [(START - timedelta(days=n), "investigating") for n in range(14)])
    with world.session() as dbsession:
        dbsession.add(ScheduleMark(name=MARK, checked_through=START - timedelta(days=1)))
    for day in days(START, START + timedelta(days=6)):
        world.go_to(day)
        before = last_seq(world)
        assert world.tick()[0].startswith("escalations: 14 cases checked")
        # Each case's seventh day: two of the fourteen every day.
        assert fired_since(world, before) == {
            case_id: {weekly_plugin.RULE} for n, case_id in enumerate(ids) if (day - (START - timedelta(days=n))).days % 7 == 0
            and day > START - timedelta(days=n)}


def test_ticks_on_two_nodes_at_once_fire_each_reminder_once_and_the_mark_moves_on(world):
    """On PostgreSQL the two share the cases by row locks; on SQLite one holds the lease."""
    import threading

    from whistle.scheduler.tick import run_tick

    world = world(plugins=["eu_directive"], start=START)
    first, _ = ladder(world, "staff")
    due = add_cases(world, "staff", first, [(START - timedelta(days=5), "received")] * 1200)
    with world.session() as dbsession:
        dbsession.add(ScheduleMark(name=MARK, checked_through=START - timedelta(days=1)))
    before, start = last_seq(world), threading.Barrier(2)

    def tick():
        start.wait()
        run_tick(world.ctx)

    nodes = [threading.Thread(target=tick) for _ in range(2)]
    for node in nodes:
        node.start()
    for node in nodes:
        node.join()
    world.tick()  # whatever one left to the other is done by now, or by this one
    assert fired_since(world, before) == {case_id: {"eu.ack-reminder"} for case_id in due}
    with world.session() as dbsession:
        assert verify_chain(dbsession).intact
        assert dbsession.scalar(select(ScheduleMark.checked_through)) == START


def test_a_case_whose_rules_failed_is_tried_again_by_the_next_ticks_though_the_mark_moved_on(world, monkeypatch):
    from whistle.escalations import schedule

    from tests.plugins import recording_plugin

    world = world(plugins=["eu_directive", "tests.plugins.recording_plugin"], start=START)
    first, _ = ladder(world, "staff")
    fine, broken = add_cases(world, "staff", first, [(START - timedelta(days=5), "received")] * 2)
    recording_plugin.CALLS.clear()
    with world.session() as dbsession:
        dbsession.add(ScheduleMark(name=MARK, checked_through=START - timedelta(days=3)))  # two days missed
    real = schedule.apply_actions

    def breaks_on_one_case(dbsession, clock, case, actions, **kwargs):
        if case.id == broken:
            raise RuntimeError("a bug")
        return real(dbsession, clock, case, actions, **kwargs)

    monkeypatch.setattr(schedule, "apply_actions", breaks_on_one_case)
    before = last_seq(world)
    assert world.tick()[0] == "escalations: 1 cases checked, 1 actions (1 notify), 1 failed (retried next tick)"
    assert world.tick()[0].endswith("1 failed (retried next tick)")  # tried again, and again
    with world.session() as dbsession:
        assert dbsession.scalar(select(ScheduleMark.checked_through)) == START  # the mark moved on all the same
    monkeypatch.setattr(schedule, "apply_actions", real)
    world.go_to(START + timedelta(days=1))  # the reminder was due on START: caught up a day late
    assert world.tick()[0] == "escalations: 1 cases checked, 1 actions (1 notify)"
    world.go_to(START + timedelta(days=2))
    world.tick()
    assert fired_since(world, before) == {broken: {"eu.ack-reminder"}, fine: {"eu.ack-reminder"}}
    # Announced once each, though the batch that held the other case was undone and carried out
    # case by case.
    assert sorted(call[:3] for call in recording_plugin.CALLS if call[0] == "escalated") == [
        ("escalated", f"T{case_id:09d}", "eu.ack-reminder") for case_id in (fine, broken)]
