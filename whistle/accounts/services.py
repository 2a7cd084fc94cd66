"""Staff accounts: enrolment (key pair, recovery key, TOTP) and password + TOTP login."""
from __future__ import annotations

import contextlib
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from importlib import resources
from typing import Any, cast

import pyotp
from sqlalchemy import CursorResult, delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from whistle import audit, crypto, throttles
from whistle.accounts.events import AUTHENTICATOR, PASSWORD, AccountRecovered
from whistle.accounts.models import Account
from whistle.clock import Clock
from whistle.i18n import _
from whistle.jobs import TickContext
from whistle.sessions.models import STAFF, LoginSession
from whistle.settings import Settings
from whistle.throttles import ClosedWindow, Throttle

MIN_PASSWORD_LENGTH = 12
USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
TOTP_ISSUER = "whistle"


class AccountError(ValueError):
    """Enrolment input that cannot be accepted; the message says why (in lower case, for the
    command line, the log and the JSON API), and `sentence` says it to a person on a page: a
    marked sentence when the raiser gave one, so it is shown in the page's language."""

    def __init__(self, message: str, sentence: str | None = None) -> None:
        super().__init__(message)
        self._sentence = sentence

    @property
    def sentence(self) -> str:
        if self._sentence is not None:
            return self._sentence
        message = str(self)
        return message[:1].upper() + message[1:] + "."


class LoginFailed(Exception):
    """Wrong username, password or code, or a try refused untried (`paused`, which says until
    when). `reason` is for the audit log, never for the user."""

    def __init__(self, reason: str, account: Account | None = None, paused: SignInPaused | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.account = account
        self.paused = paused


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
    """The shipped list of common passwords (see the header of common-passwords.txt). It lives with
    the static files: the password page's script checks a new password against the same list on
    the device (a password changed there never reaches the server)."""
    text = resources.files("whistle").joinpath("static", "common-passwords.txt").read_text(encoding="utf-8")
    return frozenset(line for line in text.splitlines() if line and not line.startswith("#"))


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password must be at least {MIN_PASSWORD_LENGTH} characters long",
                           _("The password must be at least ${count} characters long.",
                             mapping={"count": MIN_PASSWORD_LENGTH}))
    if password.strip().lower() in common_passwords():
        raise AccountError("that password is on a list of common passwords; choose another",
                           _("That password is on a list of common passwords; choose another."))


def check_new_account(dbsession: Session, username: str, password: str) -> None:
    """Raise AccountError if an account `username` with `password` cannot be made."""
    if not USERNAME_PATTERN.match(username):
        raise AccountError("usernames are 2-64 characters: lower-case letters, digits, '.', '_' or '-'",
                           _("Usernames are 2-64 characters: lower-case letters, digits, '.', '_' or '-'."))
    if dbsession.scalars(select(Account).where(Account.username == username)).first():
        raise AccountError(f"the username {username!r} is taken",
                           _("The username ${username} is taken.", mapping={"username": repr(username)}))
    check_password(password)


def create_account(dbsession: Session, settings: Settings, clock: Clock, *, username: str, password: str,
                   is_guardian: bool, is_admin: bool) -> Enrolment:
    """A new staff account with its key pair, recovery key and TOTP secret, flushed, that signs in
    on the device (docs/crypto.md 6.13): the initial password, which the admin chose, is used here
    once to derive its keys. The caller has checked the username and password (check_new_account)
    and records "account.created" (record_created) once the account is complete."""
    keypair = crypto.KeyPair.generate()
    recovery_key = crypto.new_recovery_key()
    totp_secret = pyotp.random_base32()
    account = Account(
        username=username,
        is_guardian=is_guardian,
        is_admin=is_admin,
        public_key=keypair.public,
        key_by_recovery=crypto.wrap_with_recovery_key(keypair.private, recovery_key),
        created_at=clock.now(),
    )
    dbsession.add(account)
    dbsession.flush()  # the id, which the server-kept TOTP secret is bound to
    _set_sign_in_keys(account, settings, keypair.private, password)
    _keep_totp_secret(account, settings, totp_secret)
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


# --- signing in: keys derived from the password (docs/crypto.md 6.13) ---------------------------

TOTP_PURPOSE = "totp"


def _owner(account: Account) -> str:
    return f"account:{account.id}"


