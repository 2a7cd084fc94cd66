"""The signed key directory: building it, signing and publishing it, reading it back verified, and
what differs between it and the database (docs/crypto.md, "The signed key directory").

Every public key the server seals a case key to comes from `current_directory`, never from
`accounts.public_key`: the directory is signed by the organisation key, whose public half is in a
file the .ini names, so someone who can only write to the database cannot put a key of their own
in it.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from whistle import audit, crypto
from whistle.accounts.models import Account
from whistle.clock import Clock
from whistle.crypto.directory import Listed, Tiers
from whistle.i18n import _
from whistle.intake_channels import services as channels
from whistle.intake_channels.models import TIER_DEFAULT, TIER_SECOND, Channel, ChannelGuardian
from whistle.jobs import TickContext
from whistle.key_directory.models import KeyDirectory
from whistle.settings import Settings

FORMAT = crypto.directory.FORMAT
# Differences are named when the directory expires within this many days.
EXPIRY_WARNING = timedelta(days=7)


class DirectoryError(Exception):
    """No key directory can be used or published; the message says why, in plain words."""


class NoDirectory(DirectoryError):
    """No key directory has been published at all."""


class NotInDirectory(Exception):
    """A guardian the signed key directory does not list: nothing can be sealed to them."""

    def __init__(self, account: Account) -> None:
        super().__init__(f"{account.username} is not in the signed key directory: sign a new key directory first.")
        self.account = account


@dataclass(frozen=True)
class Directory:
    """A key directory whose signature, format and expiry have been checked."""

    version: int
    issued_at: datetime
    expires_at: datetime
    guardians: Mapping[int, Listed]
    channels: Mapping[str, Tiers]
    document: bytes = field(repr=False)
    signature: bytes = field(repr=False)

    def key_of(self, account_id: int) -> bytes | None:
        listed = self.guardians.get(account_id)
        return listed.public_key if listed else None

    def listed_for(self, slug: str) -> Tiers:
        return self.channels.get(slug, Tiers((), ()))

    def published(self, fingerprint: str) -> dict:
        """The published form: {"document", "signature", "key"} (docs/crypto.md)."""
        return {"document": self.document.decode("utf-8"),
                "signature": base64.b64encode(self.signature).decode("ascii"), "key": fingerprint}


# --- the document ------------------------------------------------------------------------------

def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def enabled_guardians(dbsession: Session) -> list[Account]:
    return list(dbsession.scalars(select(Account).where(Account.is_guardian.is_(True), Account.disabled.is_(False))
                                  .order_by(Account.id)))


def memberships(dbsession: Session) -> dict[str, Tiers]:
    """Each active channel's enabled guardians by tier, as the database holds them now."""
    tiers: dict[str, dict[int, list[int]]] = {
        slug: {TIER_DEFAULT: [], TIER_SECOND: []}
        for slug in dbsession.scalars(select(Channel.slug).where(Channel.active.is_(True)))
    }
    rows = dbsession.execute(
        select(Channel.slug, ChannelGuardian.tier, ChannelGuardian.account_id)
        .join(ChannelGuardian, ChannelGuardian.channel_id == Channel.id)
        .join(Account, Account.id == ChannelGuardian.account_id)
        .where(Channel.active.is_(True), Account.is_guardian.is_(True), Account.disabled.is_(False),
               ChannelGuardian.tier.in_((TIER_DEFAULT, TIER_SECOND)))
        .order_by(ChannelGuardian.account_id))
    for slug, tier, account_id in rows:
        tiers[slug][tier].append(account_id)
    return {slug: Tiers(tuple(by_tier[TIER_DEFAULT]), tuple(by_tier[TIER_SECOND])) for slug, by_tier in tiers.items()}


