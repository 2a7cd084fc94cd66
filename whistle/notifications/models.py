"""The notification outbox: who must be told that something needs them, and nothing more."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from whistle.db import Base

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
# Dropped undelivered because its recipient was disabled (or is no longer a guardian): kept, not
# deleted, so the admin's counts add up.
CANCELLED = "cancelled"
STATES = (PENDING, DELIVERED, FAILED, CANCELLED)
ATTENTION = "attention"  # the kind of every notice: "something needs you, log in"
# A row about the account itself (its recovery key was used), not about cases: delivered as the
# same "attention" notice, but to its owner whatever their roles, even when they are not a guardian.
ACCOUNT = "account"


class Notification(Base):
    """One notice waiting for (or past) delivery.

    Content-free by construction (security promise 4): a recipient and a kind, never a case id,
    reference, channel, label or text — so neither this table nor anything delivered from it
    can say which case needs attention. The guardian logs in to find out."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_state_next_attempt_at", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # e.g. "attention"
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    state: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The Python type name of the last delivery error (e.g. "SMTPDataError"), never its message:
    # a message can echo the address or the server's words.
    last_error: Mapped[str | None] = mapped_column(String(64), default=None)


class NotificationRecipient(Base):
    """Per guardian: when they were last sent a notice (for batching), and the row a delivering
    tick locks (FOR UPDATE SKIP LOCKED) so that two ticks never both send to the same guardian."""

    __tablename__ = "notification_recipients"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    last_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