def _set_sign_in_keys(account: Account, settings: Settings, private: bytes, password: str) -> None:
    """Derive the account's sign-in keys from `password` with a fresh salt at the deployment's
    cost, as the device does, and store the verifier and the private key under the wrap key.
    Only where the password reaches the server anyway: the admin's initial password, a legacy
    account's sign-in, a reset with the recovery key, a change without JavaScript."""
    salt = crypto.random_bytes(crypto.SIGN_IN_SALT_LEN)
    auth_key, wrap_key = crypto.derive_sign_in_keys(password, salt, settings.kdf)
    _store_sign_in_keys(account, settings, salt=salt, cost=settings.kdf, auth_key=auth_key,
                        key_by_device=crypto.wrap_for_device(private, wrap_key))


def _store_sign_in_keys(account: Account, settings: Settings, *, salt: bytes, cost: crypto.KdfCost, auth_key: bytes,
                        key_by_device: bytes) -> None:
    account.sign_in_salt = salt
    account.sign_in_opslimit, account.sign_in_memlimit = cost.opslimit, cost.memlimit
    account.sign_in_verifier = crypto.sign_in_verifier(auth_key, settings.session_key)
    account.key_by_device = key_by_device
    # The password wrap is gone once the account is moved over: nothing opens with the password
    # on the server any more but the keys above.
    account.key_by_password = b""


def _keep_totp_secret(account: Account, settings: Settings, secret: str) -> None:
    account.totp_secret_server = crypto.keep_on_server(secret.encode("ascii"), purpose=TOTP_PURPOSE,
                                                       owner=_owner(account), session_key=settings.session_key)
    account.totp_secret_sealed = b""


def _totp_secret(account: Account, settings: Settings, keypair: crypto.KeyPair | None) -> str | None:
    """The account's TOTP secret: kept by the server, or (an account not moved over yet) sealed
    to its public key, which needs the private key. None if it cannot be read."""
    try:
        if account.totp_secret_server:
            return crypto.read_kept_on_server(account.totp_secret_server, purpose=TOTP_PURPOSE, owner=_owner(account),
                                              session_key=settings.session_key).decode("ascii")
        if keypair is not None and account.totp_secret_sealed:
            return crypto.unseal(keypair, account.totp_secret_sealed).decode("ascii")
    except crypto.DecryptionFailed:
        return None
    return None


def move_over(account: Account, settings: Settings, keypair: crypto.KeyPair, password: str) -> None:
    """Move an account made before device sign-in over to it, with its password (which reached
    the server this once): sign-in keys derived with a fresh salt, the TOTP secret kept by the
    server, and the password wrap and sealed TOTP secret emptied."""
    secret = _totp_secret(account, settings, keypair)
    _set_sign_in_keys(account, settings, keypair.private, password)
    if secret is not None and not account.totp_secret_server:
        _keep_totp_secret(account, settings, secret)


@dataclass(frozen=True)
class SignInParameters:
    """What a device needs to derive its sign-in keys: "device/1" with the salt and cost, or
    "password" for an account not moved over yet (it posts the password once)."""

    scheme: str
    salt: bytes | None = None
    cost: crypto.KdfCost | None = None


DEVICE_SCHEME = "device/1"
PASSWORD_SCHEME = "password"


def sign_in_parameters(dbsession: Session, settings: Settings, username: str) -> SignInParameters:
    """The salt and cost for `username`. An unknown username gets a stand-in salt (the same each
    time, unpredictable without the session key file) and the deployment's cost, as an account
    made now would have, so the answer does not say whether the account exists. (An account not
    moved over yet is told "password", and one whose cost predates a change of the deployment's
    cost shows that cost: both stop once it signs in.)"""
    account = account_named(dbsession, username)
    if account is not None and not account.moved_over:
        return SignInParameters(PASSWORD_SCHEME)
    if account is None or account.sign_in_salt is None:
        return SignInParameters(DEVICE_SCHEME, crypto.stand_in_salt(_normal(username), settings.session_key),
                                settings.kdf)
    return SignInParameters(DEVICE_SCHEME, account.sign_in_salt,
                            crypto.KdfCost(account.sign_in_opslimit or 0, account.sign_in_memlimit or 0))


def _normal(username: str) -> str:
    return username.strip().lower()


_dummy_envelopes: dict[tuple[int, int], bytes] = {}


def _spend_equal_time(settings: Settings, password: str) -> None:
    """Do the same Argon2id work as a real password sign-in, so an unknown username takes as long."""
    key = (settings.kdf.opslimit, settings.kdf.memlimit)
    if key not in _dummy_envelopes:
        _dummy_envelopes[key] = crypto.wrap_with_password(bytes(32), crypto.random_token(), settings.kdf)
    with contextlib.suppress(crypto.DecryptionFailed):
        crypto.unwrap_with_password(_dummy_envelopes[key], password)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# --- slowing failed sign-ins: the client that fails, never the account's owner ---------------------
