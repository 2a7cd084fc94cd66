"""Learning from closed cases: the closing records a guardian searches across the closed cases
granted to them, and the themes across every closed case over a period.

What a search filters on is metadata (the contributory factors, what changed, substantiated, the
channel, the day it closed), done here on the server. The words of a closing record (what was
learned, what changed) are encrypted to each case's team key: in server-assisted mode they are
decrypted with the session's keys (`read_record`) and matched here; in device mode the server
hands out only the outcome items of the cases the metadata picked (`outcome_envelopes`), and the
guardian's browser decrypts and matches them, so the words searched for never reach the server.

The themes (`themes`) count metadata across every closed case of the period, whoever holds it;
a count from 1 to 4 is shown as "fewer than 5" (`shown`), as in the statistics, so no case can be
singled out.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, contains_eager

from whistle import crypto
from whistle.cases.lifecycle import CHANGES, CLOSED, FACTOR_SLUGS, SUBSTANTIATED
from whistle.cases.models import HOLDER_GUARDIAN, ITEM_OUTCOME, Case, CaseGrant, CaseItem, CaseLabel
from whistle.cases.services import CaseKeys, Unreadable, decrypt_item, parse_item
from whistle.deadlines import add_months
from whistle.errors import validation_problem
from whistle.i18n import _, localized
from whistle.intake_channels.models import Channel

# The most closed cases a search lists (the newest first); narrower filters find the rest.
MAX_RESULTS = 200
# Counts below this (and above 0) are shown as "fewer than 5", as in the statistics.
SMALLEST_SHOWN = 5
# A period with no end given ends today; with no start, it starts this long before its end.
DEFAULT_PERIOD = timedelta(days=365)
MAX_QUERY = 200  # characters of a server-assisted text search


def _day(value, name: str, errors: dict[str, str]) -> date | None:
    """A day from a form or query string: YYYY-MM-DD in ASCII digits, or nothing."""
    if value in (None, ""):
        return None
    text = str(value)
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):  # not the other forms fromisoformat reads (2026-W01-1)
        errors[name] = _("Give a day as YYYY-MM-DD.")
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors[name] = _("Give a day as YYYY-MM-DD.")
        return None


def _chosen(params, name: str, allowed: tuple[str, ...], errors: dict[str, str]) -> tuple[str, ...]:
    """The values of `name` (repeated), each one of `allowed`; an unknown one is named in `errors`
    and left out."""
    values = [value for value in params.getall(name) if value != ""]
    if any(value not in allowed for value in values):
        errors[name] = f"Choose only from: {', '.join(allowed)}."
    return tuple(dict.fromkeys(value for value in values if value in allowed))


@dataclass(frozen=True)
class LearningFilters:
    """Which closed cases: any of `factors`, any of `changes` (none given: no filter on them),
    `substantiated`, the channel's slug, and closed between `since` and `until` (both included)."""

    factors: tuple[str, ...] = ()
    changes: tuple[str, ...] = ()
    substantiated: str | None = None
    channel: str | None = None
    since: date | None = None
    until: date | None = None

    @classmethod
    def from_params(cls, params) -> LearningFilters:
        """From query parameters (a MultiDict: `factors` and `changes` repeat; `from` and `to` are
        days); a 422 problem names each faulty one."""
        filters, errors = cls._read(params)
        if errors:
            raise validation_problem(errors)
        return filters

    @classmethod
    def kept(cls, params) -> LearningFilters:
        """The filters of a refused query without its faulty ones: what a page shows again."""
        return cls._read(params)[0]

    @classmethod
    def _read(cls, params) -> tuple[LearningFilters, dict[str, str]]:
        errors: dict[str, str] = {}
        factors = _chosen(params, "factors", FACTOR_SLUGS, errors)
        changes = _chosen(params, "changes", CHANGES, errors)
        substantiated = params.get("substantiated") or None
        if substantiated is not None and substantiated not in SUBSTANTIATED:
            errors["substantiated"] = f"One of: {', '.join(SUBSTANTIATED)}."
            substantiated = None
        since, until = _day(params.get("from"), "from", errors), _day(params.get("to"), "to", errors)
        if since and until and since > until:
            errors["to"] = _("The period ends before it starts.")
            until = None
        return cls(factors=factors, changes=changes, substantiated=substantiated,
                   channel=params.get("channel") or None, since=since, until=until), errors

    def query_args(self) -> list[tuple[str, str]]:
        """The filters as query parameters (metadata only: never words to search for)."""
        args = [("factors", f) for f in self.factors] + [("changes", c) for c in self.changes]
        for name, value in (("substantiated", self.substantiated), ("channel", self.channel),
                            ("from", self.since.isoformat() if self.since else None),
                            ("to", self.until.isoformat() if self.until else None)):
            if value:
                args.append((name, value))
        return args

    def period(self, today: date) -> tuple[date, date]:
        """The period to count themes over: as given, else the year up to today."""
        until = self.until or today
        return self.since or until - DEFAULT_PERIOD, until

    def whole_months(self, today: date) -> tuple[date, date]:
        """period(), widened to whole months: the first day of its first month to the last day of
        its last. The report counts over whole months, as the statistics do, so that two reports
        a day apart cannot be compared to give one day's closures."""
        since, until = self.period(today)
        return since.replace(day=1), add_months(until.replace(day=1), 1) - timedelta(days=1)


