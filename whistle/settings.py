"""Typed, frozen settings: defaults < .ini < WHISTLE_* environment < *_file secret files.

This is the one place that reads configuration. Everything else receives a `Settings`
(on the registry as `registry.whistle_settings`, or `request.whistle_settings`).
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, timedelta, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from whistle.crypto import KdfCost, SigningKey, new_secret_key, read_public_key_text
from whistle.shredding import default_store_url

PREFIX = "whistle."
FILE_SUFFIX = "_file"


class ConfigurationError(Exception):
    """A setting is unknown, missing or malformed; the message names the key."""


def _bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("true", "yes", "on", "1"):
        return True
    if lowered in ("false", "no", "off", "0", ""):
        return False
    raise ValueError(f"expected true or false, got {value!r}")


def _int(value: str) -> int:
    return int(value.strip())


def _seconds(value: str) -> float:
    """A duration in seconds, fractions allowed (0.5); not negative."""
    seconds = float(value.strip())
    if not 0 <= seconds <= 3600:
        raise ValueError("expected seconds between 0 and 3600")
    return seconds


def _str(value: str) -> str:
    return value.strip()


def _names(value: str) -> tuple[str, ...]:
    """A list of names, separated by spaces, commas or new lines."""
    return tuple(name for name in value.replace(",", " ").split() if name)


def _months(value: str) -> tuple[int, ...]:
    """Whole months after a date, e.g. "3 6 12": positive, sorted, no repeats."""
    months = tuple(sorted({int(name) for name in _names(value)}))
    if any(month < 1 or month > 120 for month in months):
        raise ValueError("expected whole months between 1 and 120")
    return months


def loopback_address(value: str) -> tuple[str, int] | None:
    """"HOST:PORT" on a loopback IP address ("127.0.0.1:8025", "[::1]:8025") as (host, port);
    None for an empty value. Raises ValueError for anything else, naming what is wrong."""
    value = value.strip()
    if not value:
        return None
    host, colon, port = value.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not colon or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError("expected a loopback address and a port, e.g. 127.0.0.1:8025")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"{host!r} is not an IP address: give a loopback address, e.g. 127.0.0.1:8025") from None
    if not address.is_loopback:
        raise ValueError(f"{host} is not a loopback address: the debugging mail server prints every message it "
                         "receives, so it listens on loopback only (127.0.0.1 or ::1)")
    return host, int(port)


def _zone(value: str) -> tzinfo:
    """An IANA time zone name ("Europe/London"), checked against the time zone database; "UTC"
    needs no database."""
    name = value.strip()
    if name.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"no time zone {name!r}: expected an IANA name such as Europe/London "
                         "(is the tzdata package installed?)") from None


def _public_key(value: str) -> bytes | None:
    """The organisation's Ed25519 public key, as its file holds it (docs/crypto.md); empty: none."""
    if not value.strip():
        return None
    return read_public_key_text(value)


def _signing_key(value: str) -> SigningKey | None:
    """The organisation's signing key, as its seed file holds it (docs/crypto.md); empty: none."""
    if not value.strip():
        return None
    return SigningKey.from_file_text(value)


def _key(value: str) -> bytes:
    """A 32-byte key, written base64 in its key file."""
    try:
        key = base64.b64decode(value.strip(), validate=True)
    except binascii.Error as error:
        raise ValueError("expected a base64-encoded 32-byte key") from error
    if len(key) != 32:
        raise ValueError("expected a base64-encoded 32-byte key")
    return key


METRICS_TOKEN_MIN_CHARS = 32


def _metrics_token(value: str) -> str:
    """The bearer token /metrics asks for, as its file holds it; empty: /metrics is not there."""
    token = value.strip()
    if token and (len(token) < METRICS_TOKEN_MIN_CHARS or not token.isascii() or not token.isprintable()
                  or " " in token):
        raise ValueError(f"expected at least {METRICS_TOKEN_MIN_CHARS} printable ASCII characters without spaces "
                         "(`whistle -c FILE keys init` writes one)")
    return token


