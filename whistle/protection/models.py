"""Retaliation watch tables: no personnel number or name is ever stored, only blind indexes."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from whistle.db import Base


class Integration(Base):
    """A system (an HR database) allowed to post personnel events; known by its token's keyed hash."""

    __tablename__ = "integrations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    token_id: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)


class Protection(Base):
    """A reporter under retaliation watch: the blind index of their personnel number and a window."""

    __tablename__ = "protections"
    __table_args__ = (Index("ix_protections_person_index", "person_index"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    person_index: Mapped[bytes] = mapped_column(LargeBinary(32))
    starts_on: Mapped[date] = mapped_column(Date)
    window_months: Mapped[int] = mapped_column(default=24)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    created_on: Mapped[date] = mapped_column(Date)


class ProtectionAlert(Base):
    """Something that needs a guardian's attention: an adverse HR event, or a check-in answered "yes"."""

    __tablename__ = "protection_alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    event_type: Mapped[str] = mapped_column(String(64))
    effective: Mapped[date] = mapped_column(Date)
    rule: Mapped[str] = mapped_column(String(64))
    created_on: Mapped[date] = mapped_column(Date)
    acknowledged_on: Mapped[date | None] = mapped_column(Date)
    # The day the case's guardians were sent a notice about it (by the first tick of the day
    # after it was raised; see whistle.protection.services.notify_alerts).
    notified_on: Mapped[date | None] = mapped_column(Date)


class CheckIn(Base):
    """A reporter's answer to the check-in due `due_month` months after they spoke up (dates only)."""

    __tablename__ = "checkins"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    due_month: Mapped[int] = mapped_column(primary_key=True)
    answered_on: Mapped[date] = mapped_column(Date)
    detriment: Mapped[bool] = mapped_column(Boolean)
