"""The date rules: each case's escalation rules (`whistle_escalate_on_schedule`) and check-in
openings, run once per case per day, catching up on days the tick missed.

A case carries `schedule_checked_on`, the last day its rules were run for. A tick takes the
cases whose day is behind today, in batches by id; for each it runs the rules for every day
from the one after `schedule_checked_on` up to today (at most `MAX_CATCH_UP_DAYS`), carries out
the actions in the same transaction, and sets the day. So a second tick on the same day finds
nothing to do, and a tick after a weekend outage still fires Saturday's reminder.

Open cases are checked; closed ones too while a check-in can still come due (check-ins go on
after a case closes). A channel whose reporters are not staff has no check-ins.
"""
from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import or_, select, update

from whistle.cases.info import build_case_info, labels_by_case
from whistle.cases.lifecycle import CLOSED
from whistle.cases.models import Case
from whistle.deadlines import add_months
from whistle.escalations.services import actions_from, apply_actions
from whistle.hooks.types import Action, CaseInfo
from whistle.intake_channels.models import Channel
from whistle.intake_channels.services import checkin_months_for
from whistle.jobs import TickContext

log = logging.getLogger(__name__)

BATCH = 500
MAX_CATCH_UP_DAYS = 62  # a longer outage: the oldest days are skipped (and logged)
CHECKIN_RULE = "core.checkin-opened"
SCHEDULE_HOOK = "whistle_escalate_on_schedule"


@dataclass
class ScheduleReport:
    cases: int = 0
    actions: Counter = field(default_factory=Counter)  # by kind: notify, grant, raise_priority
    checkins: int = 0  # check-in questions that opened (their guardians were told)
    failed: int = 0

    def count(self, applied: list[Action]) -> None:
        for action in applied:
            if action.rule == CHECKIN_RULE:
                self.checkins += 1
            else:
                self.actions[action.kind] += 1

    def summary(self) -> list[str]:
        """Two lines: the date rules of the plugins (reminders, escalations), and check-ins."""
        total = sum(self.actions.values())
        kinds = f" ({', '.join(f'{n} {kind}' for kind, n in sorted(self.actions.items()))})" if total else ""
        failed = f", {self.failed} failed (retried next tick)" if self.failed else ""
        return [f"escalations: {self.cases} cases checked, {total} actions{kinds}{failed}",
                f"check-ins: {self.checkins} questions opened"]


def days_to_check(case, today: date) -> list[date]:
    first = case.schedule_checked_on + timedelta(days=1) if case.schedule_checked_on else case.opened_on
    if (today - first).days >= MAX_CATCH_UP_DAYS:
        log.warning("a case's date rules were last run %s days ago; only the last %s are caught up",
                    (today - first).days, MAX_CATCH_UP_DAYS)
        first = today - timedelta(days=MAX_CATCH_UP_DAYS - 1)
    return [first + timedelta(days=n) for n in range((today - first).days + 1)]


def checkin_actions(case, day: date, months: tuple[int, ...]) -> list[Action]:
    """A check-in question opens in the reporter's mailbox today: tell the case's guardians, who
    may want to send the reporter a message (the reporter themself cannot be notified)."""
    if any(add_months(case.opened_on, month) == day for month in months):
        return [Action(kind="notify", rule=CHECKIN_RULE)]
    return []


# What the rules need of a case, read as plain rows (an ORM object is loaded only for a case
# whose rules asked for something).
CASE_COLUMNS = (Case.id, Case.ref, Case.channel_id, Case.status, Case.priority, Case.opened_on, Case.acknowledged_on,
                Case.ack_due, Case.feedback_due, Case.detriment, Case.schedule_checked_on)


def _due_cases(ctx: TickContext, today: date):
    """Cases whose rules are behind today: open ones, and closed ones still inside the check-in span."""
    last_checkin = max(ctx.settings.checkin_months, default=0)
    checkins_from = today - timedelta(days=31 * last_checkin + 1)
    return select(*CASE_COLUMNS).where(or_(Case.schedule_checked_on.is_(None), Case.schedule_checked_on < today),
                                       or_(Case.status != CLOSED, Case.opened_on >= checkins_from))


def _actions_due(ctx: TickContext, call_hook, case, info: CaseInfo, today: date,
                 checkin_months: tuple[int, ...]) -> list[Action]:
    """What the case's date rules ask for on each day since they last ran (usually nothing)."""
    actions: list[Action] = []
    for day in days_to_check(case, today):
        if case.status != CLOSED:
            results = call_hook.named(SCHEDULE_HOOK, case=info, today=day)
            actions += actions_from(results, hook=SCHEDULE_HOOK, dbsession=call_hook.dbsession, clock=call_hook.clock)
        actions += checkin_actions(case, day, checkin_months)
    return actions


def run_schedule(ctx: TickContext) -> ScheduleReport:
    """Run the date rules of every case that is behind today; see the module docstring."""
    today = ctx.clock.today()
    report = ScheduleReport()
    last_id = 0
    with ctx.session() as dbsession:
        channels = {row.id: (row.slug, row.deadline_profile, checkin_months_for(ctx.settings, row.reporters_are_staff))
                    for row in dbsession.execute(select(Channel.id, Channel.slug, Channel.deadline_profile,
                                                        Channel.reporters_are_staff))}
    while True:
        with ctx.session() as dbsession:
            rows = dbsession.execute(
                _due_cases(ctx, today).where(Case.id > last_id).order_by(Case.id).limit(BATCH)
                .with_for_update(of=Case, skip_locked=True)
            ).all()
            if not rows:
                break
            last_id = rows[-1].id
            labels = labels_by_case(dbsession, [row.id for row in rows])
            call_hook = ctx.call_hook(dbsession)
            checked = []
            for row in rows:
                try:
                    slug, profile, checkin_months = channels[row.channel_id]
                    info = build_case_info(row, slug, profile, labels[row.id])
                    actions = _actions_due(ctx, call_hook, row, info, today, checkin_months)
                    if actions:  # rare: a savepoint, so one case's failure cannot undo the batch
                        with dbsession.begin_nested():
                            case = dbsession.get_one(Case, row.id)
                            report.count(apply_actions(dbsession, ctx.clock, case, actions, call_hook=call_hook))
                    checked.append(row.id)
                except Exception as error:  # noqa: BLE001 - logged by type; the case is retried next tick
                    log.error("the date rules of a case failed (%s); it is retried next tick", type(error).__name__)
                    report.failed += 1
            # One statement for the batch: most days nothing fired, and a row-by-row flush would
            # cost more than the rules themselves.
            dbsession.execute(update(Case).where(Case.id.in_(checked)).values(schedule_checked_on=today)
                              .execution_options(synchronize_session=False))
            report.cases += len(checked)
        ctx.heartbeat()
    return report


def schedule_job(ctx: TickContext) -> list[str]:
    """The tick's "escalations" job: every case's date rules, then its two summary lines."""
    return run_schedule(ctx).summary()