def build_document(dbsession: Session, settings: Settings, clock: Clock, *, version: int,
                   keys: Mapping[int, bytes] | None = None, tiers: Mapping[str, Tiers] | None = None) -> dict:
    """The directory of the guardians and channels in the database now, as version `version`.

    `keys`: the public key to list for each guardian; a guardian without one is left out (and
    their channels list only those included). None: the keys in the database (what an operator
    vouches for by signing the draft). `tiers`: each channel's guardians to list (see
    `vouched_tiers`); None: the memberships in the database."""
    now = clock.now()
    guardians = {}
    for account in enabled_guardians(dbsession):
        public_key = account.public_key if keys is None else keys.get(account.id)
        if public_key is not None:
            guardians[str(account.id)] = {"username": account.username, "public_key": _b64(public_key)}
    channels = {
        slug: {"first_tier": [i for i in listed.first_tier if str(i) in guardians],
               "second_tier": [i for i in listed.second_tier if str(i) in guardians]}
        for slug, listed in (memberships(dbsession) if tiers is None else tiers).items()
    }
    return {
        "format": FORMAT,
        "version": version,
        "issued_at": crypto.directory.timestamp(now),
        "expires_at": crypto.directory.timestamp(now + settings.directory_lifetime),
        "receipt": {"salt": _b64(crypto.receipt_salt_v2(settings.lookup_pepper)),
                    "opslimit": settings.receipt_kdf.opslimit, "memlimit": settings.receipt_kdf.memlimit},
        "escrow": None,
        "guardians": guardians,
        "channels": channels,
    }


def newest_version(dbsession: Session) -> int:
    return dbsession.scalar(select(func.max(KeyDirectory.version))) or 0


def next_version(dbsession: Session, settings: Settings) -> int:
    """The version the next directory gets: above every one stored and every one already used."""
    used = _seen(settings, settings.org_public_key).version if settings.org_public_key is not None else 0
    return max(newest_version(dbsession), used) + 1


def draft(dbsession: Session, settings: Settings, clock: Clock, *, keys: Mapping[int, bytes] | None = None) -> bytes:
    """The next directory, unsigned, as canonical JSON: for `keys sign-directory --draft`. `keys`
    as for `build_document` (see `operator_keys`)."""
    return crypto.canonical_json(build_document(dbsession, settings, clock, version=next_version(dbsession, settings),
                                                keys=keys))


def operator_keys(dbsession: Session, settings: Settings,
                  accepted: Mapping[str, str]) -> tuple[dict[int, bytes], list[str]]:
    """The keys an operator's `keys sign-directory` / `directory-draft` lists, and what it kept, in
    plain words.

    A guardian the last signed directory lists keeps the key it listed, even when the stored key
    differs (that is what a key swap by a database writer looks like); the stored key replaces it
    only when `accepted` ({username: fingerprint}) names that guardian with the stored key's
    fingerprint, which the operator has checked with them. A guardian not listed yet gets their
    stored key: the draft shows its fingerprint for the operator to check before signing."""
    previous = _newest_signed(dbsession, settings)
    listed = previous.guardians if previous is not None else {}
    keys: dict[int, bytes] = {}
    notes: list[str] = []
    for account in enabled_guardians(dbsession):
        stored = account.public_key
        if stored is None:
            continue
        old = listed.get(account.id)
        if old is None or old.public_key == stored:
            keys[account.id] = stored
            continue
        fingerprint = crypto.fingerprint(stored)
        wanted = accepted.get(account.username)
        if wanted is not None and crypto.normalise_fingerprint(wanted) == fingerprint:
            keys[account.id] = stored
            notes.append(f"The key of {account.username} changes to the stored key {fingerprint}, as accepted.")
        else:
            keys[account.id] = old.public_key
            notes.append(f"The key stored for {account.username} ({fingerprint}) is not the signed one "
                         f"({crypto.fingerprint(old.public_key)}): the signed key is kept. Check the new key with "
                         f"them, then sign with --accept-key {account.username}={fingerprint}.")
    return keys, notes


def sign(document: bytes, signing_key: crypto.SigningKey) -> dict:
    """The published form of `document` signed with `signing_key`."""
    document_text = document.decode("utf-8")
    signature = crypto.sign_directory(document, signing_key)
    return {"document": document_text, "signature": _b64(signature),
            "key": crypto.fingerprint(signing_key.public_key)}


# --- reading one back, verified ------------------------------------------------------------------

