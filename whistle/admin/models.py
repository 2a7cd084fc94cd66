"""Who was given access to cases, and by whom: the record guardians see of changes to their
channels, and the changes waiting for a second admin (the two-admin rule). Metadata only."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from whistle.db import Base


class StaffingChange(Base):
    """One change to who may receive cases, as it was made: someone became an enabled guardian
    (`channel_id` None), or a guardian was added to a channel's first tier or its second tier
    (`tier` 1 or 2). Shown on the workspace of the channel's guardians (every guardian, for a new
    guardian), whose notice told them to look."""

    __tablename__ = "staffing_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    made_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    channel_id: Mapped[int | None] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"), index=True,
                                                   default=None)
    tier: Mapped[int | None] = mapped_column(default=None)
    # The admin who made (or proposed) it; None: the operator, on the server's command line.
    made_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"), default=None)
    # Under the two-admin rule, the second admin who approved it.
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"), default=None)


PROPOSED, APPROVED, REJECTED = "proposed", "approved", "rejected"


class StaffingProposal(Base):
    """A change to an account that gives access (roles, enabling, channels), held under the
    two-admin rule until an admin other than its proposer (and other than the account itself)
    approves it. `change` is what the account is to become: {"guardian", "admin", "disabled",
    "channels": [slugs]}."""

    __tablename__ = "staffing_proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    proposed_by: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    change: Mapped[dict] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16), default=PROPOSED, index=True)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