def _onion_address(value: str) -> str:
    """A v3 onion address ("<56 letters and digits>.onion"), its checksum and version checked, so a
    mistyped one is caught at start-up; empty: none."""
    address = value.strip().lower()
    if not address:
        return ""
    label = address.removesuffix(".onion")
    hint = "expected a v3 onion address: 56 letters and digits then .onion, without http:// or a path"
    if label == address or len(label) != 56:
        raise ValueError(hint)
    try:
        raw = base64.b32decode(label.upper())
    except binascii.Error:
        raise ValueError(hint) from None
    public_key, checksum, version = raw[:32], raw[32:34], raw[34:]
    expected = hashlib.sha3_256(b".onion checksum" + public_key + version).digest()[:2]
    if version != b"\x03" or checksum != expected:
        raise ValueError("not a v3 onion address: its checksum does not match (a mistyped letter?)")
    return address


@dataclass(frozen=True)
class Spec:
    parse: Callable[[str], Any]
    default: str | None  # None: required, no default
    secret: bool = False  # key material: may be created by `keys init`


# Every `whistle.*` setting the application knows. A key not listed here is a start-up error,
# so a typo in an .ini file is caught instead of silently ignored.
SPECS: dict[str, Spec] = {
    # --- core: the database, storage, key files, cookies, Argon2id costs, sessions, request limits ---
    "whistle.db.url": Spec(_str, None),
    "whistle.storage.dir": Spec(_str, None),
    # The shred key store (whistle/shredding.py): a database of its own, never the main one, kept
    # out of the main backups (docs/operations.md). Empty: a SQLite file shred-keys.sqlite beside
    # the main SQLite database; with PostgreSQL it must be set (its own database).
    "whistle.shred_store.url": Spec(_str, ""),
    "whistle.secrets.lookup_pepper": Spec(_key, None, secret=True),
    "whistle.secrets.session_key": Spec(_key, None, secret=True),
    "whistle.secrets.autocreate": Spec(_bool, "false"),
    "whistle.cookies.secure": Spec(_bool, "true"),
    # Argon2id cost for guardian passwords: libsodium "interactive" by default. Each wrapped
    # key records its own cost, so this may be raised at any time.
    "whistle.kdf.opslimit": Spec(_int, str(KdfCost.interactive().opslimit)),
    "whistle.kdf.memlimit": Spec(_int, str(KdfCost.interactive().memlimit)),
    # Argon2id cost for receipts. The lookup id depends on it, so it is fixed for the life of
    # an installation: changing it makes every existing receipt stop finding its case.
    "whistle.kdf.receipt_opslimit": Spec(_int, str(KdfCost.interactive().opslimit)),
    "whistle.kdf.receipt_memlimit": Spec(_int, str(KdfCost.interactive().memlimit)),
    # Argon2id derivations at once in one process (each holds its memlimit while it runs); 0: the
    # number of CPUs, but no more than 512 MiB of Argon2id memory. One that waits longer than
    # wait_seconds for its turn is refused with 503 and Retry-After (docs/operations.md).
    "whistle.kdf.concurrency": Spec(_int, "0"),
    "whistle.kdf.wait_seconds": Spec(_seconds, "5"),
    "whistle.sessions.staff_idle_minutes": Spec(_int, "30"),
    "whistle.sessions.staff_absolute_hours": Spec(_int, "8"),
    "whistle.sessions.reporter_idle_minutes": Spec(_int, "20"),
    "whistle.api.max_json_bytes": Spec(_int, str(1024 * 1024)),
    "whistle.form.max_text_chars": Spec(_int, "100000"),
    # --- plugins ---
    # Plugins to load (entry point names in the group whistle.plugins, or dotted module paths),
    # and the subset allowed hooks that receive plaintext. Nothing else is ever loaded.
    "whistle.plugins": Spec(_names, ""),
    "whistle.plugins.plaintext": Spec(_names, ""),
    # --- attachments ---
    # Per file and per case, counted while streaming (waitress's
    # max_request_body_size in the .ini must allow at least max_file_bytes).
    "whistle.attachments.max_file_bytes": Spec(_int, str(1024**3)),
    "whistle.attachments.max_case_bytes": Spec(_int, str(2 * 1024**3)),
    "whistle.attachments.max_guardian_case_bytes": Spec(_int, str(2 * 1024**3)),
    # Files a reporter's client is still uploading in chunks, per case, at any one time.
    "whistle.attachments.max_unfinished_uploads": Spec(_int, "8"),
    # Where blobs go (docs/attachments.md, "Blob stores"): "local" (files in whistle.storage.dir),
    # "database" (rows of the app's database: what several app nodes share), "s3" (a bucket, with
    # the settings below), or the dotted name of a BlobStore class taking the storage directory.
    "whistle.attachments.blob_store": Spec(_str, "local"),
    # The "s3" store: the bucket, an optional key prefix, the endpoint of an S3-compatible service
    # (empty: AWS's), its region, and the access key (the secret one from a file: ..._file);
    # both keys empty: boto3's own way of finding credentials (environment, instance role).
    "whistle.attachments.s3.bucket": Spec(_str, ""),
    "whistle.attachments.s3.prefix": Spec(_str, ""),
    "whistle.attachments.s3.endpoint_url": Spec(_str, ""),
    "whistle.attachments.s3.region": Spec(_str, ""),
    "whistle.attachments.s3.access_key_id": Spec(_str, ""),
    "whistle.attachments.s3.secret_access_key": Spec(_str, ""),
    # Files reporters start uploading to their mailbox (whistle/reporters/limits.py): per client
    # in 10 minutes, and across the whole service per minute; past either, refused with a 429.
    "whistle.attachments.uploads_per_client": Spec(_int, "30"),
    "whistle.attachments.uploads_per_minute": Spec(_int, "120"),
    # --- the reporter's mailbox ---
    # Wrong receipts across the whole service (never per client) before receipts are tried one
    # at a time for the rest of the minute (the slow lane, whistle/reporters/services.py).
    "whistle.mailbox.receipt_failures_per_minute": Spec(_int, "30"),
    # Wrong receipts from one client (its address hashed with an hourly key, never stored) in 10
    # minutes, after which that client's tries are refused until the 10 minutes are over.
    "whistle.mailbox.receipt_failures_per_client": Spec(_int, "10"),
    # --- submitting a report (whistle/intake/limits.py) ---
    # Reports from one client in 10 minutes; reports across the whole service per minute (past
    # it, only a client that did the proof of work gets in); and the surge mark, from which new
    # cases are marked as having come in during a surge.
    "whistle.intake.reports_per_client": Spec(_int, "5"),
    "whistle.intake.reports_per_minute": Spec(_int, "30"),
    "whistle.intake.surge_reports_per_minute": Spec(_int, "10"),
    # --- retaliation watch ---
    # Months after a report is opened when the reporter is asked whether they have suffered
    # detriment (retaliation); the questions keep coming after the case closes.
    "whistle.retaliation.checkin_months": Spec(_months, "3 6 12"),
    # --- notifications ---
    # Delivery: at most one notice per guardian per batch_minutes; a failed delivery
    # is retried after retry_base_seconds * 2**(attempts-1) (at most 6 hours), and dead-lettered
    # after max_attempts. The link is the one thing a notice carries: where guardians sign in.
    "whistle.notifications.batch_minutes": Spec(_int, "15"),
    "whistle.notifications.max_attempts": Spec(_int, "8"),
    "whistle.notifications.retry_base_seconds": Spec(_int, "60"),
    "whistle.notifications.link": Spec(_str, "http://127.0.0.1:6543/staff/login"),
    # --- the scheduler ---
    # Run `whistle tick` in a thread of the app every interval_seconds (development: no cron).
    # In production leave it off and run the tick from a systemd timer (docs/operations.md).
    "whistle.scheduler.embedded": Spec(_bool, "false"),
    "whistle.scheduler.interval_seconds": Spec(_int, "60"),
    # --- development: the debugging mail server ---
    # HOST:PORT on loopback: an SMTP server in the app's process that prints every message it
    # receives to the log (whistle/devmail.py). Empty: none. Never in production.
    "whistle.dev.mail_server": Spec(loopback_address, ""),
    # --- staff pages ---
    # The time zone staff pages show times in (each time names its zone: "14:05 GMT").
    "whistle.display.timezone": Spec(_zone, "UTC"),
    # --- staff accounts ---
    # Wrong recovery keys per hour across the whole service, past which the lost-authenticator and
    # forgotten-password forms refuse, for the rest of the hour, the tries of clients that have
    # tried a wrong key in their hour (a client with none is still tried).
    "whistle.accounts.recovery_failures_per_hour": Spec(_int, "20"),
    # Failed staff sign-ins per minute across the whole service, past which a client that failed
    # in the last minute is refused without its password being checked (one that has not is
    # still checked, so a guardian on their own device gets in during an attack).
    "whistle.accounts.sign_in_failures_per_minute": Spec(_int, "30"),
    # --- the guardian's workspace ---
    # Server-assisted sign-in: a password posted by a browser without JavaScript (or an API client)
    # opens a session that holds the guardian's key, and the server decrypts for it. false: only
    # the guardian's device decrypts (JavaScript, or the desk); password sign-ins are refused.
    "whistle.workspace.server_assisted": Spec(_bool, "true"),
    # --- the admin area ---
    # The two-admin rule: a change that gives someone the guardian or admin role, enables an
    # account or adds a guardian to a channel is a proposal until a second admin approves it.
    "whistle.admin.two_admin_rule": Spec(_bool, "false"),
    # --- the organisation key and the signed key directory (docs/operations.md, section 3) ---
    # The organisation's Ed25519 public key (`keys org-init` writes it): every key directory must
    # carry its signature. Set whistle.org.public_key_file; the database never holds it.
    "whistle.org.public_key": Spec(_public_key, ""),
    # The private signing key (a seed file), for auto_sign only: a small deployment's choice.
    # Recommended: keep it offline and sign with `keys sign-directory` (whistle.org.signing_key_file).
    "whistle.org.signing_key": Spec(_signing_key, ""),
    # Re-sign the key directory in the same transaction whenever guardians or their keys change.
    "whistle.org.auto_sign": Spec(_bool, "false"),
    # How long a signed key directory is valid, in days.
    "whistle.org.directory_days": Spec(_int, "30"),
    # A file (beside the key files) where the server and the CLI keep the highest key directory
    # version they have used, so an older directory put back in the database is refused after a
    # restart too. Empty: remembered in memory only (docs/operations.md).
    "whistle.org.directory_state": Spec(_str, ""),
    # --- the audit log (docs/operations.md: the audit key and checkpoints) ---
    # The key that MACs the audit chain's head and its checkpoints: a key file outside the
    # database and its backups, the same file on every node (`keys init` creates it).
    "whistle.audit.key": Spec(_key, None, secret=True),
    # The append-only file the tick and `audit checkpoint` add a checkpoint line to. Empty: the
    # file audit-checkpoints beside the audit key file.
    "whistle.audit.checkpoint_file": Spec(_str, ""),
    # --- submitting a disclosure: proof of work (docs/crypto.md 6.15) ---
    # The report form's JavaScript solves a challenge while the reporter writes; a valid proof lets
    # the report past the service-wide budget in a flood (never past the per-client one). bits: the
    # difficulty, about 2**bits hashes (19: one to two seconds on a phone); minutes: how long a
    # challenge stays valid. The form without JavaScript never needs one.
    "whistle.intake.proof_of_work": Spec(_bool, "true"),
    "whistle.intake.proof_of_work_bits": Spec(_int, "19"),
    "whistle.intake.proof_of_work_minutes": Spec(_int, "60"),
    # --- operations (docs/operations.md, section 10.1) ---
    # The bearer token Prometheus sends to /metrics: set whistle.metrics.token_file (`keys init`
    # writes it). Empty: /metrics answers 404, as if it were not there.
    "whistle.metrics.token": Spec(_metrics_token, "", secret=True),
    # The service's onion address (config/onion-service.sample: the hostname file tor writes): every
    # page then tells Tor Browser about it with an Onion-Location header. Empty: none.
    "whistle.onion.address": Spec(_onion_address, ""),
}