def describe_draft(document: bytes) -> list[str]:
    """What a draft lists, line by line, for the operator to check before signing it offline:
    version, validity, each guardian with the fingerprint of their key, each channel's tiers.
    DirectoryError if `document` is not a key directory of this format."""
    try:
        parsed = crypto.parse_directory(document)
    except (ValueError, TypeError):
        raise DirectoryError("This is not a key directory draft (from `keys directory-draft`).") from None
    names = {account_id: listed.username for account_id, listed in parsed.guardians.items()}
    lines = [(f"version {parsed.version}, valid from {parsed.issued_at:%Y-%m-%d %H:%M} "
             f"until {parsed.expires_at:%Y-%m-%d %H:%M} UTC")]
    lines += [f"guardian {listed.username}: key {crypto.fingerprint(listed.public_key)}"
              for _, listed in sorted(parsed.guardians.items())]
    for slug, tiers in sorted(parsed.channels.items()):
        first = ", ".join(names[i] for i in tiers.first_tier) or "nobody"
        second = ", ".join(names[i] for i in tiers.second_tier) or "nobody"
        lines.append(f"channel {slug}: first tier {first}; second tier {second}")
    return lines


def verify(settings: Settings, document: bytes, signature: bytes, now: datetime | None) -> Directory:
    """The directory, if the organisation key signed it and it has not expired by `now` (None: the
    expiry is not checked); DirectoryError if not."""
    if settings.org_public_key is None:
        raise DirectoryError("No organisation public key is configured (whistle.org.public_key_file): "
                             "run `whistle -c FILE keys org-init`.")
    try:
        crypto.verify_directory(document, signature, settings.org_public_key)
    except (crypto.BadSignature, ValueError):
        raise DirectoryError("The key directory's signature is not the organisation key's.") from None
    try:
        parsed = crypto.parse_directory(document)
    except (ValueError, TypeError):
        raise DirectoryError("The key directory is signed but is not in a format this version reads.") from None
    if now is not None and parsed.expires_at <= now:
        raise DirectoryError(f"The key directory (version {parsed.version}) expired on "
                             f"{parsed.expires_at:%Y-%m-%d}: sign a new one.")
    return Directory(parsed.version, parsed.issued_at, parsed.expires_at, parsed.guardians, parsed.channels,
                     document, signature)


# The highest version seen verified and committed, per organisation key: a database writer who
# puts back an older signed directory (or deletes the newest) is refused. Kept in this process's
# memory and, with whistle.org.directory_state, in a state file that outlives a restart and is
# shared with the CLI; the expiry bounds the rest (docs/crypto.md). Remembered only once the
# transaction that read or published it commits: a version published by a request that was then
# rolled back never existed.
_highest_seen: dict[bytes, int] = {}


@dataclass(frozen=True)
class Seen:
    """The highest directory version seen for an organisation key, and the hash of its document
    (None when only this process's memory knows it)."""

    version: int
    digest: str | None


def _digest(document: bytes) -> str:
    return hashlib.sha256(document).hexdigest()


def _read_state(path: Path | None) -> dict[str, dict]:
    if path is None:
        return {}
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        raise DirectoryError(f"The key directory state file {path} cannot be read ({error}): "
                             "restore it from the backup, or move it away to start afresh.") from None
    return value if isinstance(value, dict) else {}


def _seen(settings: Settings, public_key: bytes) -> Seen:
    entry = _read_state(settings.directory_state).get(crypto.fingerprint(public_key))
    in_memory = _highest_seen.get(public_key, 0)
    if isinstance(entry, dict) and type(entry.get("version")) is int and entry["version"] >= in_memory:
        digest = entry.get("sha256")
        return Seen(entry["version"], digest if isinstance(digest, str) else None)
    return Seen(in_memory, None)