#
# Failures are counted per client (whistle.throttles.client_hash: an address hashed with the hour's
# subkey of the session key file, the same on every node) in the throttles table, never per account: anyone
# can type a guardian's username, so a pause on the account would let them keep its owner out.
# - Per client and username: after FREE_FAILURES failures in a row that client pauses on that
#   username for 1, 2, 4 ... minutes (at most an hour) per further failure. Known and unknown
#   usernames alike, so a pause says nothing about whether an account exists.
# - Per client, any username: after FREE_CLIENT_FAILURES the same growing pause on every
#   username, so trying one password on many usernames (credential stuffing) is slowed too.
# - Across the service: while more than `sign_in_failures_per_minute` sign-ins failed in the
#   current minute, a client that failed within the last minute is refused without its password
#   being checked (the Argon2id of an attack is bounded), but a client with no recent failure is
#   checked as always: the owner, on their own device, gets in with the right password and code.
# The account keeps only a count of the failures on it (`failed_logins`), to tell its owner.
#
# A client whose address says nothing (`client` None: every request comes from the reverse proxy
# or Tor on loopback, see whistle.accounts.views.sign_in_client) cannot be told from any other:
# then only the pause per username applies, shared by every such client, and nothing across
# usernames or the service, which would pause everyone for one attacker.

FREE_FAILURES = 5
FREE_CLIENT_FAILURES = 10
MAX_LOCK = timedelta(hours=1)
SIGN_IN_FAILURES = "sign-in-failures"  # the service-wide count, per minute
SIGN_IN_WINDOW = timedelta(minutes=1)
_BY_NAME = "sign-in-name"  # f"{_BY_NAME}:{hash of client and username}"
_BY_CLIENT = "sign-in-client"  # f"{_BY_CLIENT}:{client hash}"
# A client's failures in a row are forgotten an hour after its last one (its key has changed by
# then anyway); rows older than this are deleted by the tick (sign_in_throttles_job).
FORGET_AFTER = timedelta(hours=1)


def lock_for(failures: int, free: int = FREE_FAILURES) -> timedelta | None:
    """How long a client pauses after `failures` failures in a row (None: not yet), `free` of
    them without a pause."""
    if failures < free:
        return None
    return min(timedelta(minutes=2 ** min(failures - free, 10)), MAX_LOCK)


class SignInPaused(Exception):
    """A sign-in refused before anything was checked, because of this client's recent failures;
    `until`: when it is tried again. `busy`: refused because of failures across the whole service
    (this client's own pause has not begun)."""

    def __init__(self, until: datetime, *, busy: bool = False) -> None:
        super().__init__("busy" if busy else "paused")
        self.until = until
        self.busy = busy


def _name_key(client: str | None, username: str) -> str:
    # The username is hashed in with the client's hash, so no row names an account.
    digest = hashlib.blake2b(f"{client or ''}\n{_normal(username)}".encode(), digest_size=12).hexdigest()
    return f"{_BY_NAME}:{digest}"


def _client_key(client: str) -> str:
    return f"{_BY_CLIENT}:{client}"


def _streak(row: Throttle | None, clock: Clock) -> int:
    """Failures in a row on `row` (its window_start is the last one's time), forgotten after an hour."""
    if row is None or _aware(row.window_start) + FORGET_AFTER <= clock.now():
        return 0
    return row.count


def _pause_end(row: Throttle | None, clock: Clock, free: int) -> datetime | None:
    pause = lock_for(_streak(row, clock), free)
    if row is None or pause is None:
        return None
    end = _aware(row.window_start) + pause
    return end if end > clock.now() else None


def _check_client(dbsession: Session, settings: Settings, clock: Clock, client: str | None, username: str) -> None:
    """Raise SignInPaused if this client may not try `username` now (plain reads, no lock)."""
    by_name = dbsession.get(Throttle, _name_key(client, username))
    by_client = dbsession.get(Throttle, _client_key(client)) if client is not None else None
    ends = [end for end in (_pause_end(by_name, clock, FREE_FAILURES),
                            _pause_end(by_client, clock, FREE_CLIENT_FAILURES)) if end is not None]
    if ends:
        throttles.refused("sign-in pause")
        raise SignInPaused(max(ends))
    budget = settings.sign_in_failures_per_minute
    if by_client is not None and _streak(by_client, clock) \
            and throttles.spent(dbsession, clock, SIGN_IN_FAILURES, SIGN_IN_WINDOW, budget) is not None:
        fresh_again = _aware(by_client.window_start) + SIGN_IN_WINDOW
        if fresh_again > clock.now():
            throttles.refused(SIGN_IN_FAILURES)
            raise SignInPaused(fresh_again, busy=True)


