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
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol, cast

from sqlalchemy import and_, delete, func, or_, select, text, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from whistle import audit
from whistle.accounts.models import Account
from whistle.attachments.models import PendingUpload, PendingUploadChunk
from whistle.attachments.services import BlobStore
from whistle.cases.events import CaseMoved
from whistle.cases.lifecycle import CLOSED, MAX_TEXT, given
from whistle.cases.models import ITEM_REASON, Attachment, Case, CaseGrant, CaseItem, CaseLabel, CaseRead
from whistle.cases.services import CaseKeys, DeviceItem, NotGranted, check_keys, shred_handles, write_item
from whistle.clock import Clock
from whistle.errors import Problem, validation_problem
from whistle.i18n import _
from whistle.intake_channels.models import Channel
from whistle.jobs import TickContext
from whistle.notifications.preferences import CASE_DUE_FOR_DELETION
from whistle.notifications.services import notify_holders
from whistle.protection.models import CheckIn, Protection, ProtectionAlert
from whistle.sessions.models import LoginSession
from whistle.shredding import shred_store_of
from whistle.words import day_words

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
    # A case closed before the tick set its day (closed before retention existed) is shown the day
    # the tick will set.
    due = case.delete_on or due_for_deletion(case, case.channel)
    return Retention("due", on=due) if due is not None else Retention("open")


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
        raise Problem(409, _("This case has been on legal hold since ${day}.",
                             mapping={"day": day_words(case.hold_since)}),
                      type=HOLD_PROBLEM, title="On legal hold already")
    if reason is not None and not isinstance(reason, (str, DeviceItem)):
        raise validation_problem({"reason": "Text."})
    if not given(reason):
        raise validation_problem({"reason": _("Write the reason (a sentence is enough).")})
    content: bytes | DeviceItem
    if isinstance(reason, DeviceItem):
        content = reason
    else:
        assert isinstance(reason, str)  # given() above
        if len(reason) > MAX_TEXT:
            raise validation_problem({"reason": _("At most ${count} characters.", mapping={"count": MAX_TEXT})})
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
        raise Problem(409, _("This case is not on legal hold."), type=HOLD_PROBLEM, title="Not on legal hold")
    since = case.hold_since
    case.hold_since = None
    case.delete_on = due_for_deletion(case, case.channel)
    dbsession.flush()
    audit.record(dbsession, clock, actor=_actor(account), action="case.legal_hold_lifted", case_id=case.id,
                 detail={"since": since.isoformat()})


# --- the tick: dates in step, notices ----------------------------------------------------------


def _days_after(column, days: int, dialect: str):
    """`column` (a date) plus `days`, in SQL: SQLite keeps dates as ISO text, PostgreSQL adds
    whole days to a date."""
    return func.date(column, f"+{days} days") if dialect == "sqlite" else column + days


def _updated(dbsession: Session, statement) -> int:
    """Run an UPDATE; how many rows it changed."""
    result = dbsession.execute(statement.execution_options(synchronize_session=False))
    return cast(CursorResult, result).rowcount


