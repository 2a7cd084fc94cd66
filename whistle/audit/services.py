"""The one place that writes audit events, and the check that the chain is intact."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from whistle.audit.models import AuditEvent, AuditHead
from whistle.clock import Clock, start_of_day

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
    # Taking the head row first serialises appenders, so two can never chain to the same parent.
    seq, prev_hash = dbsession.execute(
        update(AuditHead).where(AuditHead.id == 1).values(length=AuditHead.length + 1)
        .returning(AuditHead.length, AuditHead.hash)
    ).one()
    at = clock.record_time()
    if actor == REPORTER or dated_to_day:  # a reporter's actions are dated to the day, never the minute
        at = start_of_day(at)
    digest = event_hash(prev_hash, seq, at, actor, action, case_id, detail)
    event = AuditEvent(seq=seq, at=at, actor=actor, action=action, case_id=case_id, detail=detail,
                       prev_hash=prev_hash, hash=digest)
    dbsession.add(event)
    dbsession.execute(update(AuditHead).where(AuditHead.id == 1).values(hash=digest))
    return event


def case_events(dbsession: Session, case_id: int) -> list[AuditEvent]:
    return list(dbsession.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(AuditEvent.seq)))


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
