"""Staff accounts: guardians (who handle cases) and admins (who configure, and read nothing)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from whistle.db import Base


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    is_guardian: Mapped[bool] = mapped_column(Boolean, default=True)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)

    # The account's X25519 key pair: case keys are sealed to `public_key`; the private key is
    # stored only wrapped, once under Argon2id(password) and once under the recovery key.
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    key_by_password: Mapped[bytes] = mapped_column(LargeBinary)
    key_by_recovery: Mapped[bytes] = mapped_column(LargeBinary)
    # The TOTP secret, sealed to the account's own public key: readable only after the password.
    totp_secret_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    # The last TOTP time step accepted, so a code cannot be used twice.
    totp_last_step: Mapped[int | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Login throttling per account (no client address is ever used for it).
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Where this guardian is told that something needs them: a notification channel's
    # name (e.g. "email", "webhook") and its address there. Staff contact data, never case data.
    notify_channel: Mapped[str | None] = mapped_column(String(32), default=None)
    notify_address: Mapped[str | None] = mapped_column(String(512), default=None)
    # The events this guardian does not want to be told about (whistle.notifications.preferences): the
    # ones turned OFF, so an event added later reaches everyone until they turn it off.
    notify_events_off: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