def _write_state(path: Path, public_key: bytes, version: int, digest: str) -> None:
    """Record `version` for `public_key` in the state file unless a higher one is there already;
    written whole to a temporary file and renamed over it, so a crash leaves the old or the new."""
    state = _read_state(path)
    key = crypto.fingerprint(public_key)
    entry = state.get(key)
    if isinstance(entry, dict) and type(entry.get("version")) is int and entry["version"] >= version:
        return
    state[key] = {"version": version, "sha256": digest}
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(path.name + ".new")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        json.dump(state, file, sort_keys=True)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)


def _remember(dbsession: Session, settings: Settings, directory: Directory) -> None:
    assert settings.org_public_key is not None  # verify() checked
    public_key, version, digest = settings.org_public_key, directory.version, _digest(directory.document)
    pending = [True]  # once: a listener cannot be removed while its event is being dispatched

    def committed(session: Session) -> None:
        if not pending or session.get_nested_transaction() is not None:
            return  # done already, or a savepoint was released: the transaction itself may still roll back
        pending.clear()
        _highest_seen[public_key] = max(_highest_seen.get(public_key, 0), version)
        if settings.directory_state is not None:
            _write_state(settings.directory_state, public_key, version, digest)

    event.listen(dbsession, "after_commit", committed)


def current_directory(dbsession: Session, settings: Settings, clock: Clock) -> Directory:
    """The newest published directory, verified; DirectoryError (in plain words) if there is
    none, it is not signed by the organisation key, it has expired, or it is older than one
    already seen (or another document under the same version)."""
    row = dbsession.scalars(select(KeyDirectory).order_by(KeyDirectory.version.desc()).limit(1)).first()
    if row is None:
        raise NoDirectory("No key directory has been signed yet: run `whistle -c FILE keys sign-directory`.")
    directory = verify(settings, row.document, row.signature, clock.now())
    if directory.version != row.version:
        raise DirectoryError("The key directory's stored version is not the one it was signed with.")
    assert settings.org_public_key is not None  # verify() checked
    seen = _seen(settings, settings.org_public_key)
    replaced = directory.version == seen.version and seen.digest not in (None, _digest(directory.document))
    if directory.version < seen.version or replaced:
        audit.record(dbsession, clock, actor=audit.services.SYSTEM, action="key_directory.rolled_back",
                     detail={"version": directory.version, "seen": seen.version})
        what = (f"is another document than the version {seen.version} in use" if replaced else
                f"went back to version {directory.version} after version {seen.version} was in use")
        raise DirectoryError(f"The key directory {what}: a database writer may have put an older one back. "
                             "Publish a new one.")
    _remember(dbsession, settings, directory)
    return directory


def try_current_directory(dbsession: Session, settings: Settings, clock: Clock) -> Directory | None:
    try:
        return current_directory(dbsession, settings, clock)
    except DirectoryError:
        return None


def public_key_for(directory: Directory, account: Account) -> bytes:
    """The key to seal to `account`: the directory's, never the database's; NotInDirectory if none."""
    key = directory.key_of(account.id)
    if key is None:
        raise NotInDirectory(account)
    return key


# --- publishing ----------------------------------------------------------------------------------

def read_published(data: bytes) -> tuple[bytes, bytes]:
    """(document, signature) from the published form's JSON; DirectoryError if it is not one."""
    try:
        value = json.loads(data)
        document, signature = value["document"], value["signature"]
        if not isinstance(document, str):
            raise TypeError("the document is text")
        return document.encode("utf-8"), crypto.directory.b64decode_exact(signature, 64)
    except (ValueError, KeyError, TypeError):
        raise DirectoryError("This is not a signed key directory "
                             '(expected JSON with "document" and "signature").') from None


def publish(dbsession: Session, settings: Settings, clock: Clock, document: bytes, signature: bytes, *,
            actor: str = audit.services.SYSTEM) -> Directory:
    """Store a signed directory as the current one: only if the organisation key signed it, it has
    not expired, and its version is higher than every one published before. Audited."""
    directory = verify(settings, document, signature, clock.now())
    newest = next_version(dbsession, settings) - 1
    if directory.version <= newest:
        raise DirectoryError(f"Version {directory.version} is not newer than the published version {newest}: "
                             "versions only go up. Make a new draft and sign it.")
    dbsession.add(KeyDirectory(version=directory.version, document=document, signature=signature,
                               published_on=clock.today()))
    dbsession.flush()
    audit.record(dbsession, clock, actor=actor, action="key_directory.published",
                 detail={"version": directory.version, "guardians": len(directory.guardians)})
    _remember(dbsession, settings, directory)
    return directory