def _count_in_a_row(dbsession: Session, clock: Clock, key: str) -> None:
    """One more failure in a row on `key`, now (locking its row)."""
    now = clock.now()
    row = dbsession.get(Throttle, key, with_for_update=True)
    if row is None:
        try:
            with dbsession.begin_nested():
                dbsession.add(Throttle(key=key, window_start=now, count=1))
            return
        except IntegrityError:  # another node made it first
            row = dbsession.get_one(Throttle, key, with_for_update=True)
    row.count = _streak(row, clock) + 1
    row.window_start = now


def _count_on_account(dbsession: Session, account: Account | None) -> None:
    """One more failed sign-in to tell the account's owner of (one UPDATE, however many come at once)."""
    if account is not None:
        dbsession.execute(update(Account).where(Account.id == account.id)
                          .values(failed_logins=Account.failed_logins + 1)
                          .execution_options(synchronize_session=False))
        dbsession.expire(account, ["failed_logins"])


def _refused(dbsession: Session, clock: Clock, account: Account | None, paused: SignInPaused) -> LoginFailed:
    """A try refused untried: counted across the service and on the account, not in the client's
    row (so waiting the time it is told is enough)."""
    throttles.count_one(dbsession, clock, SIGN_IN_FAILURES, SIGN_IN_WINDOW)
    _count_on_account(dbsession, account)
    return LoginFailed(paused.args[0], account, paused)


def _failed(dbsession: Session, clock: Clock, client: str | None, username: str, account: Account | None,
            reason: str) -> LoginFailed:
    """A try that was checked and failed: counted for the client (on this username and on any),
    across the service, and on the account."""
    _count_in_a_row(dbsession, clock, _name_key(client, username))
    if client is not None:
        _count_in_a_row(dbsession, clock, _client_key(client))
    throttles.count_one(dbsession, clock, SIGN_IN_FAILURES, SIGN_IN_WINDOW)
    _count_on_account(dbsession, account)
    return LoginFailed(reason, account)


def _succeeded(dbsession: Session, client: str | None, username: str) -> None:
    """The client got this username right: its failures in a row on it are over. (Its failures
    on any username are not: one right guess among many does not clear them.)"""
    dbsession.execute(delete(Throttle).where(Throttle.key == _name_key(client, username)))


def failed_sign_ins_seen(dbsession: Session, account: Account) -> None:
    """The owner has read how many sign-ins failed on their account: the count starts again."""
    account.failed_logins = 0


SIGN_IN_THROTTLE_PREFIXES = (_BY_NAME, _BY_CLIENT)


def forget_sign_in_throttles(dbsession: Session, clock: Clock) -> int:
    """Delete the per-client rows of sign-ins and recovery keys that nothing reads any more (their
    client's key has been replaced, and their streak forgotten); returns how many."""
    before = clock.now() - FORGET_AFTER - throttles.CLIENT_KEY_LIFETIME
    prefixes = [*SIGN_IN_THROTTLE_PREFIXES, _RECOVERY_BY_CLIENT]
    query = delete(Throttle).where(or_(*(Throttle.key.startswith(f"{prefix}:") for prefix in prefixes)),
                                   Throttle.window_start < before)
    return cast(CursorResult[Any], dbsession.execute(query)).rowcount or 0


def sign_in_throttles_job(ctx: TickContext) -> list[str]:
    """The tick's "sign-in throttles" job: stale per-client rows deleted (said only when there were some)."""
    with ctx.session() as dbsession:
        count = forget_sign_in_throttles(dbsession, ctx.clock)
    return [f"sign-in throttles: {count} rows of clients no longer counted deleted"] if count else []


def private_key_with_password(account: Account, password: str) -> bytes:
    """The account's private key opened with its password, on the server: through the sign-in
    keys (moved over) or the password wrap (not yet). Raises crypto.DecryptionFailed."""
    if not account.moved_over:
        return crypto.unwrap_with_password(account.key_by_password, password)
    if account.sign_in_salt is None or account.key_by_device is None:
        raise crypto.DecryptionFailed("no sign-in keys")
    try:
        cost = crypto.KdfCost(account.sign_in_opslimit or 0, account.sign_in_memlimit or 0)
        _auth_key, wrap_key = crypto.derive_sign_in_keys(password, account.sign_in_salt, cost)
    except (ValueError, UnicodeEncodeError):
        raise crypto.DecryptionFailed("wrong password") from None
    return crypto.unwrap_for_device(account.key_by_device, wrap_key)