@dataclass(frozen=True)
class Settings:
    db_url: str
    storage_dir: Path
    lookup_pepper: bytes
    session_key: bytes
    cookies_secure: bool
    kdf: KdfCost
    receipt_kdf: KdfCost
    staff_session_idle: timedelta
    staff_session_absolute: timedelta
    reporter_session_idle: timedelta
    max_json_bytes: int
    max_text_chars: int
    plugins: tuple[str, ...]
    plugins_plaintext: tuple[str, ...]
    # --- attachments ---
    max_attachment_bytes: int
    max_case_attachment_bytes: int
    max_guardian_case_attachment_bytes: int
    max_unfinished_uploads: int
    blob_store: str
    # --- the reporter's mailbox ---
    receipt_failures_per_minute: int
    # --- retaliation watch ---
    checkin_months: tuple[int, ...]
    # --- notifications ---
    notification_batch: timedelta
    notification_max_attempts: int
    notification_retry_base: timedelta
    notification_link: str
    # --- the scheduler ---
    scheduler_embedded: bool
    scheduler_interval: timedelta
    # --- development: the debugging mail server ---
    dev_mail_server: tuple[str, int] | None
    # --- staff pages ---
    display_timezone: tzinfo = UTC
    # --- staff accounts ---
    recovery_failures_per_hour: int = 20
    # --- limits: per client and across the service (whistle.intake.limits, whistle.reporters.limits) ---
    reports_per_client: int = 5
    reports_per_minute: int = 30
    surge_reports_per_minute: int = 10
    receipt_failures_per_client: int = 10
    uploads_per_client: int = 30
    uploads_per_minute: int = 120
    sign_in_failures_per_minute: int = 30
    # --- the guardian's workspace ---
    server_assisted: bool = True
    # --- the admin area ---
    two_admin_rule: bool = False
    # --- the organisation key and the signed key directory ---
    org_public_key: bytes | None = None
    org_signing_key: SigningKey | None = None  # auto_sign only
    org_auto_sign: bool = False
    directory_lifetime: timedelta = timedelta(days=30)
    directory_state: Path | None = None  # the highest key directory version used; None: memory only
    # --- the shred key store ("": none configured, the app refuses to start) ---
    shred_store_url: str = ""
    # --- the audit log: the key of its MACs, and its checkpoint file ---
    audit_key: bytes = b""
    audit_checkpoint_file: Path = Path("audit-checkpoints")  # load_settings always sets it (4.4)
    # --- Argon2id work bounded per process ---
    kdf_concurrency: int = 1
    kdf_wait: float = 5.0
    # --- submitting a disclosure: proof of work ---
    proof_of_work: bool = True
    proof_of_work_bits: int = 19
    proof_of_work_lifetime: timedelta = timedelta(minutes=60)
    # --- operations ---
    metrics_token: str = ""  # empty: no /metrics
    onion_address: str = ""  # empty: no Onion-Location
    # Every file a setting was read from (key files, a database URL file): /readyz checks they still can be.
    key_files: tuple[Path, ...] = ()
    # --- the "s3" blob store (whistle/attachments/s3blobs.py) ---
    s3_bucket: str = ""
    s3_prefix: str = ""
    s3_endpoint_url: str = ""
    s3_region: str = ""
    s3_access_key_id: str = ""
    s3_secret_access_key: str = ""

    def __repr__(self) -> str:  # never print key material into a log or traceback
        return f"Settings(db_url={self.db_url!r}, storage_dir={str(self.storage_dir)!r}, ...)"


