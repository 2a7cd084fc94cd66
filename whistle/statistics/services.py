"""Statistics over case metadata: counts, medians and shares for a period, with small counts suppressed.

Everything here is read with GROUP BY queries over metadata columns (dates, statuses, labels,
flags) and the audit log's `case.opened` detail (the identity mode the reporter chose): no
ciphertext is read and nothing decrypts. Each query returns at most a few hundred rows, however
many cases there are, so the page stays fast at 100,000 cases.

`count_cases` gives the raw figures (`Counts`); `suppress` (whistle.statistics.suppression)
turns them into what may be shown. Only suppressed figures leave this area: pages, the CSV and
the plugins' exports all see `StatisticsFigure`s that went through it.
"""
from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Integer, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import FunctionElement

from whistle.audit.models import AuditEvent
from whistle.cases.lifecycle import CLOSED, STATUSES, SUBSTANTIATED
from whistle.cases.models import Case, CaseLabel
from whistle.deadlines import add_months
from whistle.hooks.types import StatisticsFigure
from whistle.intake_channels.models import Channel, ChannelGuardian
from whistle.statistics.suppression import Counts, Table, hide_cells, suppress

ACK_DAYS = 7  # the Directive's acknowledgement period, in days
FEEDBACK_MONTHS = 3  # and its feedback period, in months from acknowledgement
DEFAULT_MONTHS = 12
IDENTITY_MODES = ("anonymous", "confidential", "open")
NOT_RECORDED = "not_recorded"
SPEAK_UP_AGAIN = ("yes", "no", "not_sure")
NO_ANSWER = "no_answer"
WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class Period:
    """Whole calendar months, `first` to `last` (each the first day of its month), both included."""

    first: date
    last: date

    @property
    def start(self) -> date:
        return self.first

    @property
    def end(self) -> date:
        return add_months(self.last, 1) - timedelta(days=1)

    def months(self) -> list[date]:
        months, month = [], self.first
        while month <= self.last:
            months.append(month)
            month = add_months(month, 1)
        return months

    @classmethod
    def last_months(cls, today: date, count: int = DEFAULT_MONTHS) -> Period:
        """The `count` months up to and including this one."""
        this_month = today.replace(day=1)
        return cls(add_months(this_month, 1 - count), this_month)


class days_between(FunctionElement):  # named like the SQL functions SQLAlchemy's func makes
    """Whole days from the second date to the first, in the database's own arithmetic."""

    type = Integer()
    inherit_cache = True


@compiles(days_between)
def _days_between(element, compiler, **kw):  # PostgreSQL: date - date is a number of days
    later, earlier = list(element.clauses)
    return f"({compiler.process(later, **kw)} - {compiler.process(earlier, **kw)})"


@compiles(days_between, "sqlite")
def _days_between_sqlite(element, compiler, **kw):
    later, earlier = list(element.clauses)
    return f"CAST(julianday({compiler.process(later, **kw)}) - julianday({compiler.process(earlier, **kw)}) AS INTEGER)"


def channels_for(dbsession: Session, account=None) -> list[Channel]:
    """The channels whose statistics `account` may see: every channel for an admin (or for None),
    a guardian's own channels (the ones they receive cases from, either tier) otherwise."""
    query = select(Channel).order_by(Channel.title)
    if account is not None and not account.is_admin:
        query = query.join(ChannelGuardian, ChannelGuardian.channel_id == Channel.id).where(
            ChannelGuardian.account_id == account.id)
    return list(dbsession.scalars(query))


def median_of(histogram: dict[int, int]) -> float | None:
    """The median of values given as {value: how many}; None for none."""
    total = sum(histogram.values())
    if not total:
        return None
    ordered = sorted(histogram.items())

    def nth(index: int) -> int:  # the index-th value (from 0) in sorted order
        seen = 0
        for value, count in ordered:
            seen += count
            if index < seen:
                return value
        raise IndexError(index)

    middle = total // 2
    return float(nth(middle)) if total % 2 else (nth(middle - 1) + nth(middle)) / 2


