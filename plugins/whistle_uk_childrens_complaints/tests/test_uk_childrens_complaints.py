"""UK children's complaints: the bank-holiday data, working-day deadlines, triage and escalation."""
from __future__ import annotations

import calendar
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest

import whistle_uk_childrens_complaints as plugin
from whistle.hooks import Hooks
from whistle.hooks.types import Action, CaseInfo, Disclosure, Triage
from whistle_uk_childrens_complaints.bank_holidays import ENGLAND_AND_WALES
from whistle_uk_childrens_complaints.working_days import add_working_days, is_working_day, subtract_working_days

PROFILE = plugin.UK_CHILDRENS_COMPLAINTS
NAME = "uk_childrens_complaints"

CASE = CaseInfo(id=3, ref="ZXCVB-NMLKJ", channel="young-peoples-voice", status="received", priority="normal",
                labels=(), opened_on=date(2026, 4, 1), acknowledged_on=None, ack_due=date(2026, 4, 17),
                feedback_due=date(2026, 5, 26), detriment=False, deadline_profile=NAME)


# --- The calendar ----------------------------------------------------------------------------------


def easter_sunday(year: int) -> date:
    """The Gregorian computus (Meeus/Jones/Butcher), to check the shipped Easter dates."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l = (32 + 2 * e + 2 * i - h - k) % 7  # noqa: E741 (the letters of the published algorithm)
    m = (a + 11 * h + 22 * l) // 451
    month, day = divmod(h + l - 7 * m + 114, 31)
    return date(year, month, day + 1)


def mondays(year: int, month: int) -> list[date]:
    return [date(year, month, day) for day in range(1, calendar.monthrange(year, month)[1] + 1)
            if date(year, month, day).weekday() == 0]


def by_the_rules(year: int) -> set[date]:
    """The England and Wales bank holidays as the Banking and Financial Dealings Act sets them."""
    easter = easter_sunday(year)
    holidays = {easter - timedelta(days=2), easter + timedelta(days=1),
                mondays(year, 5)[0], mondays(year, 5)[-1], mondays(year, 8)[-1]}
    # Fixed-date holidays that fall on a weekend move to the next weekday not already a holiday.
    for fixed in (date(year, 1, 1), date(year, 12, 25), date(year, 12, 26)):
        day = fixed
        while day.weekday() >= 5 or day in holidays:
            day += timedelta(days=1)
        holidays.add(day)
    return holidays


def test_easter_dates_are_right():
    assert [easter_sunday(year) for year in range(2024, 2029)] == [
        date(2024, 3, 31), date(2025, 4, 20), date(2026, 4, 5), date(2027, 3, 28), date(2028, 4, 16)]


@pytest.mark.parametrize("year", range(2024, 2029))
def test_the_shipped_bank_holidays_follow_the_rules(year):
    assert {day for day in ENGLAND_AND_WALES if day.year == year} == by_the_rules(year)


def test_substitute_days_are_in_the_calendar():
    assert date(2026, 12, 28) in ENGLAND_AND_WALES  # Boxing Day 2026 is a Saturday
    assert {date(2027, 12, 27), date(2027, 12, 28)} <= ENGLAND_AND_WALES  # both on the weekend
    assert date(2028, 1, 3) in ENGLAND_AND_WALES and date(2028, 1, 1) not in ENGLAND_AND_WALES


# --- Working-day deadlines ---------------------------------------------------------------------------


def test_a_case_opened_just_before_christmas_skips_three_bank_holidays_and_two_weekends():
    opened = date(2026, 12, 21)  # a Monday; 25, 28 Dec and 1 Jan are bank holidays
    assert PROFILE.ack_due(opened) == date(2027, 1, 7)
    # Weekends alone would have said 4 January: the holidays are what moves it.
    assert not is_working_day(date(2026, 12, 28)) and not is_working_day(date(2027, 1, 1))


def test_a_case_opened_just_before_easter():
    opened = date(2026, 4, 1)  # Wednesday; Good Friday 3 April, Easter Monday 6 April
    assert PROFILE.ack_due(opened) == date(2026, 4, 17)
    assert PROFILE.stage_deadline(opened, 1, extended=True) == date(2026, 5, 1)
    # Stage 2 from that acknowledgement crosses the early May and spring bank holidays.
    assert PROFILE.feedback_due(opened, date(2026, 4, 17)) == date(2026, 5, 26)


def test_weekend_receipt_counts_from_the_next_working_day():
    assert add_working_days(date(2026, 6, 5), 1) == date(2026, 6, 8)  # Friday -> Monday
    assert PROFILE.ack_due(date(2026, 6, 6)) == PROFILE.ack_due(date(2026, 6, 5)) == date(2026, 6, 19)


def test_stage_deadlines_and_their_extensions():
    start = date(2026, 6, 1)  # a Monday, no bank holiday until 31 August
    assert PROFILE.stage_deadline(start, 1) == date(2026, 6, 15)
    assert PROFILE.stage_deadline(start, 1, extended=True) == date(2026, 6, 29)
    assert PROFILE.stage_deadline(start, 2) == date(2026, 7, 6)
    # 65 working days: 13 full weeks, plus one for the summer bank holiday on 31 August.
    assert PROFILE.stage_deadline(start, 2, extended=True) == date(2026, 9, 1)
    with pytest.raises(ValueError, match="stage must be one of"):
        PROFILE.stage_deadline(start, 3)


def test_feedback_counts_from_acknowledgement_or_else_from_ack_due():
    opened = date(2026, 6, 1)
    assert PROFILE.feedback_due(opened, None) == PROFILE.stage_deadline(date(2026, 6, 15), 2) == date(2026, 7, 20)
    assert PROFILE.feedback_due(opened, date(2026, 6, 2)) == date(2026, 7, 7)


def test_offered_through_the_hook_with_the_deadline_profile_interface():
    (profiles,) = Hooks.from_names([NAME]).call("whistle_deadline_profiles")
    assert [profile.name for profile in profiles] == [NAME]
    assert profiles[0].ack_due(date(2026, 12, 21)) == date(2027, 1, 7)


# --- Triage ------------------------------------------------------------------------------------------


def disclosure(text: str, answers: dict | None = None, channel: str = "young-peoples-voice") -> Disclosure:
    return Disclosure(channel=channel, text=text, answers=answers or {}, identity=None)


@pytest.mark.parametrize("text", [
    "My stepdad HIT ME again last night",
    "i dont feel safe at home",
    "I don’t feel safe when he is there",
    "sometimes I think about suicide",
    "I want to kill  myself",
    "I have been self-harming... I mean I self harm",
    "someone touched me at the club",
    "it is abuse, I know it is",
])
def test_words_of_immediate_risk_make_the_case_urgent(text):
    assert plugin.whistle_triage(CASE, disclosure(text)) == Triage(labels=("urgent-risk",), priority="urgent")


def test_answers_are_read_too():
    assert plugin.whistle_triage(CASE, disclosure("see below", {"where": "home", "what": ["He hurts me"]})) \
        == Triage(labels=("urgent-risk",), priority="urgent")


@pytest.mark.parametrize("text", [
    "The food at the home is not nice and nobody listens",
    "I want more football and a later bedtime",
    "The staff were soon disabused of that idea",  # "abused" inside another word
    "In scouts we tied the knot safely",  # "not safe" inside other words
    "Please keep my room safe from my brother's mess",
    "It was a hit, merry Christmas",
])
def test_ordinary_complaints_are_left_alone(text):
    assert plugin.whistle_triage(CASE, disclosure(text)) is None


def test_other_channels_are_never_triaged():
    staff_case = replace(CASE, channel="staff")
    assert plugin.whistle_triage(staff_case, disclosure("a colleague said he will hurt me", channel="staff")) is None


def test_triage_runs_only_when_the_organisation_allows_it_plaintext():
    arguments: dict[str, Any] = {"case": CASE, "disclosure": disclosure("he hit me")}
    assert Hooks.from_names([NAME]).call("whistle_triage", **arguments) == []
    allowed = Hooks.from_names([NAME], plaintext_allowed=[NAME])
    assert allowed.call("whistle_triage", **arguments) == [Triage(labels=("urgent-risk",), priority="urgent")]


# --- Escalation --------------------------------------------------------------------------------------


def test_an_urgent_risk_case_goes_to_the_safeguarding_lead_when_opened():
    urgent = replace(CASE, labels=("urgent-risk",), priority="urgent")
    hooks = Hooks.from_names([NAME])
    # The safeguarding lead is the channel's second tier: granted the case and told at once.
    assert hooks.call("whistle_escalate_on_event", case=urgent, event="opened") == [[
        Action(kind="grant", rule="uk.safeguarding-lead", to="second_tier"),
        Action(kind="notify", rule="uk.safeguarding-lead", to="second_tier"),
        Action(kind="notify", rule="uk.safeguarding-lead")]]
    assert hooks.call("whistle_escalate_on_event", case=urgent, event="acknowledged") == []


def test_no_escalation_without_the_label_or_on_another_channel():
    assert plugin.whistle_escalate_on_event(CASE, "opened") is None
    other = replace(CASE, channel="staff", labels=("urgent-risk",))
    assert plugin.whistle_escalate_on_event(other, "opened") is None


# --- Scheduled rules (working days) --------------------------------------------------------------


def test_stage_deadlines_remind_two_working_days_ahead_and_escalate_the_day_after_over_easter():
    # Received Wednesday 1 April 2026: Good Friday (3 Apr) and Easter Monday (6 Apr) are not
    # working days, so stage 1 ends on Friday 17 April, not Wednesday 15.
    opened = date(2026, 4, 1)
    ack_due = PROFILE.ack_due(opened)
    assert ack_due == date(2026, 4, 17) == CASE.ack_due
    hooks = Hooks.from_names([NAME])
    fired = {}
    day = opened
    while day <= date(2026, 6, 30):
        results = hooks.call("whistle_escalate_on_schedule", case=CASE, today=day)
        if results:
            fired[day] = results[0]
        day += timedelta(days=1)
    breach = lambda rule: [Action(kind="grant", rule=rule, to="second_tier"),  # noqa: E731
                           Action(kind="notify", rule=rule, to="second_tier"), Action(kind="notify", rule=rule),
                           Action(kind="raise_priority", rule=rule, priority="high")]
    assert fired == {
        date(2026, 4, 15): [Action(kind="notify", rule="uk.stage1-reminder")],  # Wed: 2 working days before Fri 17
        date(2026, 4, 18): breach("uk.stage1-breach"),  # the first day past the deadline
        # Stage 2 ends Tuesday 26 May (after the 25 May bank holiday): the reminder is two working
        # days before it, Thursday 21 May, skipping the weekend and the bank holiday Monday.
        date(2026, 5, 21): [Action(kind="notify", rule="uk.stage2-reminder")],
        date(2026, 5, 27): breach("uk.stage2-breach"),
    }


def test_subtracting_working_days_skips_weekends_and_bank_holidays():
    assert subtract_working_days(date(2026, 4, 7), 1) == date(2026, 4, 2)  # over Easter Monday and Good Friday
    assert subtract_working_days(date(2026, 4, 7), 0) == date(2026, 4, 7)
    with pytest.raises(ValueError, match="count must not be negative"):
        subtract_working_days(date(2026, 4, 7), -1)


def test_scheduled_rules_only_for_cases_on_this_profile():
    other = replace(CASE, deadline_profile="eu_directive")
    assert Hooks.from_names([NAME]).call("whistle_escalate_on_schedule", case=other, today=date(2026, 4, 15)) == []
    acknowledged = replace(CASE, status="acknowledged", acknowledged_on=date(2026, 4, 2))
    assert plugin.schedule_actions(acknowledged, date(2026, 4, 15)) == []  # stage 1 answered


def test_the_rules_fire_only_inside_the_windows_the_plugin_declares_on_every_day_the_calendar_knows():
    # The tick calls the rules only for cases inside a declared window; a reminder two working
    # days before a deadline spans the most calendar days over Easter and Christmas.
    from whistle_uk_childrens_complaints.bank_holidays import FIRST_YEAR, LAST_YEAR

    hooks = Hooks.from_names([NAME])
    windows = [window for declared in hooks.call("whistle_schedule_windows") for window in declared]
    assert windows and all(window.profiles == (NAME,) for window in windows)
    fired = 0
    due = date(FIRST_YEAR, 1, 1)
    while due <= date(LAST_YEAR, 12, 31):
        case = replace(CASE, ack_due=due, feedback_due=due + timedelta(days=40))
        for offset in range(-12, 4):
            day = due + timedelta(days=offset)
            if hooks.call("whistle_escalate_on_schedule", case=case, today=day):
                fired += 1
                assert any(window.first <= (day - getattr(case, window.date)).days <= window.last
                           for window in windows), (due, day)
        due += timedelta(days=1)
    assert fired > 2 * 365 * (LAST_YEAR - FIRST_YEAR)
