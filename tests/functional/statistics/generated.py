"""10,000 generated cases, inserted in bulk, and the same figures counted again in plain Python.

The generator spreads cases over three channels (one with only 3 cases), every status, the months
of the period and two before it, labels (two of them on fewer than 5 cases), identity modes (a few
with no record of one), detriment, outcomes (withdrawn too) and the "speak up again" answers; the
period's first month gets only 2 cases. `expected_counts` recounts it all from the generated
list, never through the database.
"""
from __future__ import annotations

import random
import statistics as stdlib_statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, insert, select, text, update

from tests.factories import make_channel
from whistle.audit.models import AuditEvent, AuditHead
from whistle.cases.models import Case, CaseLabel
from whistle.deadlines import add_months
from whistle.statistics.services import Period

STATUSES = ("received", "acknowledged", "assessing", "investigating", "feedback_given", "closed")
LABELS = ("safeguarding", "patient-safety", "bullying-harassment", "staffing", "night-shift")
RARE_LABELS = {"whistleblower-ward-9": 3, "fraud": 1}  # labels on fewer than 5 cases
SUBSTANTIATED = ("yes", "partly", "no", "not_determined")
MODES = ("anonymous", "confidential", "open")


@dataclass
class Generated:
    """One generated case, as the test knows it."""

    id: int
    channel: str
    opened_on: date
    status: str
    acknowledged_on: date | None = None
    feedback_given_on: date | None = None
    closed_on: date | None = None
    substantiated: str | None = None
    withdrawn_on: date | None = None
    detriment: bool = False
    speak_up_again: str | None = None
    mode: str | None = None  # None: no case.opened event records one
    labels: list[str] = field(default_factory=list)


def generate(today: date, period: Period, channels: dict[str, int], total: int = 10_000,
             seed: int = 14) -> list[Generated]:
    rng = random.Random(seed)
    earliest = add_months(period.first, -2)  # two months before the period, which must not count
    span = (today - earliest).days
    cases: list[Generated] = []
    main_channels = [slug for slug in channels if slug != "stats-tiny"]

    def opened() -> date:
        while True:
            day = earliest + timedelta(days=rng.randrange(span + 1))
            if day.replace(day=1) != period.first:
                return day

    special = [(period.first + timedelta(days=3), main_channels[0]), (period.first + timedelta(days=9),
                                                                       main_channels[1])]
    special += [(period.last + timedelta(days=1), "stats-tiny")] * 3
    for n in range(total):
        opened_on, channel = special[n] if n < len(special) else (opened(), main_channels[n % 2])
        opened_on = min(opened_on, today)
        case = Generated(id=n, channel=channel, opened_on=opened_on, status=rng.choice(STATUSES))
        if case.status != "received":
            case.acknowledged_on = min(today, opened_on + timedelta(days=rng.choice((0, 1, 2, 3, 5, 6, 7, 8, 10, 14))))
        if case.status in ("feedback_given", "closed") or (case.acknowledged_on and rng.random() < 0.2):
            case.feedback_given_on = min(today, case.acknowledged_on + timedelta(days=rng.randrange(0, 130)))
        if case.status == "closed":
            case.closed_on = max(case.feedback_given_on or opened_on, case.acknowledged_on)
            if rng.random() < 0.05:
                case.withdrawn_on = case.closed_on
            else:
                case.substantiated = rng.choice(SUBSTANTIATED)
            case.speak_up_again = rng.choice(("yes", "yes", "no", "not_sure", None))
        case.detriment = rng.random() < 0.04
        case.mode = None if rng.random() < 0.01 else rng.choice(MODES)
        case.labels = rng.sample(LABELS, rng.randrange(0, 3))
        cases.append(case)
    for label, how_many in RARE_LABELS.items():
        for case in rng.sample([c for c in cases if period.start <= c.opened_on <= period.end], how_many):
            case.labels.append(label)
    return cases


