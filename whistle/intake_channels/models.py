"""Channels: the intake routes an organisation offers, each with its own questionnaire."""
from __future__ import annotations

from sqlalchemy import JSON, Boolean, ForeignKey, String, Text, false, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from whistle.accounts.models import Account
from whistle.db import Base

IDENTITY_MODES = ("anonymous", "confidential", "open")


class Channel(Base):
    __tablename__ = "channels"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    introduction: Mapped[str] = mapped_column(Text, default="")
    # A list of field definitions: {"name", "label", "type", "required", "help"?, "choices"?}.
    questionnaire: Mapped[list] = mapped_column(JSON, default=list)
    identity_modes: Mapped[list] = mapped_column(JSON, default=lambda: ["anonymous"])
    deadline_profile: Mapped[str] = mapped_column(String(64), default="eu_directive")
    # How long a case is kept, in days (whistle.cases.retention): after it was closed; after it
    # was closed without ever being taken up (never acknowledged); after the reporter withdrew it
    # (0: at the next tick).
    retention_days: Mapped[int] = mapped_column(default=5 * 365)
    retention_untaken_days: Mapped[int] = mapped_column(default=365, server_default="365")
    retention_withdrawn_days: Mapped[int] = mapped_column(default=30, server_default="30")
    # Whether the channel's guardians publish "you said, we did" entries on the public board.
    board: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Texts the forms show for this channel instead of the defaults: "text_label", "text_help",
    # and "plain": true for short, child-friendly wording throughout (the promises, the receipt).
    wording: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")
    # Whether the people who report here are staff: only they are offered a staff number, the
    # retaliation watch and its check-in questions (a child has no employer to watch).
    reporters_are_staff: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # The "get help now" panel on every reporter page of the channel: {"title": str, "lines":
    # [{"text": str, "link": str?}]}; empty for none.
    help_now: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")
    # Where the quick-exit button at the top of every reporter page leads; None for no button.
    quick_exit_url: Mapped[str | None] = mapped_column(String(500), default=None)
    # The channel's texts in other languages, by language code: {"cy": {"title", "introduction",
    # "wording": {"text_label", "text_help"}, "help_now": {"title", "lines": [text, ...]},
    # "fields": {name: {"label", "help", "choices"}}}}, each text optional (the English shows
    # instead). Reporters' pages show them (services.ChannelText); answers are stored in
    # the English (canonical) choices whatever language they were chosen in.
    translations: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")

    memberships: Mapped[list[ChannelGuardian]] = relationship(
        back_populates="channel", cascade="all, delete-orphan"
    )


TIER_DEFAULT, TIER_SECOND = 1, 2


class ChannelGuardian(Base):
    """A guardian on a channel: tier 1 receives every new case (the default recipients); tier 2
    (second tier) receives a case only when nobody of tier 1 may (all excluded or disabled)."""

    __tablename__ = "channel_guardians"

    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    tier: Mapped[int] = mapped_column(default=TIER_DEFAULT, server_default="1")

    channel: Mapped[Channel] = relationship(back_populates="memberships")
    account: Mapped[Account] = relationship()