def refresh_delete_on(ctx: TickContext) -> int:
    """Put every case's `delete_on` in step with the rule (a channel's periods changed, a case
    closed before the rule existed); returns how many changed. due_for_deletion, as a few UPDATE
    statements per channel that touch only the rows whose day is wrong: the tick runs this every
    minute, and a scan of every closed case in Python would cost it a second per 30,000 cases
    (tests/functional/records check the two agree)."""
    dialect = ctx.session_factory.kw["bind"].dialect.name
    changed = 0
    with ctx.session() as dbsession:
        channels = list(dbsession.execute(select(Channel.id, Channel.retention_days, Channel.retention_untaken_days,
                                                 Channel.retention_withdrawn_days)))
        # No day: open, on hold, or closed without a day of closing (the rule refuses to guess one).
        changed += _updated(dbsession, update(Case).where(
            Case.delete_on.is_not(None), or_(Case.status != CLOSED, Case.hold_since.is_not(None),
                                             and_(Case.withdrawn_on.is_(None), Case.closed_on.is_(None))))
            .values(delete_on=None))
    for channel in channels:
        kept = (Case.channel_id == channel.id, Case.status == CLOSED, Case.hold_since.is_(None))
        rules = (
            ((Case.withdrawn_on.is_not(None),), Case.withdrawn_on, channel.retention_withdrawn_days),
            ((Case.withdrawn_on.is_(None), Case.closed_on.is_not(None), Case.acknowledged_on.is_(None)),
             Case.closed_on, channel.retention_untaken_days),
            ((Case.withdrawn_on.is_(None), Case.closed_on.is_not(None), Case.acknowledged_on.is_not(None)),
             Case.closed_on, channel.retention_days),
        )
        with ctx.session() as dbsession:
            for which, counted_from, days in rules:
                due = _days_after(counted_from, days, dialect)
                changed += _updated(dbsession, update(Case).where(
                    *kept, *which, or_(Case.delete_on.is_(None), Case.delete_on != due)).values(delete_on=due))
        ctx.heartbeat()
    return changed


def send_deletion_notices(ctx: TickContext) -> int:
    """Tell the guardians of each case due to be deleted within NOTICE_DAYS, once per due day
    (`deletion_notice_for`); returns how many cases. The notice is the usual content-free one."""
    today = ctx.clock.today()
    cases = last_id = 0
    while True:
        with ctx.session() as dbsession:
            batch = list(dbsession.scalars(
                select(Case).where(Case.id > last_id, Case.delete_on.is_not(None), Case.hold_since.is_(None),
                                   Case.delete_on > today, Case.delete_on <= today + timedelta(days=NOTICE_DAYS),
                                   (Case.deletion_notice_for.is_(None)) | (Case.deletion_notice_for != Case.delete_on))
                .order_by(Case.id).limit(BATCH).with_for_update(skip_locked=True)))
            if not batch:
                break
            last_id = batch[-1].id
            for case in batch:
                notify_holders(dbsession, ctx.clock, case, CASE_DUE_FOR_DELETION)
                case.deletion_notice_for = case.delete_on
            cases += len(batch)
        ctx.heartbeat()
    return cases


# --- the purge ---------------------------------------------------------------------------------

# Every table that holds rows of a case, in the order they are deleted (what refers to another
# row first). A table another area adds later whose case_id is declared ON DELETE CASCADE goes
# with the case row all the same; tests/functional/records checks every table with a case_id.
CASE_TABLES = (ProtectionAlert, Protection, CheckIn, LoginSession, PendingUpload, Attachment, CaseLabel, CaseRead,
               CaseGrant, CaseItem)


def purge_case(dbsession: Session, clock: Clock, case: Case, *, blob_store: BlobStore, call_hook) -> None:
    """Delete `case` for good. First its shred keys are destroyed (committed in the shred store at
    once): from then on no copy of the case anywhere, backups of the main database and blob store
    included, can be decrypted. Then its blobs (and unfinished uploads' staged chunks) and its
    rows go; the audit log records "case purged" with metadata only (reference, channel, dates),
    and plugins hear `whistle_case_purged`.

    Run again after a failure at any point, it finishes the job: destroying keys and deleting
    blobs that are gone already is fine, and nothing is deleted twice."""
    shred_store_of(dbsession).destroy(shred_handles(dbsession, case))
    case_id, ref, channel = case.id, case.ref, case.channel.slug
    detail = {"ref": ref, "channel": channel, "opened_on": case.opened_on.isoformat(),
              "closed_on": case.closed_on.isoformat() if case.closed_on else None,
              "withdrawn_on": case.withdrawn_on.isoformat() if case.withdrawn_on else None,
              "delete_on": case.delete_on.isoformat() if case.delete_on else None}
    for blob_name in dbsession.scalars(select(Attachment.blob_name).where(Attachment.case_id == case_id)):
        blob_store.delete(blob_name)
    uploads = list(dbsession.execute(select(PendingUpload.id, PendingUpload.staged_name)
                                     .where(PendingUpload.case_id == case_id)))
    for upload in uploads:
        blob_store.stage_delete(upload.staged_name)
    if uploads:
        dbsession.execute(delete(PendingUploadChunk).where(PendingUploadChunk.upload_id.in_([u.id for u in uploads])))
    for table in CASE_TABLES:
        dbsession.execute(delete(table).where(table.case_id == case_id).execution_options(synchronize_session=False))
    dbsession.expunge(case)
    dbsession.execute(delete(Case).where(Case.id == case_id).execution_options(synchronize_session=False))
    audit.record(dbsession, clock, actor=audit.services.SYSTEM, action="case.purged", case_id=case_id, detail=detail)
    call_hook("whistle_case_purged", ref=ref, channel=channel)