@dataclass
class ClosedCase:
    """A closed case a guardian holds, with what its closing record says once read: `record` is the
    outcome item's JSON (None: not read, as in device mode); `unverified`: it failed to verify."""

    case: Case
    labels: list[str] = field(default_factory=list)
    item: CaseItem | None = None  # the closing record as stored: its newest outcome item
    record: dict | None = None
    unverified: bool = False

    @property
    def learned(self) -> str:
        return str((self.record or {}).get("learned") or "")

    @property
    def changed(self) -> str:
        return str((self.record or {}).get("changed") or "")


def closed_cases(dbsession: Session, account_id: int, filters: LearningFilters, *,
                 limit: int = MAX_RESULTS) -> tuple[list[ClosedCase], int]:
    """The closed cases granted to `account_id` that match `filters`, newest closure first: at most
    `limit` of them, and how many match in all."""
    query = (
        select(Case)
        .join(CaseGrant, and_(CaseGrant.case_id == Case.id, CaseGrant.account_id == account_id,
                              CaseGrant.holder == HOLDER_GUARDIAN))
        .join(Channel, Channel.id == Case.channel_id)
        .options(contains_eager(Case.channel))
        .where(Case.status == CLOSED)
        .order_by(Case.closed_on.desc(), Case.id.desc())
    )
    if filters.substantiated:
        query = query.where(Case.substantiated == filters.substantiated)
    if filters.channel:
        query = query.where(Channel.slug == filters.channel)
    if filters.since:
        query = query.where(Case.closed_on >= filters.since)
    if filters.until:
        query = query.where(Case.closed_on <= filters.until)
    # The lists are JSON columns (no portable way to ask SQLite and PostgreSQL for "any of"):
    # checked here, over one guardian's closed cases only.
    found = [case for case in dbsession.scalars(query).unique()
             if (not filters.factors or set(filters.factors) & set(case.factors or ()))
             and (not filters.changes or set(filters.changes) & set(case.changes or ()))]
    shown = [ClosedCase(case) for case in found[:limit]]
    by_id = {entry.case.id: entry for entry in shown}
    if by_id:
        for case_id, label in dbsession.execute(
            select(CaseLabel.case_id, CaseLabel.label).where(CaseLabel.case_id.in_(by_id)).order_by(CaseLabel.label)
        ):
            by_id[case_id].labels.append(label)
        # Each case's closing record: its newest outcome item (a case closed, reopened and closed
        # again has one per closure; the newest is the record of the closure that stands).
        for item in dbsession.scalars(select(CaseItem).where(CaseItem.case_id.in_(by_id),
                                                             CaseItem.kind == ITEM_OUTCOME).order_by(CaseItem.id)):
            by_id[item.case_id].item = item
    return shown, len(found)


def read_record(entry: ClosedCase, keys: CaseKeys) -> CaseItem | None:
    """Decrypt `entry`'s closing record with the guardian's `keys` (server-assisted mode) into
    `entry.record`; returns the item if it failed to verify (for the audit), else None."""
    item = entry.item
    if item is None or keys.team is None:
        return None
    try:
        entry.record = parse_item(ITEM_OUTCOME, decrypt_item(entry.case, keys, item))
    except (crypto.DecryptionFailed, Unreadable):
        entry.unverified = True
        return item
    return None


def matches(entry: ClosedCase, words: str) -> bool:
    """Whether `words` occur (ignoring case) in what was learned or what changed."""
    wanted = words.casefold()
    return wanted in entry.learned.casefold() or wanted in entry.changed.casefold()