def _check_password(account: Account, settings: Settings, password: str) -> bytes | None:
    """The private key if `password` is the account's, else None (compared by the verifier)."""
    if not account.moved_over:
        try:
            return crypto.unwrap_with_password(account.key_by_password, password)
        except crypto.DecryptionFailed:
            return None
    try:
        cost = crypto.KdfCost(account.sign_in_opslimit or 0, account.sign_in_memlimit or 0)
        auth_key, wrap_key = crypto.derive_sign_in_keys(password, account.sign_in_salt or b"", cost)
    except (ValueError, UnicodeEncodeError):
        return None
    if not _verifier_matches(account, settings, auth_key):
        return None
    try:
        return crypto.unwrap_for_device(account.key_by_device or b"", wrap_key)
    except crypto.DecryptionFailed:
        return None


def _verifier_matches(account: Account | None, settings: Settings, auth_key: bytes) -> bool:
    expected = (account.sign_in_verifier if account is not None else None) or _STAND_IN_VERIFIER
    return hmac.compare_digest(crypto.sign_in_verifier(auth_key, settings.session_key), expected)


# Compared with for an unknown username, so it takes the same path as a wrong key: nothing
# derives to it (it is not even a verifier of anything).
_STAND_IN_VERIFIER = bytes(32)
AUTH_KEY_LEN = 32


def _wrong_code(account: Account, settings: Settings, clock: Clock, otp: str,
                keypair: crypto.KeyPair | None) -> str | None:
    """Why the TOTP code is not accepted (None: it is, and its time step is used up)."""
    secret = _totp_secret(account, settings, keypair)
    step = _totp_step(secret, otp, clock.now()) if secret is not None else None
    if step is None:
        return "wrong-otp"
    if account.totp_last_step is not None and step <= account.totp_last_step:
        return "reused-otp"
    account.totp_last_step = step
    return None


@dataclass(frozen=True)
class PasswordSignIn:
    """A password sign-in that succeeded: the account, its key pair (opened on the server), and
    whether it was moved over by this sign-in."""

    account: Account
    keypair: crypto.KeyPair
    moved_over_now: bool


def authenticate(
    dbsession: Session, settings: Settings, clock: Clock, *, username: str, password: str, otp: str,
    client: str | None,
) -> PasswordSignIn:
    """Check password then TOTP on the server (server-assisted sign-in, or a legacy account's
    first sign-in, which moves it over); return the account and its unwrapped key pair.
    `client`: the caller as whistle.accounts.views.sign_in_client tells it (None: not told apart).

    Raises LoginFailed. Callers audit the failure and answer the same way for every reason but
    one: a try refused untried (`paused`) because of this client's failures, which says until
    when (the pause is the client's, on known and unknown usernames alike, so it tells nothing
    about the account). While refused the password is not even tried, so guessing learns
    nothing and costs no Argon2id. The caller commits, so failures are counted.
    """
    account = account_named(dbsession, username)
    try:
        _check_client(dbsession, settings, clock, client, username)
    except SignInPaused as paused:
        raise _refused(dbsession, clock, account, paused) from None
    if account is None:
        _spend_equal_time(settings, password)
        raise _failed(dbsession, clock, client, username, None, "unknown-username")
    private = _check_password(account, settings, password)
    if private is None:
        raise _failed(dbsession, clock, client, username, account, "wrong-password")
    if account.disabled:
        raise LoginFailed("disabled", account)
    keypair = crypto.KeyPair.from_private(private)
    wrong = _wrong_code(account, settings, clock, otp, keypair)
    if wrong is not None:
        raise _failed(dbsession, clock, client, username, account, wrong)
    _succeeded(dbsession, client, username)
    legacy = not account.moved_over
    if legacy:
        move_over(account, settings, keypair, password)
        audit.record(dbsession, clock, actor=_owner(account), action="account.moved_over",
                     detail={"account_id": account.id})
    return PasswordSignIn(account, keypair, legacy)


