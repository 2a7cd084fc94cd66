"""The guardian's inbox: granted cases, filtered and sorted, with labels and unread counts per page.

Query plan (checked by tests/functional/workspace/test_inbox_scale.py at 100,000 cases): the
query is driven from `case_grants` through ix_case_grants_account_case (account_id, case_id), so
only the caller's grants are visited, and each case is then fetched by primary key. A guardian
holds a small share of all cases, so sorting that share by the next deadline is cheap, and the
size of `cases` does not matter. Labels and unread counts are one grouped query each for the
page's ids (never one per row): the labels by their primary key (case_id, label), the unread
items through ix_case_items_case_id_id (case_id, id). On PostgreSQL, once a guardian holds more
than about 1% of all cases, the planner prefers one sequential pass over `cases` (hash join) to
that many index probes — its cost model's choice, still a few milliseconds at 100,000 cases.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, select
from sqlalchemy import case as case_when
from sqlalchemy.orm import InstrumentedAttribute, Session, contains_eager, defer

from whistle.cases.lifecycle import CLOSED, RECEIVED, STATUSES
from whistle.cases.models import (
    HOLDER_GUARDIAN,
    ITEM_ATTACHMENT_META,
    ITEM_DISCLOSURE,
    ITEM_MESSAGE,
    Case,
    CaseGrant,
    CaseItem,
    CaseLabel,
    CaseRead,
)
from whistle.errors import validation_problem
from whistle.hooks.types import PRIORITIES
from whistle.intake_channels.models import Channel

SORTS = ("deadline", "opened", "priority")
MAX_PER_PAGE = 100
# Far past any inbox, and small enough that the page's offset fits a 64-bit number on either database.
MAX_PAGE = 1_000_000_000
# What the reporter adds that a guardian should notice: the disclosure itself (so a new case is
# unread), their messages and their attachments.
UNREAD_KINDS = (ITEM_DISCLOSURE, ITEM_MESSAGE, ITEM_ATTACHMENT_META)


@dataclass(frozen=True)
class InboxFilters:
    status: str | None = None
    channel: str | None = None
    overdue: bool = False
    unread: bool = False
    priority: str | None = None
    label: str | None = None
    surge: date | None = None  # only the cases that came in during the surge of that day (cases.surge_day)
    sort: str = "deadline"
    page: int = 1
    per_page: int = 25

    @classmethod
    def from_params(cls, params, *, default_per_page: int = 25) -> InboxFilters:
        """Filters from query parameters; a 422 problem names each faulty one."""
        errors = {}
        try:
            page = int(params.get("page", 1) or 1)
            per_page = int(params.get("per_page", default_per_page) or default_per_page)
        except ValueError:
            raise validation_problem({"page": "Expected whole numbers for page and per_page."}) from None
        if not 1 <= page <= MAX_PAGE:
            errors["page"] = f"Pages start at 1 and go up to {MAX_PAGE}."
        if not 1 <= per_page <= MAX_PER_PAGE:
            errors["per_page"] = f"Between 1 and {MAX_PER_PAGE}."
        status = params.get("status") or None
        if status and status not in STATUSES:
            errors["status"] = f"One of: {', '.join(STATUSES)}."
        priority = params.get("priority") or None
        if priority and priority not in PRIORITIES:
            errors["priority"] = f"One of: {', '.join(PRIORITIES)}."
        sort = params.get("sort") or "deadline"
        if sort not in SORTS:
            errors["sort"] = f"One of: {', '.join(SORTS)}."
        flags = {}
        for name in ("overdue", "unread"):
            value = (params.get(name) or "").lower()
            if value not in ("", "true", "false", "1", "0", "on"):
                errors[name] = "true or false."
            flags[name] = value in ("true", "1", "on")
        surge = None
        if params.get("surge"):  # YYYY-MM-DD only, not the other forms fromisoformat reads (2026-W01-1)
            try:
                surge = date.fromisoformat(params["surge"])
            except ValueError:
                errors["surge"] = "A day, written as 2026-12-05."
        if errors:
            raise validation_problem(errors)
        return cls(status=status, channel=params.get("channel") or None, priority=priority,
                   label=params.get("label") or None, surge=surge, sort=sort, page=page, per_page=per_page, **flags)

    def query_args(self, **changes) -> dict:
        """The non-default filters as query parameters (for links to other pages)."""
        values = {"status": self.status, "channel": self.channel, "overdue": "true" if self.overdue else None,
                  "unread": "true" if self.unread else None, "priority": self.priority, "label": self.label,
                  "surge": self.surge.isoformat() if self.surge else None,
                  "sort": None if self.sort == "deadline" else self.sort,
                  "per_page": None if self.per_page == 25 else self.per_page, "page": self.page}
        values.update(changes)
        return {k: v for k, v in values.items() if v is not None and not (k == "page" and v == 1)}


@dataclass
class InboxRow:
    case: Any  # a Case, or a row of the columns asked for (inbox(columns=...))
    labels: list[str] = field(default_factory=list)
    unread: int = 0

    @property
    def next_deadline(self) -> tuple[str, date] | None:
        """("acknowledge" or "feedback", the date), or None once nothing is due."""
        return next_deadline(self.case)


def next_deadline(case: Case) -> tuple[str, date] | None:
    if case.status == RECEIVED:
        return "acknowledge", case.ack_due
    if case.status != CLOSED and case.feedback_given_on is None:
        return "feedback", case.feedback_due
    return None


def _next_due():
    """The same rule as next_deadline(), as SQL (NULL when nothing is due)."""
    return case_when(
        (Case.status == RECEIVED, Case.ack_due),
        (and_(Case.status != CLOSED, Case.feedback_given_on.is_(None)), Case.feedback_due),
        else_=None,
    )


def _last_read(account_id: int):
    return func.coalesce(
        select(CaseRead.last_read_item_id)
        .where(CaseRead.case_id == Case.id, CaseRead.account_id == account_id)
        .correlate_except(CaseRead).scalar_subquery(),  # correlate to the outer `cases`, two levels up
        0,
    )


# What the API's inbox shows of each case (whistle.workspace.views.summary), read as plain rows:
# no Case objects built, none of the keys or JSON a row does not show.
SUMMARY_COLUMNS = (Case.id, Case.ref, Channel.slug.label("channel_slug"), Case.status, Case.priority,
                   Case.opened_on, Case.ack_due, Case.feedback_due, Case.acknowledged_on, Case.feedback_given_on,
                   Case.closed_on, Case.delete_on, Case.hold_since, Case.surge_day, Case.junk_reason)


def inbox_query(account_id: int, filters: InboxFilters, today: date, *, columns: tuple | None = None):
    """The filtered, sorted statement (without paging) for `account_id`'s granted cases: Case
    objects, or only `columns` (of cases and channels) as plain rows."""
    query = (
        (select(Case) if columns is None else select(*columns))
        .join(CaseGrant, and_(CaseGrant.case_id == Case.id, CaseGrant.account_id == account_id,
                              CaseGrant.holder == HOLDER_GUARDIAN))
        .join(Channel, Channel.id == Case.channel_id)
    )
    if columns is None:
        # A row shows its channel's slug and title; the rest (the questionnaire, the wording: JSON
        # decoded for every row) stays unread.
        query = query.options(contains_eager(Case.channel).load_only(Channel.slug, Channel.title),
                              defer(Case.changes), defer(Case.factors))
    if filters.status:
        query = query.where(Case.status == filters.status)
    if filters.channel:
        query = query.where(Channel.slug == filters.channel)
    if filters.priority:
        query = query.where(Case.priority == filters.priority)
    if filters.label:
        query = query.where(exists().where(CaseLabel.case_id == Case.id, CaseLabel.label == filters.label))
    if filters.surge:
        query = query.where(Case.surge_day == filters.surge)
    if filters.overdue:
        query = query.where(_next_due() < today)
    if filters.unread:
        query = query.where(exists().where(
            CaseItem.case_id == Case.id, CaseItem.author == "reporter", CaseItem.kind.in_(UNREAD_KINDS),
            CaseItem.id > _last_read(account_id),
        ))
    order: tuple[ColumnElement[Any] | InstrumentedAttribute[Any], ...]
    if filters.sort == "opened":
        order = (Case.opened_on.desc(), Case.id.desc())
    elif filters.sort == "priority":
        rank = case_when(*((Case.priority == p, n) for n, p in enumerate(reversed(PRIORITIES))), else_=len(PRIORITIES))
        order = (rank, _next_due().asc().nulls_last(), Case.id)
    else:
        order = (_next_due().asc().nulls_last(), Case.id)
    return query.order_by(*order)


def inbox(dbsession: Session, account_id: int, filters: InboxFilters, today: date, *,
          columns: tuple | None = None) -> tuple[list[InboxRow], int]:
    """One page of the inbox and the total: three queries whatever the page size (a fourth, the
    count, only for a page past the end). The page's rows carry the total (a window count over
    every row the filters match), so a page that has rows needs no separate count."""
    query = inbox_query(account_id, filters, today, columns=columns)
    found = dbsession.execute(
        query.add_columns(func.count().over().label("total"))
        .limit(filters.per_page).offset((filters.page - 1) * filters.per_page)).all()
    if found:
        total = found[0].total
    elif filters.page == 1:
        total = 0
    else:
        total = dbsession.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    cases = [found_row[0] for found_row in found] if columns is None else found
    rows = {case.id: InboxRow(case) for case in cases}
    if rows:
        for case_id, label in dbsession.execute(
            select(CaseLabel.case_id, CaseLabel.label).where(CaseLabel.case_id.in_(rows)).order_by(CaseLabel.label)
        ):
            rows[case_id].labels.append(label)
        for case_id, count in unread_counts(dbsession, account_id, list(rows)).items():
            rows[case_id].unread = count
    return list(rows.values()), total


def unread_counts(dbsession: Session, account_id: int, case_ids: list[int]) -> dict[int, int]:
    """Reporter items newer than what `account_id` last read, per case: one grouped query."""
    if not case_ids:
        return {}
    query = (
        select(CaseItem.case_id, func.count())
        .outerjoin(CaseRead, and_(CaseRead.case_id == CaseItem.case_id, CaseRead.account_id == account_id))
        .where(CaseItem.case_id.in_(case_ids), CaseItem.author == "reporter", CaseItem.kind.in_(UNREAD_KINDS),
               CaseItem.id > func.coalesce(CaseRead.last_read_item_id, 0))
        .group_by(CaseItem.case_id)
    )
    return dict(dbsession.execute(query).all())


def attention_counts(dbsession: Session, account_id: int, today: date) -> dict[str, int]:
    """What needs the guardian today: how many of their cases are overdue, and how many unread."""
    def count(filters: InboxFilters) -> int:
        query = inbox_query(account_id, filters, today).order_by(None)
        return dbsession.scalar(select(func.count()).select_from(query.subquery())) or 0

    return {"overdue": count(InboxFilters(overdue=True)), "unread": count(InboxFilters(unread=True))}


def surge_cases(dbsession: Session, account_id: int, day: date, *, limit: int) -> tuple[list[Case], int]:
    """The open cases that came in during the surge of `day` and that `account_id` holds as a
    guardian, oldest first, at most `limit` of them; and how many there are in all."""
    query = (
        select(Case)
        .join(CaseGrant, and_(CaseGrant.case_id == Case.id, CaseGrant.account_id == account_id,
                              CaseGrant.holder == HOLDER_GUARDIAN))
        .join(Channel, Channel.id == Case.channel_id)
        .options(contains_eager(Case.channel))
        .where(Case.surge_day == day, Case.status != CLOSED)
    )
    total = dbsession.scalar(select(func.count()).select_from(query.subquery())) or 0
    return list(dbsession.scalars(query.order_by(Case.id).limit(limit)).unique()), total
