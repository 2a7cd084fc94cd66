"""Staff accounts: enrolment (key pair, recovery key, TOTP) and password + TOTP login."""
from __future__ import annotations

import contextlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from importlib import resources
from typing import Any, cast

import pyotp
from sqlalchemy import CursorResult, delete, select
from sqlalchemy.orm import Session

from whistle import audit, crypto, throttles
from whistle.accounts.events import AUTHENTICATOR, PASSWORD, AccountRecovered
from whistle.accounts.models import Account
from whistle.clock import Clock
from whistle.jobs import TickContext
from whistle.sessions.models import STAFF, LoginSession
from whistle.settings import Settings
from whistle.throttles import ClosedWindow, Throttle

MIN_PASSWORD_LENGTH = 12
USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
TOTP_ISSUER = "whistle"
# Login throttling per account: after this many failures in a row the account pauses sign-in
# for 1, 2, 4, ... minutes (at most an hour) per further failure. No client address is used.
FREE_FAILURES = 5
MAX_LOCK = timedelta(hours=1)


class AccountError(ValueError):
    """Enrolment input that cannot be accepted; the message says why."""


class LoginFailed(Exception):
    """Wrong username, password or code. `reason` is for the audit log, never for the user."""

    def __init__(self, reason: str, account: Account | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.account = account


def totp_uri(username: str, secret: str) -> str:
    """The otpauth:// URI an authenticator app reads (from a QR code, or pasted)."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=TOTP_ISSUER)


@dataclass(frozen=True)
class Enrolment:
    """What a new account's holder is shown once, and never again."""

    account: Account
    recovery_key: str
    totp_secret: str

    @property
    def totp_uri(self) -> str:
        return totp_uri(self.account.username, self.totp_secret)


@dataclass(frozen=True)
class NewAuthenticator:
    """A re-enrolled authenticator's secret, and the recovery key that replaced the one used:
    shown once, and never again."""

    account: Account
    totp_secret: str
    recovery_key: str

    @property
    def totp_uri(self) -> str:
        return totp_uri(self.account.username, self.totp_secret)

    @property
    def grouped_secret(self) -> str:
        """The secret in groups of four, for typing into an app by hand."""
        return " ".join(self.totp_secret[i:i + 4] for i in range(0, len(self.totp_secret), 4))


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords (see the header of common-passwords.txt)."""
    text = resources.files("whistle.accounts").joinpath("common-passwords.txt").read_text(encoding="utf-8")
    return frozenset(line for line in text.splitlines() if line and not line.startswith("#"))


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password must be at least {MIN_PASSWORD_LENGTH} characters long")
    if password.strip().lower() in common_passwords():
        raise AccountError("that password is on a list of common passwords; choose another")


def check_new_account(dbsession: Session, username: str, password: str) -> None:
    """Raise AccountError if an account `username` with `password` cannot be made."""
    if not USERNAME_PATTERN.match(username):
        raise AccountError("usernames are 2-64 characters: lower-case letters, digits, '.', '_' or '-'")
    if dbsession.scalars(select(Account).where(Account.username == username)).first():
        raise AccountError(f"the username {username!r} is taken")
    check_password(password)


def create_account(dbsession: Session, settings: Settings, clock: Clock, *, username: str, password: str,
                   is_guardian: bool, is_admin: bool) -> Enrolment:
    """A new staff account with its key pair, recovery key and TOTP secret, flushed. The caller has
    checked the username and password (check_new_account) and records "account.created"
    (record_created) once the account is complete."""
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
    return Enrolment(account=account, recovery_key=recovery_key, totp_secret=totp_secret)


def record_created(dbsession: Session, clock: Clock, account: Account, *, actor: str,
                   channel_slugs: tuple[str, ...] = ()) -> None:
    """Audit a new account, with the channels it receives new cases from (their slugs)."""
    audit.record(dbsession, clock, actor=actor, action="account.created",
                 detail={"account_id": account.id, "guardian": account.is_guardian, "admin": account.is_admin,
                         "channels": list(channel_slugs)})


def add_account(dbsession: Session, settings: Settings, clock: Clock, *, username: str, password: str,
                is_guardian: bool = True, is_admin: bool = False, actor: str = "system") -> Enrolment:
    """Create a staff account that receives no channel's cases yet (whistle.admin.services.add_account
    also makes a guardian a default recipient of channels)."""
    check_new_account(dbsession, username, password)
    enrolment = create_account(dbsession, settings, clock, username=username, password=password,
                               is_guardian=is_guardian, is_admin=is_admin)
    record_created(dbsession, clock, enrolment.account, actor=actor)
    return enrolment


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
    with contextlib.suppress(crypto.DecryptionFailed):
        crypto.unwrap_with_password(_dummy_envelopes[key], password)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def lock_for(failures: int) -> timedelta | None:
    """How long sign-in pauses after `failures` failures in a row (None: not yet)."""
    if failures < FREE_FAILURES:
        return None
    return min(timedelta(minutes=2 ** min(failures - FREE_FAILURES, 10)), MAX_LOCK)


def _failed(account: Account, clock: Clock, reason: str) -> LoginFailed:
    account.failed_logins = (account.failed_logins or 0) + 1
    pause = lock_for(account.failed_logins)
    if pause is not None:
        account.locked_until = clock.now() + pause
    return LoginFailed(reason, account)


def authenticate(
    dbsession: Session, settings: Settings, clock: Clock, *, username: str, password: str, otp: str
) -> tuple[Account, crypto.KeyPair]:
    """Check password then TOTP; return the account and its unwrapped key pair.

    Raises LoginFailed. Callers audit the failure and answer the same way for every reason,
    a paused (throttled) account included: while paused the password is not even tried, so
    guessing during the pause learns nothing. The caller commits, so failures are counted.
    """
    account = dbsession.scalars(select(Account).where(Account.username == username.strip().lower())).first()
    if account is None:
        _spend_equal_time(settings, password)
        raise LoginFailed("unknown-username")
    if account.locked_until is not None and _aware(account.locked_until) > clock.now():
        _spend_equal_time(settings, password)
        raise LoginFailed("locked", account)
    try:
        private = crypto.unwrap_with_password(account.key_by_password, password)
    except crypto.DecryptionFailed:
        raise _failed(account, clock, "wrong-password") from None
    if account.disabled:
        raise LoginFailed("disabled", account)
    keypair = crypto.KeyPair.from_private(private)
    secret = crypto.unseal(keypair, account.totp_secret_sealed).decode("ascii")
    step = _totp_step(secret, otp, clock.now())
    if step is None:
        raise _failed(account, clock, "wrong-otp")
    if account.totp_last_step is not None and step <= account.totp_last_step:
        raise _failed(account, clock, "reused-otp")
    account.totp_last_step = step
    account.failed_logins, account.locked_until = 0, None
    return account, keypair


def end_sessions(dbsession: Session, account: Account, *, except_session_id: int | None = None) -> int:
    """Delete the account's staff sessions (all, or all but one); returns how many."""
    query = delete(LoginSession).where(LoginSession.account_id == account.id, LoginSession.kind == STAFF)
    if except_session_id is not None:
        query = query.where(LoginSession.id != except_session_id)
    return cast(CursorResult[Any], dbsession.execute(query)).rowcount or 0  # a DELETE: a CursorResult, typed as Result


