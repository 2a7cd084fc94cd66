"""The EU Directive plugin: its profile, and which actions the daily tick gets on which day."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import whistle_eu_directive as plugin
from whistle.deadlines import EU_DIRECTIVE
from whistle.hooks import Hooks
from whistle.hooks.types import Action, CaseInfo

OPENED = date(2026, 3, 2)
ACK_DUE = EU_DIRECTIVE.ack_due(OPENED)  # 2026-03-09
FEEDBACK_DUE = EU_DIRECTIVE.feedback_due(OPENED, None)  # 2026-06-09

CASE = CaseInfo(id=7, ref="QWERT-ASDFG", channel="staff", status="received", priority="normal", labels=(),
                opened_on=OPENED, acknowledged_on=None, ack_due=ACK_DUE, feedback_due=FEEDBACK_DUE,
                detriment=False)


def days(start: date, end: date):
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


def actions_by_day(case: CaseInfo, start: date, end: date) -> dict[date, list[Action]]:
    """Run the hook for every day in [start, end], like a daily tick; keep the days that acted."""
    hooks = Hooks.from_names(["eu_directive"])  # through the entry point, as an organisation enables it
    fired = {}
    for day in days(start, end):
        results = hooks.call("whistle_escalate_on_schedule", case=case, today=day)
        if results:
            fired[day] = results[0]
    return fired


def breach(rule: str, priority: str | None = "high") -> list[Action]:
    """Second tier granted and told, the case's guardians told, priority raised (unless higher)."""
    actions = [Action(kind="grant", rule=rule, to="second_tier"), Action(kind="notify", rule=rule, to="second_tier"),
               Action(kind="notify", rule=rule)]
    return actions + ([Action(kind="raise_priority", rule=rule, priority=priority)] if priority else [])


def test_offers_the_core_eu_profile():
    hooks = Hooks.from_names(["eu_directive"])
    assert hooks.call("whistle_deadline_profiles") == [[EU_DIRECTIVE]]
    assert ACK_DUE == date(2026, 3, 9) and FEEDBACK_DUE == date(2026, 6, 9)


def test_an_unacknowledged_case_gets_one_reminder_then_one_breach_per_deadline():
    fired = actions_by_day(CASE, OPENED, FEEDBACK_DUE + timedelta(days=30))
    assert fired == {
        date(2026, 3, 7): [Action(kind="notify", rule="eu.ack-reminder")],
        date(2026, 3, 10): breach("eu.ack-breach"),
        date(2026, 5, 26): [Action(kind="notify", rule="eu.feedback-reminder")],
        date(2026, 6, 10): breach("eu.feedback-breach"),
    }


def test_nothing_fires_on_the_due_date_itself():
    # The due date is the last day to act: it is not yet a breach.
    assert plugin.schedule_actions(CASE, ACK_DUE) == []
    assert plugin.schedule_actions(CASE, FEEDBACK_DUE) == []


def test_an_acknowledged_case_gets_only_the_feedback_rules_from_its_acknowledgement_date():
    acknowledged_on = date(2026, 3, 4)
    case = replace(CASE, status="investigating", acknowledged_on=acknowledged_on,
                   feedback_due=EU_DIRECTIVE.feedback_due(OPENED, acknowledged_on))
    fired = actions_by_day(case, OPENED, case.feedback_due + timedelta(days=30))
    assert case.feedback_due == date(2026, 6, 4)
    assert fired == {
        date(2026, 5, 21): [Action(kind="notify", rule="eu.feedback-reminder")],
        date(2026, 6, 5): breach("eu.feedback-breach"),
    }


def test_no_feedback_rules_once_feedback_is_given_or_the_case_is_closed():
    for status in ("feedback_given", "closed"):
        case = replace(CASE, status=status, acknowledged_on=date(2026, 3, 4))
        assert actions_by_day(case, OPENED, FEEDBACK_DUE + timedelta(days=30)) == {}


def test_a_breach_never_lowers_an_urgent_case():
    case = replace(CASE, priority="urgent")
    assert plugin.schedule_actions(case, ACK_DUE + timedelta(days=1)) == breach("eu.ack-breach", priority=None)


def test_cases_on_another_deadline_profile_are_left_to_that_profile_s_rules():
    case = replace(CASE, deadline_profile="uk_childrens_complaints")
    assert actions_by_day(case, OPENED, FEEDBACK_DUE + timedelta(days=30)) == {}


def test_running_the_tick_twice_on_a_day_gives_the_same_single_set():
    # The hook is a pure function of (case, day): the core runs it at most once per case per day.
    day = ACK_DUE - timedelta(days=2)
    assert plugin.schedule_actions(CASE, day) == plugin.schedule_actions(CASE, day) == [
        Action(kind="notify", rule="eu.ack-reminder")]


def outside_every_window(hooks: Hooks, case: CaseInfo, day: date) -> bool:
    return not any((not window.profiles or case.deadline_profile in window.profiles)
                   and getattr(case, window.date) is not None
                   and window.first <= (day - getattr(case, window.date)).days <= window.last
                   for windows in hooks.call("whistle_schedule_windows") for window in windows)


def test_the_rules_fire_only_inside_the_windows_the_plugin_declares():
    # The tick calls the rules only for cases inside a declared window: a rule outside every
    # window would never fire.
    hooks = Hooks.from_names(["eu_directive"])
    fired = 0
    for opened in days(date(2026, 1, 1), date(2026, 12, 31)):
        for status, acknowledged in (("received", None), ("acknowledged", opened + timedelta(days=3)),
                                     ("investigating", opened + timedelta(days=6))):
            case = replace(CASE, opened_on=opened, status=status, acknowledged_on=acknowledged,
                           ack_due=EU_DIRECTIVE.ack_due(opened),
                           feedback_due=EU_DIRECTIVE.feedback_due(opened, acknowledged))
            for day in days(opened, case.feedback_due + timedelta(days=3)):
                if hooks.call("whistle_escalate_on_schedule", case=case, today=day):
                    fired += 1
                    assert not outside_every_window(hooks, case, day), (case, day)
    assert fired > 1000


def test_the_windows_are_for_cases_on_the_eu_profile_only():
    hooks = Hooks.from_names(["eu_directive"])
    other = replace(CASE, deadline_profile="uk_childrens_complaints")
    assert outside_every_window(hooks, other, date(2026, 3, 7))
    assert not outside_every_window(hooks, CASE, date(2026, 3, 7))
