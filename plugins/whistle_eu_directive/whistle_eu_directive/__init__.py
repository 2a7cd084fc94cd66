"""EU Whistleblowing Directive (2019/1937, Art. 9) deadlines, reminders and breach escalation.

The deadline arithmetic itself lives in core (`whistle.deadlines.EU_DIRECTIVE`: acknowledge
within 7 days, feedback within 3 months of acknowledgement); this plugin offers that profile and
adds the schedule rules around it.

Every rule fires on exactly one date, so the scheduled tick (daily, or more often) never repeats
it:

- eu.ack-reminder       on ack_due - 2 days, while the case is still "received";
- eu.ack-breach         on ack_due + 1 day (the first day past the deadline), if still "received";
- eu.feedback-reminder  on feedback_due - 14 days, while no feedback has been given;
- eu.feedback-breach    on feedback_due + 1 day, if still no feedback has been given.

A due date is the last day on which the duty can still be met, so a breach starts the day after.
A breach grants the case to the channel's second-tier guardians and notifies them and the case's
own guardians (core resolves `to="second_tier"`; see docs/plugins.md).
"""
from __future__ import annotations

from datetime import date, timedelta

from whistle import hookimpl
from whistle.deadlines import EU_DIRECTIVE, DeadlineProfile
from whistle.hooks.types import PRIORITIES, Action, CaseInfo, ScheduleWindow

ACK_REMINDER_DAYS = 2
FEEDBACK_REMINDER_DAYS = 14
BREACH_PRIORITY = "high"

# Statuses in which the feedback duty has been met (or no longer applies).
FEEDBACK_DONE = frozenset({"feedback_given", "closed"})


@hookimpl
def whistle_deadline_profiles() -> list[DeadlineProfile]:
    return [EU_DIRECTIVE]


def _breach(case: CaseInfo, rule: str) -> list[Action]:
    """A deadline has passed: bring in the channel's second tier (they get the case and a notice),
    tell the case's own guardians, and raise the priority."""
    actions = [Action(kind="grant", rule=rule, to="second_tier"), Action(kind="notify", rule=rule, to="second_tier"),
               Action(kind="notify", rule=rule)]
    # Only ever raise: a case a guardian already marked urgent stays urgent.
    if PRIORITIES.index(case.priority) < PRIORITIES.index(BREACH_PRIORITY):
        actions.append(Action(kind="raise_priority", rule=rule, priority=BREACH_PRIORITY))
    return actions


def schedule_actions(case: CaseInfo, today: date) -> list[Action]:
    """The actions due for `case` on `today` (empty on most days)."""
    actions: list[Action] = []
    one_day = timedelta(days=1)
    if case.status == "received":
        if today == case.ack_due - timedelta(days=ACK_REMINDER_DAYS):
            actions.append(Action(kind="notify", rule="eu.ack-reminder"))
        elif today == case.ack_due + one_day:
            actions.extend(_breach(case, "eu.ack-breach"))
    if case.status not in FEEDBACK_DONE:
        if today == case.feedback_due - timedelta(days=FEEDBACK_REMINDER_DAYS):
            actions.append(Action(kind="notify", rule="eu.feedback-reminder"))
        elif today == case.feedback_due + one_day:
            actions.extend(_breach(case, "eu.feedback-breach"))
    return actions


@hookimpl
def whistle_schedule_windows() -> list[ScheduleWindow]:
    """The four dates above, so the tick calls the rules only for cases on one of them."""
    profiles = (EU_DIRECTIVE.name,)
    return [ScheduleWindow("ack_due", -ACK_REMINDER_DAYS, -ACK_REMINDER_DAYS, profiles),
            ScheduleWindow("ack_due", 1, 1, profiles),
            ScheduleWindow("feedback_due", -FEEDBACK_REMINDER_DAYS, -FEEDBACK_REMINDER_DAYS, profiles),
            ScheduleWindow("feedback_due", 1, 1, profiles)]


@hookimpl
def whistle_escalate_on_schedule(case: CaseInfo, today: date) -> list[Action] | None:
    if case.deadline_profile != EU_DIRECTIVE.name:  # another profile's dates, another's rules
        return None
    return schedule_actions(case, today) or None