def env_name(key: str) -> str:
    """`whistle.db.url` -> `WHISTLE_DB_URL`."""
    return key.upper().replace(".", "_")


def gather(raw: Mapping[str, Any], environ: Mapping[str, str]) -> dict[str, str]:
    """Merge the layers into one flat dict of strings, `*_file` entries resolved to paths.

    Returns the values for known keys plus, for each, a `<key>_file` path if one was given.
    """
    for key in raw:
        if key.startswith(PREFIX) and key not in SPECS and key.removesuffix(FILE_SUFFIX) not in SPECS:
            raise ConfigurationError(f"unknown setting {key!r}: check its spelling")
    for name in environ:
        if name.startswith("WHISTLE_") and name not in _ENV_NAMES and not name.startswith("WHISTLE_TEST_"):
            raise ConfigurationError(f"unknown environment variable {name!r}: check its spelling")

    merged: dict[str, str] = {}
    for key, spec in SPECS.items():
        if spec.default is not None:
            merged[key] = spec.default
        for layer_key, layer in ((key, raw), (env_name(key), environ)):
            if layer_key in layer:
                merged[key] = str(layer[layer_key])
        file_key = key + FILE_SUFFIX
        for layer_key, layer in ((file_key, raw), (env_name(file_key), environ)):
            if layer_key in layer:
                merged[file_key] = str(layer[layer_key]).strip()
    return merged


