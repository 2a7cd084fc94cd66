"""Throttles kept in the database, keyed by purpose, never by client address."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from whistle.db import Base


class Throttle(Base):
    """A fixed-window counter: `count` events of `key` since `window_start`.

    Used for things like wrong receipts across the whole service: an attacker guessing
    receipts is slowed down without anyone's address being stored."""

    __tablename__ = "throttles"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    count: Mapped[int] = mapped_column(default=0)
