"""The date rules: each case's escalation rules (`whistle_escalate_on_schedule`) and check-in
openings, run once per case per day, catching up on days the tick missed.

The first tick of a day looks only at the cases whose rules can fire on a day since the last
one, found in SQL by their indexed dates: the plugins declare the days around a case's dates on
which their rules can fire (`whistle_schedule_windows`), and a check-in opens on a whole number
of months after the day a case was opened. Every other case is left alone: its rules would
return nothing. So over 100,000 open cases the first tick of a day costs the few cases that can
be due, not the 100,000 (bench/tick_bench.py).

What is done is recorded so that nothing runs twice and nothing is missed:

- the schedule mark (ScheduleMark "date rules"): the last day the rules ran for every case that
  could be due. It moves on to today once no such case is left (a case another tick holds, on
  PostgreSQL, keeps it back until that tick is done);
- a case that was looked at carries its own day, `schedule_checked_on`. A case's rules run for
  each day after the later of the two, up to today (at most `MAX_CATCH_UP_DAYS`);
- a new case (no day of its own yet) is looked at by the next tick, from the day it was opened;
- a case whose rules failed is flagged (`schedule_retry`) and looked at by every tick until
  they succeed, from the day after its own day.

Before the first mark is set (an installation upgraded to it, or a new one), every case is
looked at once. A plugin that declares no windows makes every open case due every day, as
before (it is logged at start-up). Open cases are checked; closed ones too while a check-in can
still come due (check-ins go on after a case closes). A channel whose reporters are not staff
has no check-ins.

Most days the rules of only a few of the cases looked at fire. Those that do are carried out for
the whole batch at once (one savepoint, the holders and their notice choices read once, the
outbox rows and audit events written together); if that fails, case by case, each in its own
savepoint, so one case's failure cannot undo the others'.
"""
from __future__ import annotations

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, false, insert, or_, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import load_only

from whistle import audit
from whistle.cases.info import build_case_info, labels_by_case
from whistle.cases.lifecycle import CLOSED
from whistle.cases.models import Case
from whistle.deadlines import add_months
from whistle.escalations.models import ScheduleMark
from whistle.escalations.services import Batch, actions_from, apply_actions
from whistle.hooks.manager import DateRuleDays
from whistle.hooks.types import Action, CaseInfo
from whistle.intake_channels.models import Channel
from whistle.intake_channels.services import checkin_months_for
from whistle.jobs import TickContext

log = logging.getLogger(__name__)

BATCH = 500
MAX_CATCH_UP_DAYS = 62  # a longer outage: the oldest days are skipped (and logged)
CHECKIN_RULE = "core.checkin-opened"
SCHEDULE_HOOK = "whistle_escalate_on_schedule"
MARK = "date rules"


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


def days_from(first: date, today: date) -> list[date]:
    """Each day from `first` to `today`, the oldest skipped beyond MAX_CATCH_UP_DAYS."""
    first = max(first, today - timedelta(days=MAX_CATCH_UP_DAYS - 1))
    return [first + timedelta(days=n) for n in range((today - first).days + 1)]


def first_day(case, mark: date | None) -> date:
    """The first day `case`'s rules have not run for: after its own day, or after the mark (see
    the module docstring); from the day it was opened if it has never been looked at."""
    if case.schedule_checked_on is None:
        return case.opened_on
    if case.schedule_retry or mark is None:
        return case.schedule_checked_on + timedelta(days=1)
    return max(mark, case.schedule_checked_on) + timedelta(days=1)


def checkin_actions(case, day: date, months: tuple[int, ...]) -> list[Action]:
    """A check-in question opens in the reporter's mailbox today: tell the case's guardians, who
    may want to send the reporter a message (the reporter themself cannot be notified)."""
    if any(add_months(case.opened_on, month) == day for month in months):
        return [Action(kind="notify", rule=CHECKIN_RULE)]
    return []


def opened_between(months: int, first: date, last: date) -> tuple[date, date]:
    """The days a case can have been opened on for its `months`-month check-in to fall from `first`
    to `last` (a range: add_months never goes backwards; empty when the first is after the last)."""
    one = timedelta(days=1)
    low = add_months(first, -months)
    while add_months(low, months) >= first:
        low -= one
    high = add_months(last, -months)
    while add_months(high, months) <= last:
        high += one
    return low + one, high - one