def purge_due(ctx: TickContext, blob_store: BlobStore) -> tuple[int, int]:
    """Purge every closed case whose day has come and that is not on hold, each in a transaction of
    its own; returns (purged, failed). The rule is checked again on the case itself before
    anything is deleted, so a wrong `delete_on` is corrected, never acted on."""
    today = ctx.clock.today()
    purged = failed = 0
    last_id = 0
    while True:
        with ctx.session() as dbsession:
            case = dbsession.scalars(
                select(Case).where(Case.delete_on <= today, Case.hold_since.is_(None), Case.id > last_id)
                .order_by(Case.id).limit(1).with_for_update(skip_locked=True)).first()
            if case is None:
                break
            last_id = case.id
            due = due_for_deletion(case, case.channel)
            if due is not None and due <= today:
                # Take the case for writing and read it again before anything is destroyed: SQLite
                # has no FOR UPDATE, and a legal hold a guardian committed since the SELECT must
                # stop the purge (the UPDATE takes the database's write lock, so no hold can be
                # placed until this commits; on PostgreSQL the row is locked already).
                _updated(dbsession, update(Case).where(Case.id == case.id).values(delete_on=Case.delete_on))
                dbsession.refresh(case)
                due = due_for_deletion(case, case.channel)
            if due is None or due > today:
                case.delete_on = due
                continue
            try:
                with dbsession.begin_nested():
                    purge_case(dbsession, ctx.clock, case, blob_store=blob_store, call_hook=ctx.call_hook(dbsession))
                purged += 1
            except Exception as error:  # noqa: BLE001 - logged by type; the purge runs again next tick
                log.error("purging a case failed (%s); it is tried again next tick", type(error).__name__)
                failed += 1
        ctx.heartbeat()
    if purged:
        _checkpoint(ctx)
    return purged, failed


def _checkpoint(ctx: TickContext) -> None:
    """SQLite: move the write-ahead log into the database file and empty it. secure_delete zeroed
    the purged rows in their pages, but until a checkpoint the log still holds the pages as they
    were before (the case's ciphertext, in frames nobody reads but a copy of the file would)."""
    engine = ctx.session_factory.kw["bind"]
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as connection:
        busy = connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)")).first()
    if busy is not None and busy[0]:
        log.warning("the write-ahead log could not be emptied after a purge (readers were busy); the next "
                    "checkpoint does it")


@dataclass
class RecordsReport:
    dates: int = 0
    notices: int = 0
    purged: int = 0
    failed: int = 0

    def summary(self) -> list[str]:
        """A line when something was done, none otherwise (the tick stays quiet on most days)."""
        if not (self.dates or self.notices or self.purged or self.failed):
            return []
        failed = f", {self.failed} failed (retried next tick)" if self.failed else ""
        line = (f"records: {self.dates} deletion dates set, {self.notices} cases' guardians told, "
                f"{self.purged} cases purged{failed}")
        return [line]


def records_job(blob_store: BlobStore) -> Callable[[TickContext], list[str]]:
    """The tick's "records" job for `blob_store`: deletion dates in step, the 30-day notices, then
    the purge."""

    def run(ctx: TickContext) -> list[str]:
        report = RecordsReport(dates=refresh_delete_on(ctx), notices=send_deletion_notices(ctx))
        report.purged, report.failed = purge_due(ctx, blob_store)
        return report.summary()

    return run
