"""Records: how long a case is kept, legal hold, the 30-day notice, and the purge.

One rule decides when a closed case is due to be deleted (`due_for_deletion`); `cases.delete_on`
holds its answer, kept in step when a case moves (a CaseMoved subscriber) and by the tick (for a
channel whose periods changed, or a case closed before this existed). A legal hold suspends the
rule until a guardian lifts it. The tick tells a case's guardians 30 days ahead, with a notice
that says nothing about which case, and purges every case whose day has come: the shred keys
first, so every copy of the case anywhere (backups, escrow and standby grants) is unreadable from
that moment, then its blobs and rows. The audit log keeps a metadata-only "case purged" event.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from whistle import audit
from whistle.accounts.models import Account
from whistle.cases.events import CaseMoved
from whistle.cases.lifecycle import CLOSED, MAX_TEXT, given
from whistle.cases.models import ITEM_REASON, Case
from whistle.cases.services import CaseKeys, DeviceItem, NotGranted, check_keys, write_item
from whistle.clock import Clock
from whistle.errors import Problem, validation_problem
from whistle.intake_channels.models import Channel
from whistle.jobs import TickContext
from whistle.notifications.preferences import CASE_DUE_FOR_DELETION
from whistle.notifications.services import notify_holders

log = logging.getLogger(__name__)

NOTICE_DAYS = 30  # how long before its deletion a case's guardians are told
BATCH = 500
HOLD_PROBLEM = "/api/v1/problems/legal-hold"
# What a legal hold's reason item says it is about (the reason itself is a team-key item).
ABOUT_HOLD = "legal-hold"


# --- the one rule ----------------------------------------------------------------------------


class CaseDates(Protocol):
    """What the rule reads of a case (a Case, or a row of its columns)."""

    @property
    def status(self) -> str: ...
    @property
    def closed_on(self) -> date | None: ...
    @property
    def acknowledged_on(self) -> date | None: ...
    @property
    def withdrawn_on(self) -> date | None: ...
    @property
    def hold_since(self) -> date | None: ...


class Periods(Protocol):
    """What the rule reads of a channel (a Channel, or its three periods)."""

    @property
    def retention_days(self) -> int: ...
    @property
    def retention_untaken_days(self) -> int: ...
    @property
    def retention_withdrawn_days(self) -> int: ...


def due_for_deletion(case: CaseDates, channel: Periods) -> date | None:
    """The day `case` is due to be purged under `channel`'s periods; None while it is open or on
    legal hold. Withdrawn by the reporter: days after the withdrawal; closed without ever being
    acknowledged (never taken up): the channel's shorter period after closure; otherwise the
    channel's retention period after closure."""
    if case.status != CLOSED or case.hold_since is not None:
        return None
    if case.withdrawn_on is not None:
        return case.withdrawn_on + timedelta(days=channel.retention_withdrawn_days)
    if case.closed_on is None:  # a closed case always has its day; refuse to guess one
        return None
    if case.acknowledged_on is None:
        return case.closed_on + timedelta(days=channel.retention_untaken_days)
    return case.closed_on + timedelta(days=channel.retention_days)


def keep_delete_on(event: CaseMoved, call_hook) -> None:
    """CaseMoved subscriber: a case that closed gets its day, one reopened loses it."""
    event.case.delete_on = due_for_deletion(event.case, event.case.channel)


@dataclass(frozen=True)
class Retention:
    """What the case page and the inbox say about a case's keeping: `state` is "open" (kept while
    open), "hold" (on legal hold since `since`) or "due" (to be deleted on `on`)."""

    state: str
    on: date | None = None
    since: date | None = None


def retention_of(case: Case) -> Retention:
    if case.hold_since is not None:
        return Retention("hold", since=case.hold_since)
    if case.delete_on is not None:
        return Retention("due", on=case.delete_on)
    return Retention("open")


# --- legal hold --------------------------------------------------------------------------------


def _actor(account: Account) -> str:
    return f"account:{account.id}"


def place_hold(dbsession: Session, clock: Clock, case: Case, keys: CaseKeys | None, account: Account,
               reason: str | DeviceItem | None) -> None:
    """Put `case` on legal hold: it is not deleted, whatever its period, until the hold is lifted.
    The reason is case content, stored as a team-key reason item (encrypted here with the
    guardian's `keys`, or by their device: a DeviceItem); the audit log records only that a hold
    was placed. Raises a Problem (409 on a case held already, 422 without a reason) before
    changing anything."""
    if case.hold_since is not None:
        raise Problem(409, f"This case has been on legal hold since {case.hold_since.isoformat()}.",
                      type=HOLD_PROBLEM, title="On legal hold already")
    if reason is not None and not isinstance(reason, (str, DeviceItem)):
        raise validation_problem({"reason": "Text."})
    if not given(reason):
        raise validation_problem({"reason": "Write the reason (a sentence is enough)."})
    content: bytes | DeviceItem
    if isinstance(reason, DeviceItem):
        content = reason
    else:
        assert isinstance(reason, str)  # given() above
        if len(reason) > MAX_TEXT:
            raise validation_problem({"reason": f"At most {MAX_TEXT} characters."})
        if keys is None:
            raise NotGranted(case.ref)
        check_keys(case, keys, kinds=[ITEM_REASON])
        content = json.dumps({"about": ABOUT_HOLD, "text": reason.strip()}, ensure_ascii=False).encode("utf-8")
    today = clock.today()
    write_item(case, keys, kind=ITEM_REASON, author="guardian", account_id=account.id, today=today, content=content)
    case.hold_since, case.delete_on = today, None
    dbsession.flush()
    audit.record(dbsession, clock, actor=_actor(account), action="case.legal_hold_placed", case_id=case.id)