def sign_from_database(dbsession: Session, settings: Settings, clock: Clock, signing_key: crypto.SigningKey, *,
                       actor: str = audit.services.SYSTEM) -> Directory:
    """Sign and publish the directory of the guardians, keys and channels in the database now,
    vouching for every stored key (`keys sign-directory` uses `operator_keys` instead, which keeps
    the signed key of a guardian whose stored key changed)."""
    document = draft(dbsession, settings, clock)
    return publish(dbsession, settings, clock, document, crypto.sign_directory(document, signing_key), actor=actor)


def auto_sign(dbsession: Session, settings: Settings, clock: Clock, *, vouched: Mapping[int, bytes] | None = None,
              actor: str = audit.services.SYSTEM) -> Directory | None:
    """With whistle.org.auto_sign, sign and publish a new directory for the guardians and channels
    in the database now, in the caller's transaction; None if auto_sign is off or nothing changed.

    The keys listed are those of the current directory, and those in `vouched` (accounts whose key
    pair the caller made in this transaction), never keys read from the database: a key someone
    swapped in a row is not laundered into the next signature. A guardian with neither is left
    out, and the admin overview names them."""
    if not settings.org_auto_sign or settings.org_signing_key is None:
        return None
    previous = _newest_signed(dbsession, settings)
    keys = {account_id: listed.public_key for account_id, listed in (previous.guardians if previous else {}).items()}
    keys.update(vouched or {})
    document = build_document(dbsession, settings, clock, version=next_version(dbsession, settings), keys=keys,
                              tiers=vouched_tiers(dbsession, previous))
    if previous is not None and _same_listing(previous, document):
        return None
    document_bytes = crypto.canonical_json(document)
    return publish(dbsession, settings, clock, document_bytes, crypto.sign_directory(document_bytes,
                                                                                     settings.org_signing_key),
                   actor=actor)


def vouched_tiers(dbsession: Session, previous: Directory | None) -> dict[str, Tiers]:
    """Each active channel's guardians for auto_sign: those `previous` listed, with the changes the
    services made in this transaction (intake_channels.membership_changes), never a membership row
    merely found in the database; what else differs is shown on the admin overview."""
    changes = channels.membership_changes(dbsession)
    result = {}
    for slug in dbsession.scalars(select(Channel.slug).where(Channel.active.is_(True))):
        listed = previous.listed_for(slug) if previous is not None and slug not in changes.replaced else Tiers((), ())
        tier_of: dict[int, int | None] = dict.fromkeys(listed.first_tier, TIER_DEFAULT)
        tier_of.update(dict.fromkeys(listed.second_tier, TIER_SECOND))
        tier_of.update(changes.tiers.get(slug, {}))
        result[slug] = Tiers(tuple(sorted(i for i, tier in tier_of.items() if tier == TIER_DEFAULT)),
                             tuple(sorted(i for i, tier in tier_of.items() if tier == TIER_SECOND)))
    return result


def _newest_signed(dbsession: Session, settings: Settings) -> Directory | None:
    """The newest stored directory the organisation key signed, expired or not: the keys it last
    vouched for (an expired directory's keys are still the organisation's word; only its freshness
    has run out). None if there is none, or it is older than one already used (a rollback)."""
    row = dbsession.scalars(select(KeyDirectory).order_by(KeyDirectory.version.desc()).limit(1)).first()
    if row is None:
        return None
    try:
        directory = verify(settings, row.document, row.signature, None)
    except DirectoryError:
        return None
    assert settings.org_public_key is not None  # verify() checked
    seen = _seen(settings, settings.org_public_key)
    if directory.version < seen.version or (
            directory.version == seen.version and seen.digest not in (None, _digest(directory.document))):
        return None
    return directory


