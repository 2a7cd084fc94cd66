"""What intake keeps besides cases: the proof-of-work challenges already used."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from whistle.db import Base


class SpentChallenge(Base):
    """A proof-of-work challenge (whistle.crypto.work) a report was sent with, remembered until it
    would have expired anyway, so one solution serves one report. The nonce is random and the
    expiry a midnight: neither says anything about the reporter, the report or when it was sent."""

    __tablename__ = "spent_challenges"

    nonce: Mapped[bytes] = mapped_column(LargeBinary(16), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
