"""Staff accounts: guardians (who handle cases) and admins (who configure, and read nothing)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, LargeBinary, String
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
    # stored only wrapped: under the wrap key the guardian's device derives from the password
    # (key_by_device, docs/crypto.md 6.13), and under the recovery key.
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    key_by_recovery: Mapped[bytes] = mapped_column(LargeBinary)
    # Signing in on the device: the Argon2id salt and cost the device derives with, and the keyed
    # hash of the auth key it proves itself with. Set: the account is "moved over".
    sign_in_salt: Mapped[bytes | None] = mapped_column(LargeBinary(16), default=None)
    sign_in_opslimit: Mapped[int | None] = mapped_column(default=None)
    sign_in_memlimit: Mapped[int | None] = mapped_column(BigInteger, default=None)
    sign_in_verifier: Mapped[bytes | None] = mapped_column(LargeBinary(32), default=None)
    key_by_device: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    # The TOTP secret, under a key derived from the session key file (docs/crypto.md 5.9), so the
    # code is checked without the guardian's private key.
    totp_secret_server: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    # An account not moved over yet: the private key under Argon2id(password) (docs/crypto.md 5.4)
    # and the TOTP secret sealed to the account's public key; both empty (b"") once moved over.
    key_by_password: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    totp_secret_sealed: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    # The last TOTP time step accepted, so a code cannot be used twice.
    totp_last_step: Mapped[int | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Failed sign-ins on this account (from any client, refused ones too) since its owner last
    # marked them read: told to the owner on their pages. Never a pause: sign-in is slowed per
    # client (whistle.accounts.services), so nobody can keep the owner out with their username.
    failed_logins: Mapped[int] = mapped_column(default=0)
    # Where this guardian is told that something needs them: a notification channel's
    # name (e.g. "email", "webhook") and its address there. Staff contact data, never case data.
    notify_channel: Mapped[str | None] = mapped_column(String(32), default=None)
    notify_address: Mapped[str | None] = mapped_column(String(512), default=None)
    # The events this guardian does not want to be told about (whistle.notifications.preferences): the
    # ones turned OFF, so an event added later reaches everyone until they turn it off.
    notify_events_off: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    # The language this guardian's notices are written in (a code of whistle.i18n.LANGUAGES), and
    # the prefix of their sign-in link; None: as the notification channel writes them.
    notify_language: Mapped[str | None] = mapped_column(String(8), default=None)

    @property
    def moved_over(self) -> bool:
        """Whether the account signs in with keys derived on the device (docs/crypto.md 6.13)."""
        return self.sign_in_verifier is not None