def staff_sessions(dbsession: Session, account: Account) -> list[LoginSession]:
    return list(dbsession.scalars(
        select(LoginSession).where(LoginSession.account_id == account.id, LoginSession.kind == STAFF)
        .order_by(LoginSession.created_at.desc(), LoginSession.id.desc())
    ))


def change_password(
    dbsession: Session, settings: Settings, clock: Clock, account: Account, *, current: str, new: str,
    keep_session_id: int | None = None,
) -> None:
    """Rewrap the account's private key under `new`; other sessions end. Raises AccountError.

    A wrong current password counts as a failed login (audited, and towards the pause), so a
    borrowed session cannot be used to guess the password; nothing else changes before the
    checks pass, so the caller may commit after a refusal to keep that record."""
    paused = account.locked_until is not None and _aware(account.locked_until) > clock.now()
    try:
        if paused:
            raise crypto.DecryptionFailed("paused")
        private = crypto.unwrap_with_password(account.key_by_password, current)
    except crypto.DecryptionFailed:
        failure = _failed(account, clock, "locked" if paused else "wrong-password")
        audit.record(dbsession, clock, actor=f"account:{account.id}", action="account.password_change_failed",
                     detail={"reason": failure.reason})
        raise AccountError("the current password is not right (after several tries, wait a few minutes)") from None
    check_password(new)
    account.key_by_password = crypto.wrap_with_password(private, new, settings.kdf)
    end_sessions(dbsession, account, except_session_id=keep_session_id)
    audit.record(dbsession, clock, actor=f"account:{account.id}", action="account.password_changed",
                 detail={"account_id": account.id})