def authenticate_device(
    dbsession: Session, settings: Settings, clock: Clock, *, username: str, auth_key: bytes, otp: str,
    client: str | None,
) -> Account:
    """Check a device's auth key then TOTP; return the account. The server runs no Argon2id
    here (the device did): the check is one keyed hash, compared in constant time, and an
    unknown username is compared with a stand-in verifier, so it takes the same path and time.
    Raises LoginFailed, counted and refused (per client) as a password sign-in is."""
    account = account_named(dbsession, username)
    if len(auth_key) != AUTH_KEY_LEN:
        raise LoginFailed("malformed-auth-key", account)
    try:
        _check_client(dbsession, settings, clock, client, username)
    except SignInPaused as paused:
        raise _refused(dbsession, clock, account, paused) from None
    if account is None:
        _verifier_matches(None, settings, auth_key)
        raise _failed(dbsession, clock, client, username, None, "unknown-username")
    if not account.moved_over:
        # It was told to send its password ("password" scheme); an auth key cannot be right.
        raise _failed(dbsession, clock, client, username, account, "not-moved-over")
    if not _verifier_matches(account, settings, auth_key):
        raise _failed(dbsession, clock, client, username, account, "wrong-password")
    if account.disabled:
        raise LoginFailed("disabled", account)
    wrong = _wrong_code(account, settings, clock, otp, None)
    if wrong is not None:
        raise _failed(dbsession, clock, client, username, account, wrong)
    _succeeded(dbsession, client, username)
    return account


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


CURRENT_PASSWORD_WRONG = "the current password is not right (after several tries, wait a few minutes)"
CURRENT_PASSWORD_WRONG_SENTENCE = _("The current password is not right (after several tries, wait a few minutes).")


def _current_password_failed(dbsession: Session, clock: Clock, account: Account, client: str | None,
                             paused: SignInPaused | None) -> AccountError:
    failure = (_refused(dbsession, clock, account, paused) if paused is not None
               else _failed(dbsession, clock, client, account.username, account, "wrong-password"))
    audit.record(dbsession, clock, actor=_owner(account), action="account.password_change_failed",
                 detail={"reason": failure.reason})
    return AccountError(CURRENT_PASSWORD_WRONG, CURRENT_PASSWORD_WRONG_SENTENCE)


def _password_changed(dbsession: Session, clock: Clock, account: Account, keep_session_id: int | None) -> None:
    end_sessions(dbsession, account, except_session_id=keep_session_id)
    audit.record(dbsession, clock, actor=_owner(account), action="account.password_changed",
                 detail={"account_id": account.id})


def _client_paused(dbsession: Session, settings: Settings, clock: Clock, client: str | None,
                   account: Account) -> SignInPaused | None:
    try:
        _check_client(dbsession, settings, clock, client, account.username)
    except SignInPaused as paused:
        return paused
    return None


def change_password(
    dbsession: Session, settings: Settings, clock: Clock, account: Account, *, current: str, new: str,
    client: str | None, keep_session_id: int | None = None,
) -> None:
    """A password change on the server (a page without JavaScript, or the API): new sign-in keys
    derived from `new`; other sessions end. Raises AccountError.

    A wrong current password counts as a failed sign-in of `client` (audited, and towards its
    pause, in which nothing is tried), so a borrowed session cannot be used to guess the password;
    nothing else changes before the checks pass, so the caller may commit after a refusal to keep
    that record."""
    paused = _client_paused(dbsession, settings, clock, client, account)
    private = None if paused else _check_password(account, settings, current)
    if private is None:
        raise _current_password_failed(dbsession, clock, account, client, paused)
    check_password(new)
    move_over(account, settings, crypto.KeyPair.from_private(private), new)
    _password_changed(dbsession, clock, account, keep_session_id)


@dataclass(frozen=True)
class DeviceKeys:
    """New sign-in keys a device derived from a new password: what the server stores of them."""

    salt: bytes
    opslimit: int
    memlimit: int
    auth_key: bytes
    key_by_device: bytes


def _acceptable_cost(opslimit: int, memlimit: int) -> bool:
    try:
        crypto.KdfCost(opslimit, memlimit)
    except ValueError:
        return False
    return True


def check_device_keys(settings: Settings, keys: DeviceKeys) -> dict[str, str]:
    """What is wrong with new sign-in keys from a device, by field (empty: nothing). The server
    cannot check the password itself (it never sees it): the page checks the same rules as
    check_password before deriving. Here: the shapes, and a cost no lower than the deployment's."""
    errors = {}
    if len(keys.salt) != crypto.SIGN_IN_SALT_LEN:
        errors["new_salt"] = "The salt must be 16 bytes."
    if not crypto.is_device_wrapped_key(keys.key_by_device):
        errors["new_key_by_device"] = "The wrapped key must be a private key in a device wrap (74 bytes)."
    if len(keys.auth_key) != AUTH_KEY_LEN:
        errors["new_auth_key"] = "The auth key must be 32 bytes."
    # Each limit no lower than the deployment's (which is in range) and no higher than crypto allows.
    if keys.opslimit < settings.kdf.opslimit or not _acceptable_cost(keys.opslimit, settings.kdf.memlimit):
        errors["new_opslimit"] = f"Must be at least this service's, {settings.kdf.opslimit}, and in range."
    if keys.memlimit < settings.kdf.memlimit or not _acceptable_cost(settings.kdf.opslimit, keys.memlimit):
        errors["new_memlimit"] = f"Must be at least this service's, {settings.kdf.memlimit} bytes, and in range."
    return errors


