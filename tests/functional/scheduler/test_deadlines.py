"""The tick moves cases through their deadlines: the clock is moved day by day and the exact
notifications and escalations are asserted (EU Directive; UK children's complaints in working
days over the Easter bank holidays)."""
from __future__ import annotations

from collections import Counter
from datetime import date

from sqlalchemy import select

from tests.functional.scheduler.conftest import days, ladder, submit_api
from whistle.cases.models import HOLDER_GUARDIAN, HOLDER_STANDBY, Case, CaseGrant
from whistle.notifications.models import Notification


def _notices_by_account(world) -> Counter:
    with world.session() as dbsession:
        return Counter(dbsession.scalars(select(Notification.account_id)))


def _holders(world, ref) -> dict[int, str]:
    with world.session() as dbsession:
        case_id = dbsession.scalar(select(Case.id).where(Case.ref == ref))
        return dict(dbsession.execute(select(CaseGrant.account_id, CaseGrant.holder).where(
            CaseGrant.case_id == case_id, CaseGrant.account_id.is_not(None))).all())


def test_eu_day_5_reminder_then_breach_escalation_to_the_second_tier_the_day_after_day_7(world):
    world = world(plugins=["eu_directive"], start=date(2026, 3, 2))
    first, second = ladder(world, "staff")
    ref = submit_api(world.testapp, "staff")["case"]
    assert _holders(world, ref) == {first: HOLDER_GUARDIAN, second: HOLDER_STANDBY}

    seen: dict[date, tuple[list[dict], Counter]] = {}
    for day in days(date(2026, 3, 2), date(2026, 3, 12)):
        world.go_to(day)
        before_events, before_notices = len(world.escalations(ref)), _notices_by_account(world)
        world.tick()
        events = world.escalations(ref)[before_events:]
        notices = _notices_by_account(world) - before_notices
        if events or notices:
            seen[day] = ([{k: v for k, v in e.items() if k != "day"} for e in events], notices)

    # Opened Monday 2 March: acknowledgement due by Monday 9 March (7 days).
    assert seen == {
        date(2026, 3, 7): ([{"rule": "eu.ack-reminder", "kind": "notify", "recipients": 1}], Counter({first: 1})),
        date(2026, 3, 10): ([
            {"rule": "eu.ack-breach", "kind": "grant", "audience": "second_tier", "account_ids": [second]},
            {"rule": "eu.ack-breach", "kind": "notify", "audience": "second_tier", "recipients": 1},
            {"rule": "eu.ack-breach", "kind": "notify", "recipients": 2},
            {"rule": "eu.ack-breach", "kind": "raise_priority", "from": "normal", "to": "high"},
        ], Counter({first: 1, second: 3})),  # the second tier: given the case, and both notify rules
    }
    assert _holders(world, ref) == {first: HOLDER_GUARDIAN, second: HOLDER_GUARDIAN}  # the second tier has it now


def test_a_second_tick_on_the_same_day_does_nothing_and_a_missed_day_is_caught_up(world):
    world = world(plugins=["eu_directive"], start=date(2026, 3, 2))
    first, _ = ladder(world, "staff")
    ref = submit_api(world.testapp, "staff")["case"]
    world.go_to(date(2026, 3, 3))
    world.tick()
    # The server is down from 4 to 8 March: the day-5 reminder (7 March) is fired on the 8th.
    world.go_to(date(2026, 3, 8))
    assert world.tick()[0] == "escalations: 1 cases checked, 1 actions (1 notify)"
    assert [e["rule"] for e in world.escalations(ref)] == ["eu.ack-reminder"]
    assert world.tick()[0] == "escalations: 0 cases checked, 0 actions"
    world.go_to(date(2026, 3, 8), hour=23)
    assert world.tick()[0] == "escalations: 0 cases checked, 0 actions"
    assert [e["rule"] for e in world.escalations(ref)] == ["eu.ack-reminder"]


def test_acknowledging_in_time_stops_the_breach(world):
    world = world(plugins=["eu_directive"], start=date(2026, 3, 2))
    first, _ = ladder(world, "staff")
    ref = submit_api(world.testapp, "staff")["case"]
    with world.session() as dbsession:
        dbsession.scalars(select(Case).where(Case.ref == ref)).one().status = "acknowledged"
    for day in days(date(2026, 3, 2), date(2026, 3, 20)):
        world.go_to(day)
        world.tick()
    assert world.escalations(ref) == []