RECOVERY_MISMATCH = "that username and recovery key do not match"
# Wrong recovery keys are counted across the whole service, per hour (whistle.throttles): past the
# budget (whistle.accounts.recovery_failures_per_hour) every try is refused until the hour ends,
# and each hour's count is one audit event, however many tries it had.
RECOVERY_THROTTLE = "recovery-key-failures"
RECOVERY_WINDOW = timedelta(hours=1)


class RecoveryPaused(AccountError):
    """Too many wrong recovery keys on this service this hour: none is tried before `until`."""

    def __init__(self, until: datetime) -> None:
        super().__init__("too many wrong recovery keys have been tried on this service in the last hour")
        self.until = until


def recovery_paused_until(dbsession: Session, settings: Settings, clock: Clock) -> datetime | None:
    """When recovery keys are tried again, if this hour's wrong ones used up the budget; else None."""
    return throttles.spent(dbsession, clock, RECOVERY_THROTTLE, RECOVERY_WINDOW, settings.recovery_failures_per_hour)


def _record_recovery_failures(dbsession: Session, clock: Clock, closed: ClosedWindow) -> None:
    # Neither a username nor a key: an entry naming an account would tell anyone reading the log.
    audit.record(dbsession, clock, actor="anonymous", action="account.recovery_failures",
                 detail={"count": closed.count, "from": closed.start.isoformat(), "to": closed.end.isoformat()})


def count_recovery_failure(dbsession: Session, clock: Clock) -> None:
    """Count a wrong (or refused) recovery key; the hour before, if it has just ended with tries
    in it, is audited with its count. The caller commits, so the count is kept."""
    closed = throttles.count_one(dbsession, clock, RECOVERY_THROTTLE, RECOVERY_WINDOW)
    if closed is not None:
        _record_recovery_failures(dbsession, clock, closed)


def close_recovery_hour(dbsession: Session, clock: Clock) -> int:
    """Audit the hour of wrong recovery keys that has ended, if no try since has done so; returns
    how many tries that hour had (0: nothing to record)."""
    row = dbsession.get(Throttle, RECOVERY_THROTTLE, with_for_update=True)
    closed = throttles.close_ended(row, clock, RECOVERY_WINDOW) if row is not None else None
    if closed is None:
        return 0
    _record_recovery_failures(dbsession, clock, closed)
    return closed.count


def recovery_failures_job(ctx: TickContext) -> list[str]:
    """The tick's "recovery failures" job: an ended hour of wrong recovery keys is audited (and
    said in a line; nothing is said when there was nothing to record)."""
    with ctx.session() as dbsession:
        count = close_recovery_hour(dbsession, ctx.clock)
    return [f"recovery failures: {count} wrong recovery keys recorded for the hour that ended"] if count else []


@lru_cache(maxsize=1)
def _stand_in_recovery_envelope() -> bytes:
    """A recovery wrap under a random key nobody keeps, tried for an unknown username."""
    return crypto.wrap_with_recovery_key(bytes(32), crypto.new_recovery_key())


def _recover(dbsession: Session, settings: Settings, clock: Clock, username: str, recovery_key: str, *,
             throttled: bool) -> tuple[Account, bytes]:
    """The account and its private key, unwrapped with the recovery key; AccountError otherwise.

    An unknown username and a wrong key get the same error after the same work (an unwrap of a
    stand-in envelope), so neither the answer nor its timing tells whether the username exists.
    (The unwrap is a keyed hash and an AEAD check, microseconds next to the lookup, unlike the
    Argon2id a sign-in spends: see _spend_equal_time.) `throttled`: the try is refused with
    RecoveryPaused, untried, once this hour's budget is spent, and a failure is counted (the
    pages and the API; the operator's command line is not throttled)."""
    if throttled:
        until = recovery_paused_until(dbsession, settings, clock)
        if until is not None:
            count_recovery_failure(dbsession, clock)
            raise RecoveryPaused(until)
    account = account_named(dbsession, username)
    envelope = account.key_by_recovery if account is not None else _stand_in_recovery_envelope()
    try:
        private = crypto.unwrap_with_recovery_key(envelope, recovery_key.strip())
    except (crypto.DecryptionFailed, ValueError):
        if throttled:
            count_recovery_failure(dbsession, clock)
        raise AccountError(RECOVERY_MISMATCH) from None
    if account is None:  # not reached: the stand-in's key is random and forgotten
        raise AccountError(RECOVERY_MISMATCH)
    return account, private


