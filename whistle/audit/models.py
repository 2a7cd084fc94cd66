"""The audit log: metadata-only events in a hash chain, so tampering is detectable."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from whistle.db import Base


class AuditEvent(Base):
    __tablename__ = "audit_events"
    # A case's events of one kind, in order, without visiting the others: its timeline lists the
    # latest reads of a case read thousands of times without reading past every one of them.
    __table_args__ = (Index("ix_audit_events_case_action_seq", "case_id", "action", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Position in the chain (1, 2, ...), assigned under the chain head's row lock.
    seq: Mapped[int] = mapped_column(unique=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(64))  # "account:7", "reporter", "system"
    action: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[int | None] = mapped_column(index=True)  # no foreign key: events outlive purged cases
    detail: Mapped[dict] = mapped_column(JSON, default=dict)  # metadata only, never content
    prev_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class AuditHead(Base):
    """One row: the chain's length and last hash. Appending updates it first, which takes the
    row lock (PostgreSQL) or the write lock (SQLite), so concurrent appends cannot fork the chain.
    `mac` is keyed with the audit key, which the database never holds (whistle.crypto.audit): a
    database writer can recompute every hash, but not this."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    length: Mapped[int] = mapped_column(default=0)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    # None: not signed yet (an empty chain, or one made before the head was MACed; docs/operations.md).
    mac: Mapped[bytes | None] = mapped_column(LargeBinary(32))