def count_cases(dbsession: Session, period: Period, channels: list[Channel], today: date) -> Counts:
    """The raw figures for the cases opened in `period` on `channels`, as of `today`.

    Six queries, each one pass over the period's cases: the facts with few values together (channel,
    status, detriment, outcome, answer), then the days (opened, to acknowledge), the feedback
    dates, the labels and the identity modes."""
    channel_ids = [channel.id for channel in channels]
    scope = (Case.opened_on >= period.start, Case.opened_on <= period.end, Case.channel_id.in_(channel_ids))

    def grouped(*columns, where=(), join=None) -> list:
        query = select(*columns, func.count(Case.id)).where(*scope, *where)
        if join is not None:
            query = query.join(*join)
        return list(dbsession.execute(query.group_by(*columns)).all())

    by_channel: Counter = Counter()
    by_status: Counter = Counter()
    detriment: Counter = Counter()
    outcomes: Counter = Counter()
    answers: Counter = Counter()
    for channel_id, status, reported, substantiated, withdrawn, answer, count in grouped(
            Case.channel_id, Case.status, Case.detriment, Case.substantiated, Case.withdrawn_on.is_not(None),
            Case.speak_up_again):
        by_channel[channel_id] += count
        by_status[status] += count
        detriment["reported" if reported else "not_reported"] += count
        if status == CLOSED:
            outcomes[WITHDRAWN if withdrawn else substantiated if substantiated in SUBSTANTIATED else NOT_RECORDED] += (
                count)
        answers[answer if answer in SPEAK_UP_AGAIN else NO_ANSWER] += count
    total = sum(by_channel.values())

    counts = Counts()
    counts.tables.append(Table("cases", [("all", total)]))
    counts.tables.append(Table("cases_by_channel", [(c.slug, by_channel[c.id]) for c in channels], total))
    counts.tables.append(Table("cases_by_status", [(status, by_status[status]) for status in STATUSES], total))

    by_month: Counter = Counter()
    to_acknowledge: Counter = Counter()  # days from the report to its acknowledgement: how many cases
    waiting_too_long = 0  # not acknowledged, and their 7 days are over
    for opened_on, days, count in grouped(Case.opened_on, days_between(Case.acknowledged_on, Case.opened_on)):
        by_month[opened_on.replace(day=1)] += count
        if days is not None:
            to_acknowledge[days] += count
        elif opened_on < today - timedelta(days=ACK_DAYS):
            waiting_too_long += count
    counts.tables.append(Table("cases_by_month", [(m.strftime("%Y-%m"), by_month[m]) for m in period.months()],
                               total))

    by_label = grouped(CaseLabel.label, join=(CaseLabel, CaseLabel.case_id == Case.id))
    # A case may carry several labels or none: these do not add up to the total.
    counts.tables.append(Table("cases_by_label", sorted(by_label, key=lambda row: (-row[1], row[0]))))

    modes = _identity_modes(dbsession, scope)
    counts.tables.append(Table("cases_by_identity_mode",
                               [(mode, modes.get(mode, 0)) for mode in (*IDENTITY_MODES, NOT_RECORDED)], total))
    counts.shares.append(("share_anonymous", modes.get("anonymous", 0), total - modes.get(NOT_RECORDED, 0),
                          tuple(("cases_by_identity_mode", mode) for mode in IDENTITY_MODES)))

    # Acknowledgement: the median over acknowledged cases; the share within 7 days of the cases
    # whose 7 days are over or that were acknowledged already.
    acknowledged = sum(to_acknowledge.values())
    counts.medians.append(("median_days_to_acknowledge", acknowledged, median_of(to_acknowledge)))
    in_time = sum(count for days, count in to_acknowledge.items() if days <= ACK_DAYS)
    counts.shares.append(("acknowledged_within_7_days", in_time, acknowledged + waiting_too_long, ()))
    _feedback(counts, grouped, today)

    counts.tables.append(Table("detriment", [(group, detriment[group]) for group in ("reported", "not_reported")],
                               total))
    counts.tables.append(Table("outcomes", [(outcome, outcomes[outcome])
                                            for outcome in (*SUBSTANTIATED, WITHDRAWN, NOT_RECORDED)],
                               by_status[CLOSED], total_cell=("cases_by_status", CLOSED)))
    counts.tables.append(Table("speak_up_again", [(a, answers[a]) for a in (*SPEAK_UP_AGAIN, NO_ANSWER)], total))
    counts.shares.append(("share_would_speak_up_again", answers["yes"], total - answers[NO_ANSWER],
                          tuple(("speak_up_again", answer) for answer in SPEAK_UP_AGAIN)))
    return counts