def test_uk_working_day_deadlines_over_the_easter_bank_holidays(world):
    world = world(plugins=["uk_childrens_complaints"], start=date(2026, 4, 1))
    first, second = ladder(world, "young-peoples-voice", profile="uk_childrens_complaints")
    ref = submit_api(world.testapp, "young-peoples-voice", text="Nobody answers the phone at the home.")["case"]
    with world.session() as dbsession:
        case = dbsession.scalars(select(Case).where(Case.ref == ref)).one()
        # Wednesday 1 April 2026; Good Friday 3 and Easter Monday 6 April are not working days.
        assert (case.ack_due, case.feedback_due) == (date(2026, 4, 17), date(2026, 5, 26))
    for day in days(date(2026, 4, 1), date(2026, 5, 31)):
        world.go_to(day)
        world.tick()
    fired = [(e["day"], e["rule"], e["kind"], e.get("audience")) for e in world.escalations(ref)]
    assert fired == [
        (date(2026, 4, 15), "uk.stage1-reminder", "notify", None),
        (date(2026, 4, 18), "uk.stage1-breach", "grant", "second_tier"),
        (date(2026, 4, 18), "uk.stage1-breach", "notify", "second_tier"),
        (date(2026, 4, 18), "uk.stage1-breach", "notify", None),
        (date(2026, 4, 18), "uk.stage1-breach", "raise_priority", None),
        # Stage 2 ends Tuesday 26 May, after the 25 May bank holiday: reminder Thursday 21 May.
        (date(2026, 5, 21), "uk.stage2-reminder", "notify", None),
        (date(2026, 5, 27), "uk.stage2-breach", "notify", "second_tier"),  # already granted on 18 April
        (date(2026, 5, 27), "uk.stage2-breach", "notify", None),
    ]
    assert _holders(world, ref) == {first: HOLDER_GUARDIAN, second: HOLDER_GUARDIAN}


def test_a_check_in_question_opening_tells_the_guardians_even_after_the_case_closed(world):
    world = world(start=date(2026, 1, 15))  # no plugins: check-ins are core's
    first, _ = ladder(world, "staff")
    ref = submit_api(world.testapp, "staff")["case"]
    with world.session() as dbsession:
        dbsession.scalars(select(Case).where(Case.ref == ref)).one().status = "closed"
    opened = _notices_by_account(world)  # the new report's notice
    world.go_to(date(2026, 4, 14))
    assert world.tick()[:2] == ["escalations: 1 cases checked, 0 actions", "check-ins: 0 questions opened"]
    world.go_to(date(2026, 4, 15))  # three months after the report: the first question opens
    assert world.tick()[:2] == ["escalations: 1 cases checked, 0 actions", "check-ins: 1 questions opened"]
    assert _notices_by_account(world) - opened == Counter({first: 1})
    assert [(e["rule"], e["kind"]) for e in world.escalations(ref)] == [("core.checkin-opened", "notify")]
    world.go_to(date(2026, 4, 16))
    assert world.tick()[1] == "check-ins: 0 questions opened"


def test_no_check_in_question_opens_on_a_channel_whose_reporters_are_not_staff(world):
    from whistle.intake_channels.models import Channel

    world = world(start=date(2026, 1, 15))
    staff_guardian, _ = ladder(world, "staff")
    young_guardian, _ = ladder(world, "young")
    with world.session() as dbsession:
        dbsession.scalars(select(Channel).where(Channel.slug == "young")).one().reporters_are_staff = False
    staff_ref = submit_api(world.testapp, "staff")["case"]
    young_ref = submit_api(world.testapp, "young")["case"]
    opened = _notices_by_account(world)  # each new report's notice
    world.go_to(date(2026, 4, 15))  # three months on: the staff reporter's first question opens, and only theirs
    assert world.tick()[:2] == ["escalations: 2 cases checked, 0 actions", "check-ins: 1 questions opened"]
    assert _notices_by_account(world) - opened == Counter({staff_guardian: 1})
    assert world.escalations(young_ref) == [] and len(world.escalations(staff_ref)) == 1
