"""Staff accounts: enrolment (key pair, recovery key, TOTP) and password + TOTP login."""
from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import datetime

import pyotp
from sqlalchemy import select
from sqlalchemy.orm import Session

from whistle import audit, crypto
from whistle.accounts.models import Account
from whistle.channels.models import Channel, ChannelGuardian
from whistle.clock import Clock
from whistle.settings import Settings

MIN_PASSWORD_LENGTH = 12
USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
TOTP_ISSUER = "whistle"


class AccountError(ValueError):
    """Enrolment input that cannot be accepted; the message says why."""


class LoginFailed(Exception):
    """Wrong username, password or code. `reason` is for the audit log, never for the user."""

    def __init__(self, reason: str, account: Account | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.account = account


@dataclass(frozen=True)
class Enrolment:
    """What a new account's holder is shown once, and never again."""

    account: Account
    recovery_key: str
    totp_secret: str

    @property
    def totp_uri(self) -> str:
        return pyotp.TOTP(self.totp_secret).provisioning_uri(name=self.account.username, issuer_name=TOTP_ISSUER)


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password must be at least {MIN_PASSWORD_LENGTH} characters long")


def add_account(
    dbsession: Session,
    settings: Settings,
    clock: Clock,
    *,
    username: str,
    password: str,
    is_guardian: bool = True,
    is_admin: bool = False,
    channel_slugs: tuple[str, ...] = (),
) -> Enrolment:
    """Create a staff account; a guardian becomes a default recipient of each named channel."""
    if not USERNAME_PATTERN.match(username):
        raise AccountError("usernames are 2-64 characters: lower-case letters, digits, '.', '_' or '-'")
    if dbsession.scalars(select(Account).where(Account.username == username)).first():
        raise AccountError(f"the username {username!r} is taken")
    check_password(password)
    channels = []
    for slug in channel_slugs:
        channel = dbsession.scalars(select(Channel).where(Channel.slug == slug)).first()
        if channel is None:
            raise AccountError(f"there is no channel {slug!r}")
        channels.append(channel)

    keypair = crypto.KeyPair.generate()
    recovery_key = crypto.new_recovery_key()
    totp_secret = pyotp.random_base32()
    account = Account(
        username=username,
        is_guardian=is_guardian,
        is_admin=is_admin,
        public_key=keypair.public,
        key_by_password=crypto.wrap_with_password(keypair.private, password, settings.kdf),
        key_by_recovery=crypto.wrap_with_recovery_key(keypair.private, recovery_key),
        totp_secret_sealed=crypto.seal(keypair.public, totp_secret.encode("ascii")),
        created_at=clock.now(),
    )
    dbsession.add(account)
    dbsession.flush()
    # An admin who is not also a guardian receives no cases: the admin role opens nothing.
    if is_guardian:
        for channel in channels:
            dbsession.add(ChannelGuardian(channel_id=channel.id, account_id=account.id))
    audit.record(dbsession, clock, actor="system", action="account.created",
                 detail={"account_id": account.id, "guardian": is_guardian, "admin": is_admin,
                         "channels": [c.slug for c in channels]})
    return Enrolment(account=account, recovery_key=recovery_key, totp_secret=totp_secret)


def _totp_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step `code` belongs to (allowing one step of clock drift), or None."""
    totp = pyotp.TOTP(secret)
    code = code.strip().replace(" ", "")
    for drift in (0, -1, 1):
        moment = now.timestamp() + drift * totp.interval
        if hmac.compare_digest(totp.at(moment), code):
            return int(moment // totp.interval)
    return None


_dummy_envelopes: dict[tuple[int, int], bytes] = {}


def _spend_equal_time(settings: Settings, password: str) -> None:
    """Do the same Argon2id work as a real login, so an unknown username takes as long."""
    key = (settings.kdf.opslimit, settings.kdf.memlimit)
    if key not in _dummy_envelopes:
        _dummy_envelopes[key] = crypto.wrap_with_password(bytes(32), crypto.random_token(), settings.kdf)
    try:
        crypto.unwrap_with_password(_dummy_envelopes[key], password)
    except crypto.DecryptionFailed:
        pass


def authenticate(
    dbsession: Session, settings: Settings, clock: Clock, *, username: str, password: str, otp: str
) -> tuple[Account, crypto.KeyPair]:
    """Check password then TOTP; return the account and its unwrapped key pair.

    Raises LoginFailed. Callers audit the failure and answer the same way for every reason.
    """
    account = dbsession.scalars(select(Account).where(Account.username == username.strip().lower())).first()
    if account is None:
        _spend_equal_time(settings, password)
        raise LoginFailed("unknown-username")
    try:
        private = crypto.unwrap_with_password(account.key_by_password, password)
    except crypto.DecryptionFailed:
        raise LoginFailed("wrong-password", account) from None
    if account.disabled:
        raise LoginFailed("disabled", account)
    keypair = crypto.KeyPair.from_private(private)
    secret = crypto.unseal(keypair, account.totp_secret_sealed).decode("ascii")
    step = _totp_step(secret, otp, clock.now())
    if step is None:
        raise LoginFailed("wrong-otp", account)
    if account.totp_last_step is not None and step <= account.totp_last_step:
        raise LoginFailed("reused-otp", account)
    account.totp_last_step = step
    return account, keypair