def change_password_on_device(
    dbsession: Session, settings: Settings, clock: Clock, account: Account, *, current_auth_key: bytes,
    new: DeviceKeys, client: str | None, keep_session_id: int | None = None,
) -> None:
    """A password change done on the device: the current password proved by its auth key, and
    the new one's keys derived there (the server sees neither password). Other sessions end.
    Raises AccountError (a wrong current password, counted as a failed sign-in) or a
    validation_problem-ready AccountError for bad shapes, checked first."""
    errors = check_device_keys(settings, new)
    if errors:
        raise DeviceKeysRefused(errors)
    paused = _client_paused(dbsession, settings, clock, client, account)
    if paused or not account.moved_over or not _verifier_matches(account, settings, current_auth_key):
        raise _current_password_failed(dbsession, clock, account, client, paused)
    _store_sign_in_keys(account, settings, salt=new.salt, cost=crypto.KdfCost(new.opslimit, new.memlimit),
                        auth_key=new.auth_key, key_by_device=new.key_by_device)
    _password_changed(dbsession, clock, account, keep_session_id)


class DeviceKeysRefused(AccountError):
    """New sign-in keys from a device that are not of the right shape; `errors` by field."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("the new sign-in keys are not acceptable")
        self.errors = errors


RECOVERY_MISMATCH = "that username and recovery key do not match"
RECOVERY_MISMATCH_SENTENCE = _("That username and recovery key do not match.")
# Wrong recovery keys are counted per client (whistle.throttles.client_hash) and across the whole
# service, per hour. A client past RECOVERY_FAILURES_PER_CLIENT wrong keys in its hour has no
# further key tried until that hour ends. Past the service's budget
# (whistle.accounts.recovery_failures_per_hour) a client that has tried a wrong key in its hour is
# refused untried too, but one that has not is still tried: a guardian with their own key gets in
# while someone else exhausts the budget. Each hour's count across the service is one audit
# event, however many tries it had.
RECOVERY_THROTTLE = "recovery-key-failures"
RECOVERY_WINDOW = timedelta(hours=1)
RECOVERY_FAILURES_PER_CLIENT = 5
_RECOVERY_BY_CLIENT = "recovery-client"  # f"{_RECOVERY_BY_CLIENT}:{client hash}"


class RecoveryPaused(AccountError):
    """Too many wrong recovery keys from this client this hour (or on the whole service, and this
    client has tried one): none of its tries is tried before `until`."""

    def __init__(self, until: datetime) -> None:
        super().__init__("too many wrong recovery keys have been tried lately")
        self.until = until


def recovery_paused_until(dbsession: Session, settings: Settings, clock: Clock,
                          client: str | None) -> datetime | None:
    """When this client's recovery keys are tried again, if they are not now; else None. A client
    not told apart (None) is refused whenever the service's budget is spent."""
    until = _recovery_paused_until(dbsession, settings, clock, client)
    if until is not None:
        throttles.refused(RECOVERY_THROTTLE)
    return until


def _recovery_paused_until(dbsession: Session, settings: Settings, clock: Clock,
                           client: str | None) -> datetime | None:
    service = throttles.spent(dbsession, clock, RECOVERY_THROTTLE, RECOVERY_WINDOW, settings.recovery_failures_per_hour)
    if client is None:
        return service
    key = f"{_RECOVERY_BY_CLIENT}:{client}"
    own = throttles.spent(dbsession, clock, key, RECOVERY_WINDOW, RECOVERY_FAILURES_PER_CLIENT)
    if own is not None:
        return own
    has_failed = throttles.spent(dbsession, clock, key, RECOVERY_WINDOW, 1)
    return has_failed if has_failed is not None and service is not None else None


def _record_recovery_failures(dbsession: Session, clock: Clock, closed: ClosedWindow) -> None:
    # Neither a username nor a key: an entry naming an account would tell anyone reading the log.
    audit.record(dbsession, clock, actor="anonymous", action="account.recovery_failures",
                 detail={"count": closed.count, "from": closed.start.isoformat(), "to": closed.end.isoformat()})