# What the rules need of a case, read as plain rows (an ORM object is loaded only for a case
# whose rules asked for something).
CASE_COLUMNS = (Case.id, Case.ref, Case.channel_id, Case.status, Case.priority, Case.opened_on, Case.acknowledged_on,
                Case.ack_due, Case.feedback_due, Case.detriment, Case.schedule_checked_on, Case.schedule_retry)


# What carrying out the usual actions (notify, raise_priority) reads of a case.
ACTION_COLUMNS = (Case.id, Case.ref, Case.channel_id, Case.status, Case.priority, Case.opened_on,
                  Case.acknowledged_on, Case.ack_due, Case.feedback_due, Case.detriment)


@dataclass(frozen=True)
class _ChannelRules:
    slug: str
    profile: str
    checkin_months: tuple[int, ...]


def _date_terms(rule_days: DateRuleDays, channels: dict[int, _ChannelRules], since: date,
                today: date) -> list[ColumnElement[bool]]:
    """Cases whose rules can fire on a day from `since` to `today`, as terms to OR together, each
    led by a range of one indexed date (so both engines answer them from the indexes): inside a
    plugin's window on such a day (open cases; all of them if a plugin may fire on any day), or
    with a check-in opening then."""
    terms: list[ColumnElement[bool]] = []
    if rule_days.any_day:
        terms.append(Case.status != CLOSED)
    else:
        for window in rule_days.windows:
            term = and_(getattr(Case, window.date).between(since - timedelta(days=window.last),
                                                           today - timedelta(days=window.first)),
                        Case.status != CLOSED)
            if window.profiles:
                ids = [i for i, channel in channels.items() if channel.profile in window.profiles]
                if not ids:
                    continue
                term = and_(term, _of_channels(ids))
            terms.append(term)
    by_month: dict[int, list[int]] = defaultdict(list)
    for channel_id, channel in channels.items():
        for months in channel.checkin_months:
            by_month[months].append(channel_id)
    for months, ids in sorted(by_month.items()):
        low, high = opened_between(months, since, today)
        if low <= high:
            terms.append(and_(Case.opened_on.between(low, high), _of_channels(ids)))
    return terms


def _of_channels(ids: list[int]) -> ColumnElement[bool]:
    # `+ 0`: a filter, never the index to search by. Without statistics SQLite takes an equality
    # on channel_id for the most selective term, and would read a whole channel for each window.
    return (Case.channel_id + 0).in_(ids)


def _or(terms: list[ColumnElement[bool]]) -> ColumnElement[bool]:
    return or_(*terms) if terms else false()


@dataclass(frozen=True)
class _Plan:
    """What this tick looks for: the cases of `wanted` (terms ORed: new ones, those flagged for a
    retry, and `by_dates`) whose rules have not run today (`behind`). `by_dates` is None when the
    mark is today already: then only new and flagged cases are looked at."""

    today: date
    mark: date | None
    checkins_from: date  # a closed case opened before this day has no check-in left
    by_dates: list[ColumnElement[bool]] | None

    @property
    def wanted(self) -> ColumnElement[bool]:
        new_or_retried = [Case.schedule_checked_on.is_(None), Case.schedule_retry == True]  # noqa: E712 - SQL
        return _or(new_or_retried + (self.by_dates or []))

    def behind(self, case) -> bool:
        """Whether `case` (a row) is still to be looked at today."""
        return ((case.schedule_checked_on is None or case.schedule_checked_on < self.today)
                and (case.status != CLOSED or case.opened_on >= self.checkins_from))

    @property
    def due(self) -> ColumnElement[bool]:
        """`wanted` and `behind` in SQL, to claim rows by id (the row may have changed since)."""
        return and_(or_(Case.schedule_checked_on.is_(None), Case.schedule_checked_on < self.today),
                    or_(Case.status != CLOSED, Case.opened_on >= self.checkins_from), self.wanted)


# The columns `_Plan.behind` reads, with the id.
PLAN_COLUMNS = (Case.id, Case.schedule_checked_on, Case.schedule_retry, Case.status, Case.opened_on)