@dataclass(frozen=True)
class OutcomeEnvelope:
    """What a guardian's device needs to read one case's closing record: the guardian's grant (to
    unlock and check the keys with) and the outcome item, as stored."""

    case: Case
    grant: CaseGrant
    item: CaseItem | None


def outcome_envelopes(dbsession: Session, account_id: int, entries: list[ClosedCase]) -> list[OutcomeEnvelope]:
    """The grant and closing record of each case in `entries` (closed cases granted to
    `account_id`, from closed_cases): nothing of a case's other items."""
    ids = [entry.case.id for entry in entries]
    grants = {grant.case_id: grant for grant in dbsession.scalars(
        select(CaseGrant).where(CaseGrant.case_id.in_(ids), CaseGrant.account_id == account_id,
                                CaseGrant.holder == HOLDER_GUARDIAN))} if ids else {}
    return [OutcomeEnvelope(entry.case, grants[entry.case.id],
                            entry.item if grants[entry.case.id].sealed_team_key else None)
            for entry in entries if entry.case.id in grants]


# --- the themes across closed cases over a period ---


@dataclass(frozen=True)
class Themes:
    """Counts of the closed cases of a period, by each thing recorded at closure (a case counts
    once in each of its factors, changes and labels)."""

    since: date
    until: date
    total: int
    factors: dict[str, int]
    changes: dict[str, int]
    substantiated: dict[str, int]
    channels: dict[str, int]  # by channel title
    labels: dict[str, int]


def themes(dbsession: Session, since: date, until: date) -> Themes:
    """Every closed case that closed from `since` to `until` (both included), whoever holds it:
    metadata only, nothing decrypted. Factors, changes and substantiated list every choice (0
    included); channels and labels only those that occur."""
    closed = and_(Case.status == CLOSED, Case.closed_on >= since, Case.closed_on <= until)
    rows = dbsession.execute(
        select(Case.factors, Case.changes, Case.substantiated, Channel.title)
        .join(Channel, Channel.id == Case.channel_id).where(closed)).all()
    factors = Counter(dict.fromkeys(FACTOR_SLUGS, 0))
    changes = Counter(dict.fromkeys(CHANGES, 0))
    substantiated = Counter(dict.fromkeys(SUBSTANTIATED, 0))
    channels: Counter[str] = Counter()
    for case_factors, case_changes, case_substantiated, channel in rows:
        factors.update(f for f in set(case_factors or ()) if f in factors)
        changes.update(c for c in set(case_changes or ()) if c in changes)
        if case_substantiated in substantiated:
            substantiated[case_substantiated] += 1
        channels[channel] += 1
    labels = dict(dbsession.execute(
        select(CaseLabel.label, func.count(func.distinct(CaseLabel.case_id)))
        .join(Case, Case.id == CaseLabel.case_id).where(closed).group_by(CaseLabel.label)).all())
    return Themes(since=since, until=until, total=len(rows), factors=dict(factors), changes=dict(changes),
                  substantiated=dict(substantiated), channels=dict(channels), labels=labels)


def shown(count: int) -> str:
    """A count as a page may show it: 1 to 4 as "fewer than 5", so no case can be singled out."""
    if 0 < count < SMALLEST_SHOWN:  # in the page's language now: pages capitalise and compare it
        return localized(_("fewer than ${count}", mapping={"count": SMALLEST_SHOWN}))
    return str(count)


SUPPRESSED = _("suppressed")


def ranked(counts: dict[str, int], words, hidden: set[str] | None = None) -> list[tuple[str, str]]:
    """(words, shown count) by count, largest first. The counts under 5 come after every shown one,
    in the order of their words, so the order does not tell them apart; then the zeros. `hidden`:
    for a table whose counts add up to a total the page shows, the ones it suppresses (the small
    ones and those hidden with them, whistle.statistics.suppression.hide_cells): each reads
    "suppressed", whatever its count, and is ordered with the small ones."""
    def key(item: tuple[str, int]):
        name, count = item
        if hidden is not None and name in hidden:
            return (1, 0, words(name))
        if count >= SMALLEST_SHOWN:
            return (0, -count, words(name))
        return (1 if count else 2, 0, words(name))

    def value(name: str, count: int) -> str:
        return localized(SUPPRESSED) if hidden is not None and name in hidden else shown(count)

    return [(words(name), value(name, count)) for name, count in sorted(counts.items(), key=key)]