def _identity_modes(dbsession: Session, scope) -> dict[str, int]:
    """How many cases chose each identity mode, as the audit log's `case.opened` event records it
    (the case row does not keep it); a case whose event says nothing is NOT_RECORDED."""
    mode = AuditEvent.detail["identity_mode"].as_string()
    rows = dbsession.execute(
        select(mode, func.count(Case.id))
        .outerjoin(AuditEvent, (AuditEvent.case_id == Case.id) & (AuditEvent.action == "case.opened"))
        .where(*scope).group_by(mode)).all()
    modes: Counter = Counter()
    for name, count in rows:
        modes[name if name in IDENTITY_MODES else NOT_RECORDED] += count
    return dict(modes)


def _feedback(counts: Counts, grouped, today: date) -> None:
    """Median days from the report to feedback (the day the case last moved to "feedback given"),
    and the share given feedback within 3 months of acknowledgement, of the acknowledged cases
    whose 3 months are over or that were given feedback already."""
    histogram: Counter = Counter()
    in_time = base = 0
    for acknowledged_on, given_on, days, count in grouped(
            Case.acknowledged_on, Case.feedback_given_on, days_between(Case.feedback_given_on, Case.opened_on),
            where=(Case.acknowledged_on.is_not(None),)):
        if days is not None:
            histogram[days] += count
        due = add_months(acknowledged_on, FEEDBACK_MONTHS)
        if given_on is not None or due < today:
            base += count
            in_time += count if given_on is not None and given_on <= due else 0
    counts.medians.append(("median_days_to_feedback", sum(histogram.values()), median_of(histogram)))
    counts.shares.append(("feedback_within_3_months", in_time, base, ()))


def statistics(dbsession: Session, period: Period, channels: list[Channel], today: date) -> list[StatisticsFigure]:
    """What may be shown of the period's figures: every count from 1 to 4 suppressed, and the
    cells that would let it be worked out (whistle.statistics.suppression)."""
    return suppress(count_cases(dbsession, period, channels, today))


# The one group that stands for every label on fewer than 5 cases, in what people see.
RARE_LABELS = "labels-on-fewer-than-5-cases"


def for_people(figures: list[StatisticsFigure]) -> list[StatisticsFigure]:
    """The figures as pages, charts and CSV downloads show them: a label on fewer than 5 cases is
    not even named (a guardian's own word for a ward or a person could point at a case), but
    folded, with every other such label, into one suppressed RARE_LABELS row. Plugins' exports get
    the figures as they are: theirs are fixed labels (the FTSU return's), shown as suppressed cells."""
    shown: list[StatisticsFigure] = []
    for figure in figures:
        if figure.measure == "cases_by_label" and figure.value is None:
            if not any(f.group == RARE_LABELS for f in shown):  # they come last: the smallest counts
                shown.append(StatisticsFigure("cases_by_label", RARE_LABELS, None))
            continue
        shown.append(figure)
    return shown


def hidden_cells(counts: dict[str, int], total: int) -> set[str]:
    """The groups to suppress of a table of `counts` that add up to `total`, shown elsewhere on the
    page (the learning report's channels and answers): the small counts, and what would give them
    back by subtraction (whistle.statistics.suppression.hide_cells)."""
    return hide_cells(Table("table", list(counts.items()), total))


def as_csv(figures: list[StatisticsFigure], period: Period, channels: list[Channel]) -> bytes:
    """The figures as one tidy CSV (measure, group, value): a suppressed cell's value is empty.
    The period and the channels it covers come first, as rows of their own."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180, what spreadsheets expect
    writer.writerow(("measure", "group", "value"))
    writer.writerow(("period", "from", period.start.isoformat()))
    writer.writerow(("period", "to", period.end.isoformat()))
    for channel in channels:
        writer.writerow(("channel", channel.slug, "included"))
    for figure in figures:
        writer.writerow((figure.measure, figure.group, "" if figure.value is None else _number(figure.value)))
    return out.getvalue().encode()


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"
