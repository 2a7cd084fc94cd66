"""The single-writer lease that stands in for row locks on SQLite (see lease.py), and when each job last
succeeded."""
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


class JobRun(Base):
    """When each scheduled job last ran to its end without failing, on any node (for /metrics: a
    job that stops succeeding shows as a time that stops moving)."""

    __tablename__ = "scheduler_job_runs"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    succeeded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
