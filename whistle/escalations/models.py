"""How far the tick has run the cases' date rules (whistle.escalations.schedule)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import Date, String
from sqlalchemy.orm import Mapped, mapped_column

from whistle.db import Base


class ScheduleMark(Base):
    """The last day a tick ran the date rules for every case that could be due (name "date rules").

    A case inside no rule's window on a day is not touched that day: the mark stands for it. A
    case that was looked at carries its own day (cases.schedule_checked_on)."""

    __tablename__ = "schedule_marks"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    checked_through: Mapped[date] = mapped_column(Date)
