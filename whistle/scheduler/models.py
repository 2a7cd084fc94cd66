"""The single-writer lease that stands in for row locks on SQLite (see lease.py)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from whistle.db import Base


class SchedulerLease(Base):
    """Who may run scheduled work now, until when. One row per lease name (e.g. "tick")."""

    __tablename__ = "scheduler_leases"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