def count_recovery_failure(dbsession: Session, clock: Clock, client: str | None = None) -> None:
    """Count a wrong recovery key (or a refused one, given no `client`): for `client`, if given, and
    across the service; the service's hour before, if it has just ended with tries in it, is
    audited with its count. The caller commits, so the count is kept."""
    if client is not None:
        throttles.count_one(dbsession, clock, f"{_RECOVERY_BY_CLIENT}:{client}", RECOVERY_WINDOW)
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
             throttled: bool, client: str | None) -> tuple[Account, bytes]:
    """The account and its private key, unwrapped with the recovery key; AccountError otherwise.

    An unknown username and a wrong key get the same error after the same work (an unwrap of a
    stand-in envelope), so neither the answer nor its timing tells whether the username exists.
    (The unwrap is a keyed hash and an AEAD check, microseconds next to the lookup, unlike the
    Argon2id a sign-in spends: see _spend_equal_time.) `throttled` (the pages and the API; the
    operator's command line is not): the try is refused with RecoveryPaused, untried, while
    `client` (whistle.accounts.views.sign_in_client) may not try (recovery_paused_until), and a
    wrong key is counted."""
    if throttled:
        until = recovery_paused_until(dbsession, settings, clock, client)
        if until is not None:
            count_recovery_failure(dbsession, clock)
            raise RecoveryPaused(until)
    account = account_named(dbsession, username)
    envelope = account.key_by_recovery if account is not None else _stand_in_recovery_envelope()
    try:
        private = crypto.unwrap_with_recovery_key(envelope, recovery_key.strip())
    except (crypto.DecryptionFailed, ValueError):
        if throttled:
            count_recovery_failure(dbsession, clock, client)
        raise AccountError(RECOVERY_MISMATCH, RECOVERY_MISMATCH_SENTENCE) from None
    if account is None:  # not reached: the stand-in's key is random and forgotten
        raise AccountError(RECOVERY_MISMATCH, RECOVERY_MISMATCH_SENTENCE)
    if throttled:  # the owner, on this device: its failed sign-ins on the account are over
        _succeeded(dbsession, client, account.username)
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
    call_hook, actor: str = "system", throttled: bool = True, client: str | None = None,
) -> PasswordReset:
    """A forgotten password: the recovery key unwraps the private key, which is wrapped under new
    sign-in keys derived from `new` (the new password reaches the server here), so access to
    every granted case is kept, and under a new recovery key, which replaces the one used. All
    sessions end; this client's sign-in pause on the account is lifted; the owner is told
    (AccountRecovered). `client`: see _recover.
    Raises AccountError (RecoveryPaused while this client may not try) before anything changes
    but the count of wrong keys."""
    account, private = _recover(dbsession, settings, clock, username, recovery_key, throttled=throttled,
                                client=client)
    check_password(new)
    move_over(account, settings, crypto.KeyPair.from_private(private), new)
    new_recovery_key = _replace_recovery_key(account, private)
    end_sessions(dbsession, account)
    audit.record(dbsession, clock, actor=actor, action="account.password_reset",
                 detail={"account_id": account.id, "recovery_key_replaced": True})
    call_hook.publish(AccountRecovered(account=account, what=PASSWORD))
    return PasswordReset(account=account, recovery_key=new_recovery_key)


def reset_authenticator(
    dbsession: Session, settings: Settings, clock: Clock, *, username: str, recovery_key: str, call_hook,
    actor: str | None = None, throttled: bool = True, client: str | None = None,
) -> NewAuthenticator:
    """A lost authenticator: the recovery key proves the account, and a new TOTP secret is
    sealed to its public key (as at enrolment); a new recovery key replaces the one used. Codes
    from the old secret stop working, the used-code record and this client's sign-in pause on the
    account are cleared, every session of the account ends, and the owner is told
    (AccountRecovered). `client`: see _recover. Raises AccountError, with the same words for an
    unknown username and a wrong key (RecoveryPaused while this client may not try), before
    anything changes but the count of wrong keys."""
    account, private = _recover(dbsession, settings, clock, username, recovery_key, throttled=throttled,
                                client=client)
    secret = pyotp.random_base32()
    _keep_totp_secret(account, settings, secret)
    new_recovery_key = _replace_recovery_key(account, private)
    account.totp_last_step = None
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
        raise AccountError("an account needs at least one role", _("An account needs at least one role."))
    if (account.is_guardian, account.is_admin) == (guardian, admin):
        return
    account.is_guardian, account.is_admin = guardian, admin
    audit.record(dbsession, clock, actor=actor, action="account.roles_changed",
                 detail={"account_id": account.id, "guardian": guardian, "admin": admin})