def _replace_recovery_key(account: Account, private: bytes) -> str:
    """A new recovery key for the account: the private key is wrapped under it, and the old key
    opens nothing any more (a copy of it, however it was taken, is worthless from now on)."""
    recovery_key = crypto.new_recovery_key()
    account.key_by_recovery = crypto.wrap_with_recovery_key(private, recovery_key)
    return recovery_key


@dataclass(frozen=True)
class PasswordReset:
    """A forgotten password set anew, and the recovery key that replaced the one used: shown once."""

    account: Account
    recovery_key: str


def reset_password(
    dbsession: Session, settings: Settings, clock: Clock, *, username: str, recovery_key: str, new: str,
    call_hook, actor: str = "system", throttled: bool = True,
) -> PasswordReset:
    """A forgotten password: the recovery key unwraps the private key, which is rewrapped under
    `new`, so access to every granted case is kept, and under a new recovery key, which replaces
    the one used. All sessions end; the lock is lifted; the owner is told (AccountRecovered).
    Raises AccountError (RecoveryPaused past the hour's budget) before anything changes but the
    count of wrong keys."""
    account, private = _recover(dbsession, settings, clock, username, recovery_key, throttled=throttled)
    check_password(new)
    account.key_by_password = crypto.wrap_with_password(private, new, settings.kdf)
    new_recovery_key = _replace_recovery_key(account, private)
    account.failed_logins, account.locked_until = 0, None
    end_sessions(dbsession, account)
    audit.record(dbsession, clock, actor=actor, action="account.password_reset",
                 detail={"account_id": account.id, "recovery_key_replaced": True})
    call_hook.publish(AccountRecovered(account=account, what=PASSWORD))
    return PasswordReset(account=account, recovery_key=new_recovery_key)


def reset_authenticator(
    dbsession: Session, settings: Settings, clock: Clock, *, username: str, recovery_key: str, call_hook,
    actor: str | None = None, throttled: bool = True,
) -> NewAuthenticator:
    """A lost authenticator: the recovery key proves the account, and a new TOTP secret is
    sealed to its public key (as at enrolment); a new recovery key replaces the one used. Codes
    from the old secret stop working, the used-code record and any sign-in pause are cleared,
    every session of the account ends, and the owner is told (AccountRecovered). Raises
    AccountError, with the same words for an unknown username and a wrong key (RecoveryPaused
    past the hour's budget), before anything changes but the count of wrong keys."""
    account, private = _recover(dbsession, settings, clock, username, recovery_key, throttled=throttled)
    secret = pyotp.random_base32()
    account.totp_secret_sealed = crypto.seal(account.public_key, secret.encode("ascii"))
    new_recovery_key = _replace_recovery_key(account, private)
    account.totp_last_step = None
    account.failed_logins, account.locked_until = 0, None
    ended = end_sessions(dbsession, account)
    audit.record(dbsession, clock, actor=actor or f"account:{account.id}", action="account.authenticator_reset",
                 detail={"account_id": account.id, "sessions_ended": ended, "recovery_key_replaced": True})
    call_hook.publish(AccountRecovered(account=account, what=AUTHENTICATOR))
    return NewAuthenticator(account=account, totp_secret=secret, recovery_key=new_recovery_key)


def account_named(dbsession: Session, username: str) -> Account | None:
    return dbsession.scalars(select(Account).where(Account.username == username.strip().lower())).first()


def set_disabled(dbsession: Session, clock: Clock, account: Account, disabled: bool, *, actor: str) -> None:
    """Disable (ending every session) or re-enable an account."""
    if account.disabled == disabled:
        return
    account.disabled = disabled
    if disabled:
        end_sessions(dbsession, account)
    audit.record(dbsession, clock, actor=actor, action="account.disabled" if disabled else "account.enabled",
                 detail={"account_id": account.id})


def set_roles(dbsession: Session, clock: Clock, account: Account, *, guardian: bool, admin: bool, actor: str) -> None:
    if not (guardian or admin):
        raise AccountError("an account needs at least one role")
    if (account.is_guardian, account.is_admin) == (guardian, admin):
        return
    account.is_guardian, account.is_admin = guardian, admin
    audit.record(dbsession, clock, actor=actor, action="account.roles_changed",
                 detail={"account_id": account.id, "guardian": guardian, "admin": admin})