def resign_job(ctx: TickContext) -> str:
    """The tick's "key directory" job: with auto_sign, sign a fresh directory (the keys and tiers of
    the last one carried forward, as auto_sign does) once the current one is within
    EXPIRY_WARNING of its expiry or has expired, so a quiet month does not stop every channel."""
    settings, clock = ctx.settings, ctx.clock
    if not settings.org_auto_sign or settings.org_signing_key is None:
        return "key directory: auto_sign is off; nothing signed"
    with ctx.session() as dbsession:
        previous = _newest_signed(dbsession, settings)
        if previous is not None and previous.expires_at - clock.now() > EXPIRY_WARNING:
            return f"key directory: version {previous.version} is valid until {previous.expires_at:%Y-%m-%d}"
        directory = auto_sign(dbsession, settings, clock)
        if directory is None:
            return "key directory: nothing to sign"
        return (f"key directory: signed version {directory.version}, valid until "
                f"{directory.expires_at:%Y-%m-%d}")


def _same_listing(directory: Directory, document: dict) -> bool:
    """Whether `document` lists the same guardians, keys and channels as `directory`, and the
    directory is not close to expiring (then a fresh one is signed anyway)."""
    listed = {str(account_id): {"username": entry.username, "public_key": _b64(entry.public_key)}
              for account_id, entry in directory.guardians.items()}
    channels = {slug: {"first_tier": list(t.first_tier), "second_tier": list(t.second_tier)}
                for slug, t in directory.channels.items()}
    fresh = crypto.directory.parse_timestamp(document["issued_at"]) + EXPIRY_WARNING < directory.expires_at
    return fresh and listed == document["guardians"] and channels == document["channels"]


# --- what differs between the directory and the database -----------------------------------------

@dataclass(frozen=True)
class Staleness:
    """The published directory against the database, for the admin overview and `channels load`."""

    directory: Directory | None
    problem: str | None  # why there is no usable directory, in plain words
    differences: list[str]  # each difference, in plain words
    swapped: list[str]  # usernames whose stored key is not the one in the directory

    @property
    def stale(self) -> bool:
        return self.directory is None or bool(self.differences)


def staleness(dbsession: Session, settings: Settings, clock: Clock) -> Staleness:
    try:
        directory = current_directory(dbsession, settings, clock)
    except DirectoryError as error:
        return Staleness(None, str(error), [], [])
    differences, swapped = [], []
    accounts = {account.id: account for account in dbsession.scalars(select(Account).order_by(Account.id))}
    for account_id, listed in sorted(directory.guardians.items()):
        account = accounts.get(account_id)
        if account is None:
            differences.append(f"{listed.username} is in the signed directory but has no account here.")
        elif account.public_key != listed.public_key:
            swapped.append(account.username)
            differences.append(f"The key stored for {account.username} is not the key in the signed directory — "
                               "this is what a key swap looks like. Nothing is sealed to the stored key.")
        elif account.disabled:
            differences.append(f"{account.username} was disabled but is still in the signed directory.")
        elif not account.is_guardian:
            differences.append(f"{account.username} is no longer a guardian but is still in the signed directory.")
    for account in enabled_guardians(dbsession):
        if account.id not in directory.guardians:
            differences.append(f"{account.username} was added as a guardian but is not in the signed directory: "
                               "no case can be sealed to them yet.")
    names = {account_id: account.username for account_id, account in accounts.items()}
    now_listed = memberships(dbsession)
    for slug in sorted(set(now_listed) | set(directory.channels)):
        signed, now = directory.listed_for(slug), now_listed.get(slug, Tiers((), ()))
        for account_id in sorted(set(now.first_tier + now.second_tier) - set(signed.first_tier + signed.second_tier)):
            if account_id in directory.guardians:
                differences.append(f"{names.get(account_id, account_id)} was added to the channel {slug!r} "
                                   "after the directory was signed.")
        for account_id in sorted(set(signed.first_tier + signed.second_tier) - set(now.first_tier + now.second_tier)):
            differences.append(f"{names.get(account_id, account_id)} was removed from the channel {slug!r} "
                               "after the directory was signed.")
    if directory.expires_at - clock.now() < EXPIRY_WARNING:
        differences.append(f"The signed directory expires on {directory.expires_at:%Y-%m-%d}: sign a new one.")
    return Staleness(directory, None, differences, swapped)