def _plan(ctx: TickContext, channels: dict[int, _ChannelRules], mark: date | None) -> _Plan:
    today = ctx.clock.today()
    last_checkin = max(ctx.settings.checkin_months, default=0)
    checkins_from = today - timedelta(days=31 * last_checkin + 1)
    if mark is not None and mark >= today:
        return _Plan(today, mark, checkins_from, None)
    if mark is None:  # never run with a mark: every case once, each from its own day
        return _Plan(today, mark, checkins_from, [true()])
    since = max(mark + timedelta(days=1), today - timedelta(days=MAX_CATCH_UP_DAYS - 1))
    return _Plan(today, mark, checkins_from, _date_terms(ctx.hooks.date_rule_days(), channels, since, today))


def _actions_due(call_hook, case, info: CaseInfo, days: list[date], checkin_months: tuple[int, ...]) -> list[Action]:
    """What the case's date rules ask for on each of `days` (usually nothing)."""
    actions: list[Action] = []
    for day in days:
        if case.status != CLOSED:
            results = call_hook.named(SCHEDULE_HOOK, case=info, today=day)
            actions += actions_from(results, hook=SCHEDULE_HOOK, dbsession=call_hook.dbsession, clock=call_hook.clock)
        actions += checkin_actions(case, day, checkin_months)
    return actions


def _carry_out(ctx: TickContext, dbsession, call_hook, due: dict[int, tuple[CaseInfo, list[Action]]],
               report: ScheduleReport) -> set[int]:
    """Carry out the actions of the cases in `due` (id -> (info, actions)); returns the ids that failed.
    All at once first; if that fails, case by case."""
    if not due:
        return set()
    try:
        applied = []
        with dbsession.begin_nested(), audit.appending_in_bulk(dbsession):
            # What the actions read of a case; anything else is loaded if an action asks for it.
            cases = {case.id: case for case in dbsession.scalars(
                select(Case).where(Case.id.in_(list(due))).options(load_only(*ACTION_COLUMNS)))}
            batch = Batch.read(dbsession, {case_id: info for case_id, (info, _) in due.items()})
            for case_id, (_, actions) in due.items():
                applied.append(apply_actions(dbsession, ctx.clock, cases[case_id], actions, call_hook=call_hook,
                                             batch=batch))
            batch.write(dbsession)
            dbsession.flush()
        batch.announce(call_hook)
        for done in applied:
            report.count(done)
        return set()
    except Exception as error:  # noqa: BLE001 - logged by type; each case is tried on its own below
        log.warning("a batch of date rules failed (%s); carrying them out case by case", type(error).__name__)
    failed = set()
    for case_id, (_, actions) in due.items():
        try:
            with dbsession.begin_nested():
                case = dbsession.get_one(Case, case_id)
                report.count(apply_actions(dbsession, ctx.clock, case, actions, call_hook=call_hook))
        except Exception as error:  # noqa: BLE001 - logged by type; the case is retried next tick
            log.error("the date rules of a case failed (%s); it is retried next tick", type(error).__name__)
            failed.add(case_id)
    return failed


def _claim(dbsession, plan: _Plan, ids: list[int]) -> list[Any]:
    """The cases of `ids` still due, locked (PostgreSQL): one that another tick holds is left to it."""
    query = select(*CASE_COLUMNS).where(Case.id.in_(ids), plan.due).order_by(Case.id)
    return list(dbsession.execute(query.with_for_update(of=Case, skip_locked=True)).all())


