"""The one place that writes audit events, and the check that the chain is intact.

The chain's hashes are unkeyed, so they show a change only to someone who trusts the head. The
head therefore carries a MAC keyed with the audit key (a key file, never in the database): every
append checks the MAC of the head it extends and MACs the new head, and never signs a head whose
MAC does not check out, so a chain rewritten by a database writer stays unverifiable.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import event as sa_event
from sqlalchemy import insert, select, union_all, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from whistle import crypto
from whistle.audit.checkpoints import Checkpoint, CheckpointLine, append_checkpoint, read_checkpoint_file
from whistle.audit.models import AuditEvent, AuditHead
from whistle.clock import Clock, start_of_day
from whistle.db import AUDIT_KEY_INFO

log = logging.getLogger(__name__)

GENESIS = bytes(32)
REPORTER = "reporter"
SYSTEM = "system"  # whistle itself: its rules, its scheduled work, its command line


def _utc_naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def event_hash(prev_hash: bytes, seq: int, at: datetime, actor: str, action: str, case_id: int | None,
               detail: dict) -> bytes:
    """SHA-256 over the previous hash and a canonical JSON of the event's fields."""
    body = json.dumps(
        {
            "seq": seq,
            "at": _utc_naive(at).isoformat(timespec="microseconds"),
            "actor": actor,
            "action": action,
            "case_id": case_id,
            "detail": detail,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
    ).encode("ascii")
    return hashlib.sha256(prev_hash + body).digest()


class AuditKeyMissing(RuntimeError):
    """A database session was made without the audit key (a bug in whoever made the session)."""


def audit_key_of(dbsession: Session) -> bytes:
    """The audit key the session carries (whistle.db.make_session_factory)."""
    key = dbsession.info.get(AUDIT_KEY_INFO)
    if key is None:
        raise AuditKeyMissing("this database session carries no audit key: make it with "
                              "whistle.db.make_session_factory(engine, shred_store, audit_key=settings.audit_key)")
    return key


def head_mac_matches(key: bytes, length: int, head_hash: bytes, mac: bytes | None) -> bool:
    """Whether `mac` is the head MAC of (length, head_hash). The empty chain needs none."""
    if mac is None:
        return length == 0 and bytes(head_hash) == GENESIS
    return crypto.audit_mac_matches(crypto.audit_head_mac(key, length, head_hash), mac)


_tampering_logged = False


def _log_unsigned_head_once() -> None:
    # One line per process, not one per event.
    global _tampering_logged
    if not _tampering_logged:
        _tampering_logged = True
        log.error("audit head MAC is missing or does not check out: new events are not signed; "
                  "run `whistle audit verify`")


def record(
    dbsession: Session,
    clock: Clock,
    *,
    actor: str,
    action: str,
    case_id: int | None = None,
    detail: dict | None = None,
    dated_to_day: bool = False,
) -> AuditEvent:
    """Append one event. `detail` is metadata only (ids, statuses, counts), never content.
    `dated_to_day`: an event found on a reporter's visit, dated like the reporter's own events;
    everything recorded in a reporter's request is dated so too (whistle.clock.ReportersClock)."""
    detail = detail or {}
    at = clock.record_time()
    if actor == REPORTER or dated_to_day:  # a reporter's actions are dated to the day, never the minute
        at = start_of_day(at)
    bulk = dbsession.info.get(_BULK)
    if bulk is not None:
        return _record_in_bulk(dbsession, bulk, at, actor, action, case_id, detail)
    key = audit_key_of(dbsession)
    # Taking the head row first serialises appenders, so two can never chain to the same parent.
    seq, prev_hash, head_mac = dbsession.execute(
        update(AuditHead).where(AuditHead.id == 1).values(length=AuditHead.length + 1)
        .returning(AuditHead.length, AuditHead.hash, AuditHead.mac)
    ).one()
    digest = event_hash(prev_hash, seq, at, actor, action, case_id, detail)
    event = AuditEvent(seq=seq, at=at, actor=actor, action=action, case_id=case_id, detail=detail,
                       prev_hash=prev_hash, hash=digest)
    dbsession.add(event)
    values: dict = {"hash": digest}
    if head_mac_matches(key, seq - 1, prev_hash, head_mac):
        values["mac"] = crypto.audit_head_mac(key, seq, digest)
    elif head_mac is not None or seq > 1:
        # Signing now would vouch for a head someone without the key wrote: the MAC is left as
        # it is, so `audit verify` keeps failing. (A head not signed yet, after the upgrade that
        # added the MAC, is signed by verify or the checkpoint, which first check the whole chain;
        # until then, or if someone removed the MAC, the log says so.)
        _log_unsigned_head_once()
    dbsession.execute(update(AuditHead).where(AuditHead.id == 1).values(**values))
    return event


_BULK = "audit_bulk"  # dbsession.info: the head as `appending_in_bulk` chains events in memory


@dataclass
class _BulkHead:
    length: int
    hash: bytes
    signed: bool  # the head taken at the start had a MAC that checked out (or the chain was empty)
    mac: bytes | None
    rolled_back: bool = False
    events: list[dict] = field(default_factory=list)  # written together when the block ends


@contextlib.contextmanager
def appending_in_bulk(dbsession: Session) -> Iterator[None]:
    """Within the block, `record` chains each event in memory from a head taken once (and locked,
    as `record` locks it), and the events and the head are written when the block ends: many
    events in a few statements (the tick's date rules, when hundreds of cases fall due on one
    day). The chain is the one `record` would have written, event for event; only, nothing in
    the block can read the events it recorded (`record` returns them unsaved).

    Nothing in the block may roll back a savepoint it took (the head in memory would count
    events that are gone): if one is rolled back, the block raises at its end, so the whole of
    it is rolled back by the caller. If the block raises, nothing is written here; the caller's
    transaction (or savepoint) around it must then roll back too."""
    if _BULK in dbsession.info:  # inside another bulk append: that one writes the head
        yield
        return
    key = audit_key_of(dbsession)
    length, head_hash, head_mac = dbsession.execute(
        update(AuditHead).where(AuditHead.id == 1).values(length=AuditHead.length)
        .returning(AuditHead.length, AuditHead.hash, AuditHead.mac)
    ).one()
    head = _BulkHead(length, head_hash, head_mac_matches(key, length, head_hash, head_mac), head_mac)
    dbsession.info[_BULK] = head
    try:
        yield
    finally:
        dbsession.info.pop(_BULK, None)
    if head.rolled_back:
        raise RuntimeError("a savepoint was rolled back inside audit.appending_in_bulk: its events are gone")
    if head.length == length:
        return
    dbsession.execute(insert(AuditEvent), head.events)
    values: dict = {"length": head.length, "hash": head.hash}
    if head.signed:
        values["mac"] = crypto.audit_head_mac(key, head.length, head.hash)
    else:  # as `record`: never sign a head someone without the key wrote
        _log_unsigned_head_once()
    dbsession.execute(update(AuditHead).where(AuditHead.id == 1).values(**values))


def _record_in_bulk(dbsession: Session, head: _BulkHead, at: datetime, actor: str, action: str,
                    case_id: int | None, detail: dict) -> AuditEvent:
    seq, prev_hash = head.length + 1, head.hash
    digest = event_hash(prev_hash, seq, at, actor, action, case_id, detail)
    row = {"seq": seq, "at": at, "actor": actor, "action": action, "case_id": case_id, "detail": detail,
           "prev_hash": prev_hash, "hash": digest}
    head.events.append(row)
    head.length, head.hash = seq, digest
    return AuditEvent(**row)


@sa_event.listens_for(Session, "after_soft_rollback")
def _rolled_back_in_bulk(dbsession: Session, _previous) -> None:
    head = dbsession.info.get(_BULK)
    if head is not None:
        head.rolled_back = True


def case_events(dbsession: Session, case_id: int, *, actions: Sequence[str] | None = None) -> list[AuditEvent]:
    """A case's events in order: all of them, or those of `actions` only (through the index by
    case and action, so the case's other events are not visited)."""
    query = select(AuditEvent).where(AuditEvent.case_id == case_id)
    if actions is not None:
        query = query.where(AuditEvent.action.in_(actions))
    return list(dbsession.scalars(query.order_by(AuditEvent.seq)))


@dataclass(frozen=True)
class CaseHistory:
    events: list[AuditEvent]  # in order
    left_out: bool  # whether older events of the repeated action were left out


def case_history(dbsession: Session, case_id: int, *, repeated: str, latest: int) -> CaseHistory:
    """A case's events for its timeline: every event, except that of the `repeated` action (one
    that happens again and again, like a guardian reading the case) only the `latest` ones. Two
    range scans of the index by case and action, so the cost does not grow with how often the
    repeated action happened before."""
    others = union_all(
        select(AuditEvent.id).where(AuditEvent.case_id == case_id, AuditEvent.action < repeated),
        select(AuditEvent.id).where(AuditEvent.case_id == case_id, AuditEvent.action > repeated),
    ).subquery()
    events = list(dbsession.scalars(select(AuditEvent).where(AuditEvent.id.in_(select(others.c.id)))))
    recent = list(dbsession.scalars(
        select(AuditEvent).where(AuditEvent.case_id == case_id, AuditEvent.action == repeated)
        .order_by(AuditEvent.seq.desc()).limit(latest + 1)))
    return CaseHistory(events=sorted(events + recent[:latest], key=lambda event: event.seq),
                       left_out=len(recent) > latest)


@dataclass(frozen=True)
class ChainReport:
    events: int
    first_broken: int | None  # seq of the first event that does not check out
    reason: str = ""

    @property
    def intact(self) -> bool:
        return self.first_broken is None


def verify_chain(dbsession: Session) -> ChainReport:
    """Walk the chain in order; name the first modified, missing or reordered event."""
    head = dbsession.get(AuditHead, 1)
    prev_hash, expected_seq, count = GENESIS, 1, 0
    for event in dbsession.scalars(select(AuditEvent).order_by(AuditEvent.seq)):
        count += 1
        if event.seq != expected_seq:
            return ChainReport(count, expected_seq, f"event {expected_seq} is missing")
        if event.prev_hash != prev_hash:
            return ChainReport(count, event.seq, "does not follow the event before it")
        digest = event_hash(prev_hash, event.seq, event.at, event.actor, event.action, event.case_id, event.detail)
        if digest != event.hash:
            return ChainReport(count, event.seq, "its contents were changed")
        prev_hash, expected_seq = event.hash, expected_seq + 1
    if head is not None and (head.length != count or head.hash != prev_hash):
        return ChainReport(count, count + 1, "events at the end of the chain are missing")
    return ChainReport(count, None)


# How often the tick adds a checkpoint (at most). Hourly, not every minute: a checkpoint says how
# long the chain was at a moment, and minute by minute that would date a reporter's events,
# which the chain dates to the day, to the minute in a file shipped off the host.
CHECKPOINT_EVERY = timedelta(hours=1)


class AuditTampered(Exception):
    """The audit log does not check out; the message names the first failure, in plain words."""


@dataclass(frozen=True)
class AuditReport:
    events: int
    checkpoints: int
    failure: str | None  # the first failure, in plain words
    head_signed_now: bool = False  # the head had no MAC yet (the first check after the upgrade)

    @property
    def intact(self) -> bool:
        return self.failure is None


def _chain_failure(report: ChainReport) -> str:
    return f"audit chain broken at event {report.first_broken}: {report.reason}"


_HEAD_MAC_REMOVED = ("audit head has no MAC, though checkpoints were written after it had one: "
                     "someone removed it")
_HEAD_MAC_WRONG = ("audit head MAC does not check out: the chain or its head was rewritten "
                   "by someone without the audit key (or the audit key file is not this installation's)")


def _not_a_checkpoint(line: CheckpointLine) -> str:
    return f"audit checkpoint file, line {line.number}: not a checkpoint"


def _checkpoint_failure(key: bytes, line: CheckpointLine, length: int, hashes: dict[int, bytes]) -> str | None:
    checkpoint = line.checkpoint
    if checkpoint is None:
        return _not_a_checkpoint(line)
    if not checkpoint.mac_matches(key):
        return (f"audit checkpoint on line {line.number} (event {checkpoint.seq}) does not check out: the line was "
                "changed, or not written with this installation's audit key")
    if checkpoint.seq > length:
        return (f"audit chain has {length} events, but the checkpoint on line {line.number} was taken at event "
                f"{checkpoint.seq}: events at the end were removed (the chain was cut short or rolled back)")
    if hashes.get(checkpoint.seq) != checkpoint.hash:
        return (f"audit event {checkpoint.seq} is not the one the checkpoint on line {line.number} recorded: "
                "the chain was rewritten or rolled back")
    return None


def _hashes_at(dbsession: Session, seqs: set[int]) -> dict[int, bytes]:
    wanted = sorted(seqs)
    found: dict[int, bytes] = {}
    for start in range(0, len(wanted), 500):  # stay under SQLite's bound-parameter limit
        batch = wanted[start:start + 500]
        rows = dbsession.execute(select(AuditEvent.seq, AuditEvent.hash).where(AuditEvent.seq.in_(batch)))
        found.update((seq, bytes(digest)) for seq, digest in rows)
    return found


def _sign_unsigned_head(dbsession: Session, key: bytes, length: int, head_hash: bytes) -> None:
    """Sign a head that has no MAC yet, only if it is still the head that was checked."""
    signed = cast(CursorResult[Any], dbsession.execute(  # an UPDATE: a CursorResult, typed as Result
        update(AuditHead)
        .where(AuditHead.id == 1, AuditHead.length == length, AuditHead.hash == head_hash, AuditHead.mac.is_(None))
        .values(mac=crypto.audit_head_mac(key, length, head_hash))
    )).rowcount
    if signed != 1:
        raise AuditTampered("events were added while the chain was being checked: run this again")
    log.warning("audit head had no MAC: signed at event %d as found. Expected once, at the first check after "
                "the upgrade that added it; at any other time someone removed the MAC, and the chain may have "
                "been rewritten: compare it with checkpoints kept off this host", length)


def verify_log(dbsession: Session, lines: Sequence[CheckpointLine]) -> AuditReport:
    """The whole check: the chain, the head's MAC, and every checkpoint (its MAC, and that the
    chain still holds the event it recorded). A head without a MAC is signed, once the chain
    checks out, only while no checkpoint has been written (the first check after the upgrade)."""
    key = audit_key_of(dbsession)
    checked = sum(1 for line in lines if line.checkpoint is not None)
    chain = verify_chain(dbsession)
    if not chain.intact:
        return AuditReport(chain.events, checked, _chain_failure(chain))
    head = dbsession.get(AuditHead, 1)
    length, head_hash, mac = (head.length, bytes(head.hash), head.mac) if head else (0, GENESIS, None)
    signed_now = False
    if mac is None and length > 0:
        if lines:
            return AuditReport(chain.events, checked, _HEAD_MAC_REMOVED)
        _sign_unsigned_head(dbsession, key, length, head_hash)
        signed_now = True
    elif not head_mac_matches(key, length, head_hash, mac):
        return AuditReport(chain.events, checked, _HEAD_MAC_WRONG)
    hashes = _hashes_at(dbsession, {line.checkpoint.seq for line in lines if line.checkpoint is not None})
    for line in lines:
        failure = _checkpoint_failure(key, line, length, hashes)
        if failure is not None:
            return AuditReport(chain.events, checked, failure)
    return AuditReport(chain.events, checked, None, head_signed_now=signed_now)


def write_checkpoint(dbsession: Session, clock: Clock, path: Path, *,
                     unless_newer_than: timedelta | None = None) -> Checkpoint | None:
    """Append a checkpoint of the chain's head to `path` and to the log; None when there is
    nothing new (no events, or none since the newest checkpoint, or that one is younger than
    `unless_newer_than`). Raises AuditTampered, and writes nothing, when the head's MAC or the
    newest checkpoint does not check out: a checkpoint must never vouch for a rewritten chain."""
    key = audit_key_of(dbsession)
    lines = read_checkpoint_file(path)
    for line in lines:
        if line.checkpoint is None:
            raise AuditTampered(_not_a_checkpoint(line))
    head = dbsession.get(AuditHead, 1)
    length, head_hash, mac = (head.length, bytes(head.hash), head.mac) if head else (0, GENESIS, None)
    if mac is None and length > 0:
        if lines:
            raise AuditTampered(_HEAD_MAC_REMOVED)
        chain = verify_chain(dbsession)  # once, on the first checkpoint after the upgrade
        if not chain.intact:
            raise AuditTampered(_chain_failure(chain))
        _sign_unsigned_head(dbsession, key, length, head_hash)
    elif not head_mac_matches(key, length, head_hash, mac):
        raise AuditTampered(_HEAD_MAC_WRONG)
    newest = max(lines, key=lambda line: line.checkpoint.seq if line.checkpoint else 0, default=None)
    now = clock.now()
    if newest is not None and newest.checkpoint is not None:
        failure = _checkpoint_failure(key, newest, length, _hashes_at(dbsession, {newest.checkpoint.seq}))
        if failure is not None:
            raise AuditTampered(failure)
        if newest.checkpoint.seq == length:
            return None
        if unless_newer_than is not None and now - newest.checkpoint.moment < unless_newer_than:
            return None
    if length == 0:
        return None
    checkpoint = Checkpoint.taken(key, length, head_hash, now)
    append_checkpoint(path, checkpoint)
    # Numbers, a hash and a MAC only: the line the file holds, for the log shipped off the host.
    log.info("audit checkpoint %s", checkpoint.line())
    return checkpoint


def checkpoint_job(ctx) -> str:
    """The tick's "audit checkpoint" job: a checkpoint when the newest is an hour old and the
    chain has grown. `ctx` is a whistle.jobs.TickContext."""
    with ctx.session() as dbsession:
        try:
            checkpoint = write_checkpoint(dbsession, ctx.clock, ctx.settings.audit_checkpoint_file,
                                          unless_newer_than=CHECKPOINT_EVERY)
        except AuditTampered as failure:
            log.error("audit checkpoint not written: %s", failure)
            return f"audit checkpoint: not written: {failure}; run `whistle audit verify`"
    if checkpoint is None:
        return "audit checkpoint: none due"
    return f"audit checkpoint: at event {checkpoint.seq}"