# --- whether a channel is live -------------------------------------------------------------------

NO_DIRECTORY = "no_key_directory"
NOT_IN_DIRECTORY = "not_in_key_directory"
DIRECTORY_REASONS = {  # marked for translation as channels.UNATTENDED_REASONS are
    NO_DIRECTORY: _("there is no valid signed key directory"),
    NOT_IN_DIRECTORY: _("no guardian of it is in the signed key directory with the key stored for them"),
}


def listed_guardian_ids(dbsession: Session, directory: Directory, slugs: list[str]) -> dict[str, set[int]]:
    """For each channel of `slugs`, the guardians the directory lists for it who are enabled
    guardians now and whose stored key is the listed one: those a case on it could be sealed to
    and read by. One query for all the channels."""
    listed = {slug: set(tiers.first_tier + tiers.second_tier)
              for slug in slugs for tiers in [directory.listed_for(slug)]}
    ids = set().union(*listed.values())
    if not ids:
        return {slug: set() for slug in slugs}
    usable = {account.id for account in dbsession.scalars(
        select(Account).where(Account.id.in_(ids), Account.is_guardian.is_(True), Account.disabled.is_(False)))
        if account.public_key == directory.key_of(account.id)}
    return {slug: ids_of & usable for slug, ids_of in listed.items()}


def directory_reasons(dbsession: Session, settings: Settings, clock: Clock,
                      channels: list[Channel]) -> dict[int, str]:
    """{channel id: reason code of DIRECTORY_REASONS} for each of `channels` that the directory
    gives no guardian to; a channel the directory serves is absent."""
    directory = try_current_directory(dbsession, settings, clock)
    if directory is None:
        return {channel.id: NO_DIRECTORY for channel in channels}
    listed = listed_guardian_ids(dbsession, directory, [channel.slug for channel in channels])
    return {channel.id: NOT_IN_DIRECTORY for channel in channels if not listed[channel.slug]}


# Why a channel takes no reports, whether for its members (intake_channels) or for the directory.
UNATTENDED_REASONS = {**channels.UNATTENDED_REASONS, **DIRECTORY_REASONS}


def unattended_reasons(dbsession: Session, settings: Settings, clock: Clock, channel_ids=None) -> dict[int, str]:
    """{channel id: reason code of UNATTENDED_REASONS} for each channel (of `channel_ids`, or all)
    that takes no reports: no enabled guardian attends it (intake_channels), or none the signed key
    directory lists for it with the key stored for them, so a case on it could be sealed to nobody."""
    reasons = channels.unattended_reasons(dbsession, channel_ids)
    query = select(Channel).where(Channel.id.not_in(list(reasons)))
    if channel_ids is not None:
        query = query.where(Channel.id.in_(list(channel_ids)))
    reasons.update(directory_reasons(dbsession, settings, clock, list(dbsession.scalars(query))))
    return reasons


def why_unattended(dbsession: Session, settings: Settings, clock: Clock, channel: Channel) -> str | None:
    """Why `channel` takes no reports, in plain words, or None when it does."""
    reason = unattended_reasons(dbsession, settings, clock, [channel.id]).get(channel.id)
    return UNATTENDED_REASONS[reason] if reason else None


def unattended_channels(dbsession: Session, settings: Settings, clock: Clock) -> list[tuple[Channel, str]]:
    """Every active channel that takes no reports, with its reason code, by title."""
    reasons = unattended_reasons(dbsession, settings, clock)
    return [(channel, reasons[channel.id]) for channel in channels.active_channels(dbsession) if channel.id in reasons]


def live_channels(dbsession: Session, settings: Settings, clock: Clock) -> list[Channel]:
    """The active channels that take reports, by title."""
    reasons = unattended_reasons(dbsession, settings, clock)
    return [channel for channel in channels.active_channels(dbsession) if channel.id not in reasons]