def _run_batch(ctx: TickContext, plan: _Plan, channels: dict[int, _ChannelRules], ids: list[int],
               report: ScheduleReport) -> int:
    """Look at the cases `ids` (those still due, and not held by another tick); returns how many
    had days skipped beyond MAX_CATCH_UP_DAYS."""
    skipped = 0
    with ctx.session() as dbsession:
        rows = _claim(dbsession, plan, ids)
        if not rows:
            return 0
        labels = labels_by_case(dbsession, [row.id for row in rows])
        call_hook = ctx.call_hook(dbsession)
        due: dict[int, tuple[CaseInfo, list[Action]]] = {}
        first: dict[int, date] = {}
        failed: set[int] = set()
        for row in rows:
            try:
                channel = channels[row.channel_id]
                info = build_case_info(row, channel.slug, channel.profile, labels[row.id])
                first[row.id] = first_day(row, plan.mark)
                if (plan.today - first[row.id]).days >= MAX_CATCH_UP_DAYS:
                    skipped += 1
                actions = _actions_due(call_hook, row, info, days_from(first[row.id], plan.today),
                                       channel.checkin_months)
                if actions:
                    due[row.id] = (info, actions)
            except Exception as error:  # noqa: BLE001 - logged by type; the case is retried next tick
                log.error("the date rules of a case failed (%s); it is retried next tick", type(error).__name__)
                failed.add(row.id)
        failed |= _carry_out(ctx, dbsession, call_hook, due, report)
        checked = [row.id for row in rows if row.id not in failed]
        # One statement for the batch: a row-by-row flush would cost more than the rules themselves.
        dbsession.execute(update(Case).where(Case.id.in_(checked))
                          .values(schedule_checked_on=plan.today, schedule_retry=False)
                          .execution_options(synchronize_session=False))
        for row in rows:
            if row.id in failed:
                # Tried again by every tick, from the first day that did not run.
                before = first[row.id] - timedelta(days=1) if row.id in first else row.schedule_checked_on
                dbsession.execute(update(Case).where(Case.id == row.id)
                                  .values(schedule_checked_on=before, schedule_retry=True)
                                  .execution_options(synchronize_session=False))
        report.cases += len(checked)
        report.failed += len(failed)
    return skipped


def _read_mark(ctx: TickContext) -> tuple[dict[int, _ChannelRules], date | None]:
    with ctx.session() as dbsession:
        channels = {row.id: _ChannelRules(row.slug, row.deadline_profile,
                                          checkin_months_for(ctx.settings, row.reporters_are_staff))
                    for row in dbsession.execute(select(Channel.id, Channel.slug, Channel.deadline_profile,
                                                        Channel.reporters_are_staff))}
        mark = dbsession.scalar(select(ScheduleMark.checked_through).where(ScheduleMark.name == MARK))
    return channels, mark


def _move_mark(ctx: TickContext, plan: _Plan, by_dates: list[ColumnElement[bool]]) -> None:
    """The mark moves on to today when no case that could be due is left behind it (new cases
    and those flagged for a retry do not count: every tick looks at them)."""
    with ctx.session() as dbsession:
        left = [row for row in dbsession.execute(select(*PLAN_COLUMNS).where(_or(by_dates)))
                if plan.behind(row) and row.schedule_checked_on is not None and not row.schedule_retry]
        if left:
            return  # held by another tick (PostgreSQL), or due since: the next tick finishes them
        if plan.mark is not None:
            dbsession.execute(update(ScheduleMark).where(ScheduleMark.name == MARK,
                                                         ScheduleMark.checked_through < plan.today)
                              .values(checked_through=plan.today))
            return
    try:
        with ctx.session() as dbsession:
            dbsession.execute(insert(ScheduleMark).values(name=MARK, checked_through=plan.today))
    except IntegrityError:  # another tick set it first
        pass


def run_schedule(ctx: TickContext) -> ScheduleReport:
    """Run the date rules of every case that can be due since they last ran; see the module docstring."""
    report = ScheduleReport()
    channels, mark = _read_mark(ctx)
    plan = _plan(ctx, channels, mark)
    with ctx.session() as dbsession:
        # The rows `wanted` finds, read from the date indexes; which of them are behind is
        # decided here (in SQL it would lead the planners to the index of schedule_checked_on,
        # which nearly every case matches).
        ids = sorted(row.id for row in dbsession.execute(select(*PLAN_COLUMNS).where(plan.wanted))
                     if plan.behind(row))
    skipped = 0
    for start in range(0, len(ids), BATCH):
        skipped += _run_batch(ctx, plan, channels, ids[start:start + BATCH], report)
        ctx.heartbeat()
    if skipped:
        log.warning("the date rules of %s cases were last run more than %s days ago; only the last %s days "
                    "were caught up", skipped, MAX_CATCH_UP_DAYS, MAX_CATCH_UP_DAYS)
    if plan.by_dates is not None:
        _move_mark(ctx, plan, plan.by_dates)
    return report


def schedule_job(ctx: TickContext) -> list[str]:
    """The tick's "escalations" job: the date rules of the cases that can be due, then its two summary lines."""
    return run_schedule(ctx).summary()