def lift_hold(dbsession: Session, clock: Clock, case: Case, account: Account) -> None:
    """End the legal hold on `case`: its day is worked out again (and if it has passed, the next
    tick purges it). Raises a 409 Problem if the case is not on hold."""
    if case.hold_since is None:
        raise Problem(409, "This case is not on legal hold.", type=HOLD_PROBLEM, title="Not on legal hold")
    since = case.hold_since
    case.hold_since = None
    case.delete_on = due_for_deletion(case, case.channel)
    dbsession.flush()
    audit.record(dbsession, clock, actor=_actor(account), action="case.legal_hold_lifted", case_id=case.id,
                 detail={"since": since.isoformat()})


# --- the tick: dates in step, notices ----------------------------------------------------------


RULE_COLUMNS = (Case.id, Case.status, Case.closed_on, Case.acknowledged_on, Case.withdrawn_on, Case.hold_since,
                Case.delete_on, Case.channel_id)


def refresh_delete_on(ctx: TickContext) -> int:
    """Put every case's `delete_on` in step with the rule (a channel's periods changed, a case
    closed before the rule existed, a hold placed by hand); returns how many changed."""
    changed, last_id = 0, 0
    with ctx.session() as dbsession:
        periods = {c.id: _Periods(c.retention_days, c.retention_untaken_days, c.retention_withdrawn_days)
                   for c in dbsession.scalars(select(Channel))}
    while True:
        with ctx.session() as dbsession:
            rows = dbsession.execute(
                select(*RULE_COLUMNS).where((Case.status == CLOSED) | Case.delete_on.is_not(None))
                .where(Case.id > last_id).order_by(Case.id).limit(BATCH)
            ).all()
            if not rows:
                break
            last_id = rows[-1].id
            for row in rows:
                due = due_for_deletion(row, periods[row.channel_id])
                if due != row.delete_on:
                    dbsession.execute(update(Case).where(Case.id == row.id).values(delete_on=due)
                                      .execution_options(synchronize_session=False))
                    changed += 1
        ctx.heartbeat()
    return changed


@dataclass(frozen=True)
class _Periods:
    """A channel's three periods, as due_for_deletion reads them."""

    retention_days: int
    retention_untaken_days: int
    retention_withdrawn_days: int


def send_deletion_notices(ctx: TickContext) -> int:
    """Tell the guardians of each case due to be deleted within NOTICE_DAYS, once per due day
    (`deletion_notice_for`); returns how many cases. The notice is the usual content-free one."""
    today = ctx.clock.today()
    cases = 0
    while True:
        with ctx.session() as dbsession:
            batch = list(dbsession.scalars(
                select(Case).where(Case.delete_on.is_not(None), Case.hold_since.is_(None),
                                   Case.delete_on > today, Case.delete_on <= today + timedelta(days=NOTICE_DAYS),
                                   (Case.deletion_notice_for.is_(None)) | (Case.deletion_notice_for != Case.delete_on))
                .order_by(Case.id).limit(BATCH).with_for_update(skip_locked=True)))
            if not batch:
                break
            for case in batch:
                notify_holders(dbsession, ctx.clock, case, CASE_DUE_FOR_DELETION)
                case.deletion_notice_for = case.delete_on
            cases += len(batch)
        ctx.heartbeat()
    return cases


@dataclass
class RecordsReport:
    dates: int = 0
    notices: int = 0
    purged: int = 0
    failed: int = 0
    lines: list[str] = field(default_factory=list)

    def summary(self) -> list[str]:
        """A line when something was done, none otherwise (the tick stays quiet on most days)."""
        if not (self.dates or self.notices or self.purged or self.failed):
            return []
        failed = f", {self.failed} failed (retried next tick)" if self.failed else ""
        line = (f"records: {self.dates} deletion dates set, {self.notices} cases' guardians told, "
                f"{self.purged} cases purged{failed}")
        return [line]


def records_job(ctx: TickContext) -> list[str]:
    """The tick's "records" job: deletion dates in step, the 30-day notices, then the purge."""
    report = RecordsReport(dates=refresh_delete_on(ctx), notices=send_deletion_notices(ctx))
    return report.summary()