def insert_cases(dbsession, cases: list[Generated], channels: dict[str, int], today: date) -> None:
    """The cases, their labels and their `case.opened` audit events, in a few bulk statements.
    The audit rows carry placeholder hashes (the test's transaction is rolled back, and the chain
    is not what is tested here); the chain's head moves past them, so events recorded afterwards
    take the next numbers."""
    first_id = (dbsession.scalar(select(func.max(Case.id))) or 0) + 1
    first_seq = (dbsession.scalar(select(AuditHead.length).where(AuditHead.id == 1)) or 0) + 1
    key = bytes(32)
    rows, labels, events = [], [], []
    for case in cases:
        case_id = first_id + case.id
        rows.append({
            "id": case_id, "ref": f"S{case_id:09d}", "channel_id": channels[case.channel], "status": case.status,
            "priority": "normal", "public_key": key, "team_public_key": key,
            "reporter_lookup_id": b"stats" + case_id.to_bytes(27, "big"), "reporter_public_key": key,
            "opened_on": case.opened_on, "ack_due": case.opened_on + timedelta(days=7),
            "feedback_due": add_months(case.acknowledged_on or case.opened_on, 3),
            "acknowledged_on": case.acknowledged_on, "feedback_given_on": case.feedback_given_on,
            "closed_on": case.closed_on, "substantiated": case.substantiated, "withdrawn_on": case.withdrawn_on,
            "detriment": case.detriment, "speak_up_again": case.speak_up_again, "changes": [], "factors": [],
        })
        labels += [{"case_id": case_id, "label": label} for label in case.labels]
        if case.mode is not None:
            events.append({"seq": first_seq + len(events), "at": datetime.combine(case.opened_on, datetime.min.time(),
                                                                                  UTC),
                           "actor": "reporter", "action": "case.opened", "case_id": case_id,
                           "detail": {"channel": case.channel, "identity_mode": case.mode},
                           "prev_hash": bytes(32), "hash": bytes(32)})
    dbsession.execute(insert(Case), rows)
    dbsession.execute(insert(CaseLabel), labels)
    dbsession.execute(insert(AuditEvent), events)
    dbsession.execute(update(AuditHead).where(AuditHead.id == 1).values(length=first_seq - 1 + len(events)))
    dbsession.flush()
    if dbsession.get_bind().dialect.name == "postgresql":
        # The planner's row counts are what autovacuum last saw, and it never sees rows of a
        # transaction that is rolled back: after earlier tests it takes these tables for nearly
        # empty and may join 10,000 cases to their labels by nested scans (minutes, not
        # milliseconds). A live installation's tables are analysed by autovacuum as they grow.
        dbsession.execute(text("ANALYZE cases, case_labels, audit_events"))


def make_channels(dbsession) -> dict[str, int]:
    return {slug: make_channel(dbsession, slug, title=title).id
            for slug, title in (("stats-staff", "Staff concerns"), ("stats-youth", "Young people's voice"),
                                ("stats-tiny", "A small team"))}


@dataclass
class Expected:
    tables: dict[str, dict[str, int]]
    medians: dict[str, tuple[int, float | None]]  # measure: (cases it is computed from, value)
    shares: dict[str, tuple[int, int]]  # measure: (numerator, base)


def expected_counts(cases: list[Generated], period: Period, slugs: list[str], today: date) -> Expected:
    """Every figure, counted in plain Python over the generated list."""
    mine = [c for c in cases if period.start <= c.opened_on <= period.end and c.channel in slugs]
    total = len(mine)
    tables = {
        "cases": {"all": total},
        "cases_by_channel": {slug: sum(c.channel == slug for c in mine) for slug in slugs},
        "cases_by_status": {status: sum(c.status == status for c in mine) for status in STATUSES},
        "cases_by_month": {month.strftime("%Y-%m"): sum(c.opened_on.replace(day=1) == month for c in mine)
                           for month in period.months()},
        "cases_by_label": dict(Counter(label for c in mine for label in c.labels)),
        "cases_by_identity_mode": {**{mode: sum(c.mode == mode for c in mine) for mode in MODES},
                                   "not_recorded": sum(c.mode is None for c in mine)},
        "detriment": {"reported": sum(c.detriment for c in mine), "not_reported": sum(not c.detriment for c in mine)},
    }
    closed = [c for c in mine if c.status == "closed"]
    tables["outcomes"] = {**{value: sum(c.substantiated == value and c.withdrawn_on is None for c in closed)
                             for value in SUBSTANTIATED},
                          "withdrawn": sum(c.withdrawn_on is not None for c in closed), "not_recorded": 0}
    tables["speak_up_again"] = {**{answer: sum(c.speak_up_again == answer for c in mine)
                                   for answer in ("yes", "no", "not_sure")},
                                "no_answer": sum(c.speak_up_again is None for c in mine)}

    to_ack = [(c.acknowledged_on - c.opened_on).days for c in mine if c.acknowledged_on]
    to_feedback = [(c.feedback_given_on - c.opened_on).days for c in mine if c.feedback_given_on]
    medians = {"median_days_to_acknowledge": (len(to_ack), stdlib_statistics.median(to_ack) if to_ack else None),
               "median_days_to_feedback": (len(to_feedback),
                                           stdlib_statistics.median(to_feedback) if to_feedback else None)}

    ack_base = [c for c in mine if c.acknowledged_on or c.opened_on < today - timedelta(days=7)]
    ack_in_time = [c for c in ack_base if c.acknowledged_on and (c.acknowledged_on - c.opened_on).days <= 7]
    feedback_base = [c for c in mine if c.acknowledged_on
                     and (c.feedback_given_on or add_months(c.acknowledged_on, 3) < today)]
    feedback_in_time = [c for c in feedback_base
                        if c.feedback_given_on and c.feedback_given_on <= add_months(c.acknowledged_on, 3)]
    modes = tables["cases_by_identity_mode"]
    answers = tables["speak_up_again"]
    shares = {
        "share_anonymous": (modes["anonymous"], total - modes["not_recorded"]),
        "acknowledged_within_7_days": (len(ack_in_time), len(ack_base)),
        "feedback_within_3_months": (len(feedback_in_time), len(feedback_base)),
        "share_would_speak_up_again": (answers["yes"], total - answers["no_answer"]),
    }
    return Expected(tables, medians, shares)
