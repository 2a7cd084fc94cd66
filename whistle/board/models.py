"""The "you said, we did" board: entries an improvement lead publishes about ideas acted on."""
from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from whistle.db import Base
from whistle.intake_channels.models import Channel


class BoardEntry(Base):
    """One published entry: the guardian's OWN public words, in plain text (never the reporter's,
    unless the case's reporter agreed to be quoted: cases.board_consent). It is public, so it is
    not case content and is not encrypted; it outlives its case (case_id becomes NULL when the
    case is purged) and its author's account."""

    __tablename__ = "board_entries"
    __table_args__ = (Index("ix_board_entries_published_on", "published_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(200))
    # "You said": what the idea was, summarised in the lead's words.
    you_said: Mapped[str] = mapped_column(Text)
    # "We did": what changed because of it.
    we_did: Mapped[str] = mapped_column(Text)
    published_on: Mapped[date] = mapped_column(Date)
    # The last day it was edited (None: never since it was published).
    edited_on: Mapped[date | None] = mapped_column(Date)

    channel: Mapped[Channel] = relationship()