_ENV_NAMES = {env_name(k) for k in SPECS} | {env_name(k + FILE_SUFFIX) for k in SPECS}


def secret_files(raw: Mapping[str, Any], environ: Mapping[str, str] = os.environ) -> dict[str, Path]:
    """The key files the configuration names, by setting key (for `keys init`)."""
    merged = gather(raw, environ)
    return {
        key: Path(merged[key + FILE_SUFFIX])
        for key, spec in SPECS.items()
        if spec.secret and key + FILE_SUFFIX in merged
    }


def create_key_file(path: Path) -> bool:
    """Write a new random key to `path` (mode 0600) unless it exists. True if it was created."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as handle:
        handle.write(base64.b64encode(new_secret_key()).decode("ascii") + "\n")
    return True


def database_url(raw: Mapping[str, Any], environ: Mapping[str, str] = os.environ) -> str:
    """Just the database URL (for `db upgrade`, which must work before any key file exists)."""
    merged = gather(raw, environ)
    key = "whistle.db.url"
    if key + FILE_SUFFIX in merged:
        return Path(merged[key + FILE_SUFFIX]).read_text(encoding="utf-8").strip()
    if key not in merged:
        raise ConfigurationError(f"missing setting {key!r}")
    return merged[key]


def _notification_settings(values: dict[str, Any]) -> dict[str, Any]:
    """The notification delivery settings, range-checked."""
    batch, attempts = values["whistle.notifications.batch_minutes"], values["whistle.notifications.max_attempts"]
    base, link = values["whistle.notifications.retry_base_seconds"], values["whistle.notifications.link"]
    if batch < 0:
        raise ConfigurationError("bad value for 'whistle.notifications.batch_minutes': expected 0 or more minutes")
    if attempts < 1:
        raise ConfigurationError("bad value for 'whistle.notifications.max_attempts': expected at least 1")
    if base < 1:
        raise ConfigurationError("bad value for 'whistle.notifications.retry_base_seconds': expected at least 1")
    if not link.startswith(("http://", "https://")):
        raise ConfigurationError("bad value for 'whistle.notifications.link': expected an http(s) URL")
    return {"notification_batch": timedelta(minutes=batch), "notification_max_attempts": attempts,
            "notification_retry_base": timedelta(seconds=base), "notification_link": link}


def _org_settings(values: dict[str, Any]) -> dict[str, Any]:
    """The organisation key settings: auto_sign needs both halves of the key."""
    public_key, signing_key = values["whistle.org.public_key"], values["whistle.org.signing_key"]
    auto_sign, days = values["whistle.org.auto_sign"], values["whistle.org.directory_days"]
    if days < 1:
        raise ConfigurationError("bad value for 'whistle.org.directory_days': expected at least 1 day")
    if auto_sign and (public_key is None or signing_key is None):
        raise ConfigurationError("whistle.org.auto_sign needs whistle.org.public_key_file and "
                                 "whistle.org.signing_key_file (create them with `whistle -c FILE keys org-init`)")
    if signing_key is not None and public_key is not None and signing_key.public_key != public_key:
        raise ConfigurationError("whistle.org.signing_key_file is not the private half of whistle.org.public_key_file")
    return {"org_public_key": public_key, "org_signing_key": signing_key, "org_auto_sign": auto_sign,
            "directory_lifetime": timedelta(days=days),
            "directory_state": Path(values["whistle.org.directory_state"]) if values["whistle.org.directory_state"]
            else None}


def _audit_settings(values: dict[str, Any], merged: dict[str, str]) -> dict[str, Any]:
    """The audit key, and where its checkpoints go: by default beside the audit key file."""
    checkpoint_file = values["whistle.audit.checkpoint_file"]
    if not checkpoint_file:
        key_file = merged.get("whistle.audit.key" + FILE_SUFFIX)
        if key_file is None:
            raise ConfigurationError("missing setting 'whistle.audit.checkpoint_file' (the audit key is not read "
                                     "from a file, so there is no key file to keep the checkpoints beside)")
        checkpoint_file = str(Path(key_file).parent / "audit-checkpoints")
    return {"audit_key": values["whistle.audit.key"], "audit_checkpoint_file": Path(checkpoint_file)}
# The Argon2id memory one process may hold at once when whistle.kdf.concurrency is 0 (automatic).
KDF_MEMORY_BUDGET = 512 * 1024**2


def _kdf_bounds(values: dict[str, Any], kdf: KdfCost, receipt_kdf: KdfCost) -> dict[str, Any]:
    concurrency = values["whistle.kdf.concurrency"]
    if concurrency < 0:
        raise ConfigurationError("bad value for 'whistle.kdf.concurrency': expected 0 (automatic) or more")
    if concurrency == 0:
        by_memory = KDF_MEMORY_BUDGET // max(kdf.memlimit, receipt_kdf.memlimit)
        concurrency = max(1, min(os.cpu_count() or 1, by_memory))
    return {"kdf_concurrency": concurrency, "kdf_wait": values["whistle.kdf.wait_seconds"]}


def _proof_of_work_settings(values: dict[str, Any]) -> dict[str, Any]:
    bits, minutes = values["whistle.intake.proof_of_work_bits"], values["whistle.intake.proof_of_work_minutes"]
    if not 1 <= bits <= 32:
        raise ConfigurationError("bad value for 'whistle.intake.proof_of_work_bits': expected 1 to 32")
    if minutes < 1:
        raise ConfigurationError("bad value for 'whistle.intake.proof_of_work_minutes': expected at least 1")
    return {"proof_of_work": values["whistle.intake.proof_of_work"], "proof_of_work_bits": bits,
            "proof_of_work_lifetime": timedelta(minutes=minutes)}


def load_settings(raw: Mapping[str, Any], environ: Mapping[str, str] = os.environ) -> Settings:
    """Build the typed settings from the .ini values `raw` and the environment."""
    merged = gather(raw, environ)
    if _bool(merged["whistle.secrets.autocreate"]):
        for path in secret_files(raw, environ).values():
            create_key_file(path)

    values: dict[str, Any] = {}
    files: list[Path] = []
    for key, spec in SPECS.items():
        file_key = key + FILE_SUFFIX
        text = merged.get(key)
        if file_key in merged:  # a secret file beats every other layer
            path = Path(merged[file_key])
            files.append(path)
            try:
                text = path.read_text(encoding="utf-8").strip()
            except OSError as error:
                hint = " (create it with `whistle -c FILE keys init`)" if spec.secret else ""
                if key.startswith("whistle.org."):
                    hint = " (create it with `whistle -c FILE keys org-init`)"
                raise ConfigurationError(f"{file_key}: cannot read {path}: {error.strerror}{hint}") from None
        if text is None:
            hint = f" (set {key}_file and run `whistle -c FILE keys init`)" if spec.secret else ""
            raise ConfigurationError(f"missing setting {key!r}{hint}")
        try:
            values[key] = spec.parse(text)
        except ValueError as error:
            raise ConfigurationError(f"bad value for {key!r}: {error}") from None

    try:
        kdf = KdfCost(opslimit=values["whistle.kdf.opslimit"], memlimit=values["whistle.kdf.memlimit"])
        receipt_kdf = KdfCost(opslimit=values["whistle.kdf.receipt_opslimit"],
                              memlimit=values["whistle.kdf.receipt_memlimit"])
    except ValueError as error:
        raise ConfigurationError(f"bad Argon2id cost in whistle.kdf.*: {error}") from None

    return Settings(
        db_url=values["whistle.db.url"],
        storage_dir=Path(values["whistle.storage.dir"]),
        lookup_pepper=values["whistle.secrets.lookup_pepper"],
        session_key=values["whistle.secrets.session_key"],
        cookies_secure=values["whistle.cookies.secure"],
        kdf=kdf,
        receipt_kdf=receipt_kdf,
        staff_session_idle=timedelta(minutes=values["whistle.sessions.staff_idle_minutes"]),
        staff_session_absolute=timedelta(hours=values["whistle.sessions.staff_absolute_hours"]),
        reporter_session_idle=timedelta(minutes=values["whistle.sessions.reporter_idle_minutes"]),
        max_json_bytes=values["whistle.api.max_json_bytes"],
        max_text_chars=values["whistle.form.max_text_chars"],
        plugins=values["whistle.plugins"],
        plugins_plaintext=values["whistle.plugins.plaintext"],
        max_attachment_bytes=values["whistle.attachments.max_file_bytes"],
        max_case_attachment_bytes=values["whistle.attachments.max_case_bytes"],
        max_guardian_case_attachment_bytes=values["whistle.attachments.max_guardian_case_bytes"],
        max_unfinished_uploads=values["whistle.attachments.max_unfinished_uploads"],
        blob_store=values["whistle.attachments.blob_store"],
        receipt_failures_per_minute=values["whistle.mailbox.receipt_failures_per_minute"],
        checkin_months=values["whistle.retaliation.checkin_months"],
        **_notification_settings(values),
        scheduler_embedded=values["whistle.scheduler.embedded"],
        scheduler_interval=timedelta(seconds=max(1, values["whistle.scheduler.interval_seconds"])),
        dev_mail_server=values["whistle.dev.mail_server"],
        display_timezone=values["whistle.display.timezone"],
        recovery_failures_per_hour=values["whistle.accounts.recovery_failures_per_hour"],
        reports_per_client=values["whistle.intake.reports_per_client"],
        reports_per_minute=values["whistle.intake.reports_per_minute"],
        surge_reports_per_minute=values["whistle.intake.surge_reports_per_minute"],
        receipt_failures_per_client=values["whistle.mailbox.receipt_failures_per_client"],
        uploads_per_client=values["whistle.attachments.uploads_per_client"],
        uploads_per_minute=values["whistle.attachments.uploads_per_minute"],
        sign_in_failures_per_minute=values["whistle.accounts.sign_in_failures_per_minute"],
        server_assisted=values["whistle.workspace.server_assisted"],
        two_admin_rule=values["whistle.admin.two_admin_rule"],
        **_org_settings(values),
        shred_store_url=values["whistle.shred_store.url"] or default_store_url(values["whistle.db.url"]),
        **_audit_settings(values, merged),
        **_kdf_bounds(values, kdf, receipt_kdf),
        **_proof_of_work_settings(values),
        metrics_token=values["whistle.metrics.token"],
        onion_address=values["whistle.onion.address"],
        key_files=tuple(files),
        **{f"s3_{name}": values[f"whistle.attachments.s3.{name}"]
           for name in ("bucket", "prefix", "endpoint_url", "region", "access_key_id", "secret_access_key")},
    )
