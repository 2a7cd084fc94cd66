"""Cases: opening one with its keys, adding encrypted items, and reading it as a key holder."""
from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from whistle import audit, crypto
from whistle.accounts.models import Account
from whistle.cases import shredded
from whistle.cases.models import (
    HOLDER_ESCROW,
    HOLDER_GUARDIAN,
    HOLDER_REPORTER,
    HOLDER_STANDBY,
    ITEM_ANSWERS,
    ITEM_ATTACHMENT_META,
    ITEM_DISCLOSURE,
    ITEM_IDENTITY,
    ITEM_MESSAGE,
    ITEM_NOTE,
    ITEM_OUTCOME,
    ITEM_REASON,
    ITEM_SPEAK_UP_COMMENT,
    TEAM_KEY_ITEMS,
    Attachment,
    Case,
    CaseGrant,
    CaseItem,
)
from whistle.clock import Clock
from whistle.deadlines import profile_named
from whistle.errors import Problem, validation_problem
from whistle.hooks.types import PRIORITIES
from whistle.intake_channels.models import Channel
from whistle.key_directory.services import Directory, public_key_for


class NotGranted(Exception):
    """The caller holds no key to this case (treated as "no such case" at the edge)."""


class KeyMismatch(Exception):
    """A public key stored for the case is not the one the acting session's keys vouch for: the
    case public key (derived from the case private key), or the team public key (derived from the
    team private key, or checked against the team key MAC by the reporter). Someone changed the
    database; nothing is encrypted to the stored key. `which`: "case" or "team".

    `before_any_write`: raised by `check_keys`, before the request changed anything, so its
    refusal (and the audit of it) may be kept; otherwise the request's work is thrown away."""

    def __init__(self, case: Case, which: str, *, before_any_write: bool = False) -> None:
        super().__init__(f"the {which} public key of case {case.ref} is not the one its keys vouch for")
        self.case, self.which, self.before_any_write = case, which, before_any_write

    @property
    def keep_transaction(self) -> bool:
        """What whistle.db.commit_veto asks: keep the audit of a refusal that changed nothing."""
        return self.before_any_write


class DeviceModeOnly(Exception):
    """The caller's session holds no key (device mode): the server cannot decrypt or encrypt for
    it, and the guardian's device does that work instead (docs/crypto.md 7.4)."""


class TeamKeyUnchecked(Exception):
    """The reporter would seal to the team key of a case opened before team key MACs existed, and
    no guardian has opened it since to write one: it cannot be checked yet."""

    def __init__(self, case: Case) -> None:
        super().__init__(f"the team public key of case {case.ref} has no MAC yet")
        self.case = case


def new_case_ref() -> str:
    """Ten random base32 characters (50 bits), e.g. "K7QMA-XHD4P": unguessable, never sequential."""
    chars = base64.b32encode(crypto.random_bytes(10)).decode("ascii")[:10]
    return f"{chars[:5]}-{chars[5:]}"


@dataclass(frozen=True)
class CaseKeys:
    case: crypto.KeyPair
    team: crypto.KeyPair | None  # None for the reporter: notes and identity are not theirs


def open_case(
    dbsession: Session,
    *,
    channel: Channel,
    reporter: crypto.ReporterKeys,
    guardians: list[Account],
    today: date,
    profiles=None,
    directory: Directory | None = None,
    server_key: bytes,
) -> tuple[Case, CaseKeys]:
    """Create a case with fresh case and team key pairs, sealed to the reporter and to `guardians`
    with the keys `directory` lists for them (NotInDirectory for one it does not). The case public
    key is bound to the reporter's private key (held here, at intake) and to `server_key`
    (docs/crypto.md 6.12), so a grant replaced later is refused at unlock.
    `profiles`: the app's deadline profiles by name (registry.deadline_profiles), core's if None."""
    if guardians and directory is None:
        raise ValueError("sealing to guardians needs the signed key directory")
    case_keys, team_keys = crypto.KeyPair.generate(), crypto.KeyPair.generate()
    profile = profile_named(channel.deadline_profile, profiles)
    ref = new_case_ref()
    case = Case(
        ref=ref,
        channel=channel,
        status="received",
        public_key=case_keys.public,
        team_public_key=team_keys.public,
        team_key_mac=crypto.team_key_mac(case_keys.private, team_keys.public),
        key_binding=crypto.case_key_binding(server_key, ref, case_keys.public),
        reporter_lookup_id=reporter.lookup_id,
        reporter_public_key=reporter.keypair.public,
        opened_on=today,
        ack_due=profile.ack_due(today),
        feedback_due=profile.feedback_due(today, None),
    )
    case.grants.append(
        CaseGrant(holder=HOLDER_REPORTER, sealed_case_key=crypto.seal(reporter.keypair.public, case_keys.private),
                  case_key_binding=crypto.case_key_binding(reporter.keypair.private, ref, case_keys.public),
                  granted_on=today)
    )
    keys = CaseKeys(case=case_keys, team=team_keys)
    for guardian in guardians:
        assert directory is not None  # checked above
        grant_to(case, keys, guardian, today, directory=directory)
    dbsession.add(case)
    return case, keys


def grant_to(case: Case, keys: CaseKeys, guardian: Account, today: date, *, directory: Directory,
             holder: str = HOLDER_GUARDIAN) -> None:
    """Seal the case and team keys to `guardian`: from now on they read it with their own key.

    Sealed to the key the signed `directory` lists for them, never the one stored with their
    account (NotInDirectory if it lists none). A standby copy they already have (HOLDER_STANDBY)
    simply becomes active: it holds the same keys."""
    for grant in case.grants:
        if grant.account_id == guardian.id and grant.holder == HOLDER_STANDBY:
            grant.holder, grant.granted_on = holder, today
            return
    if keys.team is None:
        raise NotGranted(case.ref)  # only a holder of the team key can give it on
    public_key = public_key_for(directory, guardian)
    case.grants.append(
        CaseGrant(
            holder=holder,
            account_id=guardian.id,
            sealed_case_key=crypto.seal(public_key, keys.case.private),
            sealed_team_key=crypto.seal(public_key, keys.team.private),
            granted_on=today,
        )
    )


def grant_sealed_to(case: Case, guardian: Account, today: date, *, sealed_case_key: bytes, sealed_team_key: bytes,
                    holder: str = HOLDER_GUARDIAN) -> None:
    """Give `guardian` the case with the keys a guardian's device sealed to them (device mode, the
    server holding no key): sealed on that device to the key the signed directory lists for them,
    which the caller has checked lists them. The server can check only the shape of the sealed keys
    (crypto.is_sealed_key); the grantee's first unlock checks the case key against the case's binding
    (check_grant_binding), so a case key of someone else's is refused there. A standby copy they
    already have simply becomes active, as in grant_to."""
    for grant in case.grants:
        if grant.account_id == guardian.id and grant.holder == HOLDER_STANDBY:
            grant.holder, grant.granted_on = holder, today
            return
    case.grants.append(CaseGrant(holder=holder, account_id=guardian.id, sealed_case_key=sealed_case_key,
                                 sealed_team_key=sealed_team_key, granted_on=today))


def activate_standby(dbsession: Session, case: Case, account_ids: Iterable[int], today: date) -> list[int]:
    """Turn the standby copies of `account_ids` into real grants (no key needed: they were sealed
    at intake). Returns the accounts activated; those without a standby copy are left out."""
    grants = dbsession.scalars(
        select(CaseGrant).where(CaseGrant.case_id == case.id, CaseGrant.holder == HOLDER_STANDBY,
                                CaseGrant.account_id.in_(list(account_ids)))
        .order_by(CaseGrant.account_id)
    ).all()
    for grant in grants:
        grant.holder, grant.granted_on = HOLDER_GUARDIAN, today
    return [grant.account_id for grant in grants if grant.account_id is not None]  # all: selected by account


def current_holders(dbsession: Session, case: Case) -> list[int]:
    """Enabled guardians who hold the case's keys now."""
    return holders_of(dbsession, [case.id])[case.id]


def holders_of(dbsession: Session, case_ids: Iterable[int]) -> dict[int, list[int]]:
    """`current_holders` of many cases in one query: case id -> enabled guardians holding it."""
    dbsession.flush()
    holders: dict[int, list[int]] = {case_id: [] for case_id in case_ids}
    for case_id, account_id in dbsession.execute(
        select(CaseGrant.case_id, Account.id).join(Account, Account.id == CaseGrant.account_id)
        .where(CaseGrant.case_id.in_(list(holders)), CaseGrant.holder == HOLDER_GUARDIAN,
               Account.disabled.is_(False), Account.is_guardian.is_(True))
        .order_by(CaseGrant.case_id, CaseGrant.account_id)
    ):
        holders[case_id].append(account_id)
    return holders


def raise_priority(case: Case, priority: str | None) -> bool:
    """Set the case's priority to `priority` if that is higher; never lower it. Returns whether it rose."""
    if priority not in PRIORITIES or PRIORITIES.index(priority) <= PRIORITIES.index(case.priority or "normal"):
        return False
    case.priority = priority
    return True


def sealed_author(author: str, account_id: int | None) -> str:
    """Who wrote an item, as its encryption binds it: "reporter", "system", "guardian:7".

    Built from the item's `author` and `account_id` columns, so a database writer who changes
    either makes the item fail to decrypt instead of changing who it appears to come from."""
    return author if account_id is None else f"{author}:{account_id}"


def checked_public_key(case: Case, keys: CaseKeys, *, team: bool) -> bytes:
    """The case (or, with `team`, the team) public key to encrypt to, checked against the keys the
    acting session holds rather than trusted as stored: derived from the private key and compared
    with the stored one, or, for the reporter (who holds no team private key), the stored team key
    checked against the case's team key MAC. KeyMismatch or TeamKeyUnchecked if it cannot be."""
    if not team:
        if keys.case.public != case.public_key:  # KeyPair derives .public from .private
            raise KeyMismatch(case, "case")
        return keys.case.public
    if keys.team is not None:
        if keys.team.public != case.team_public_key:
            raise KeyMismatch(case, "team")
        return keys.team.public
    if case.team_key_mac is None:
        raise TeamKeyUnchecked(case)
    try:
        crypto.check_team_key_mac(keys.case.private, case.team_public_key, case.team_key_mac)
    except crypto.KeyMismatch:
        raise KeyMismatch(case, "team") from None
    return case.team_public_key


def check_keys(case: Case, keys: CaseKeys, *, kinds: Iterable[str]) -> None:
    """Check, before writing anything, the keys items of `kinds` would be encrypted to (see
    checked_public_key). Its KeyMismatch says so: the refusal changed nothing."""
    try:
        for team in sorted({kind in TEAM_KEY_ITEMS for kind in kinds}):
            checked_public_key(case, keys, team=team)
    except KeyMismatch as error:
        raise KeyMismatch(case, error.which, before_any_write=True) from None


def add_item(case: Case, keys: CaseKeys, *, kind: str, author: str, plaintext: bytes, today: date,
             account_id: int | None = None) -> CaseItem:
    """Encrypt `plaintext` to the case (or team) public key, checked against `keys` (the acting
    session's: see checked_public_key); anyone who holds the case key may add, only holders read.
    The author (and their account) is sealed in with the case and kind."""
    public_key = checked_public_key(case, keys, team=kind in TEAM_KEY_ITEMS)
    item = CaseItem(
        kind=kind,
        author=author,
        account_id=account_id,
        ciphertext=crypto.encrypt_item(public_key, plaintext, case=case.ref, kind=kind,
                                       author=sealed_author(author, account_id)),
        created_on=today,
    )
    case.items.append(item)
    return item


@dataclass(frozen=True)
class DeviceItem:
    """An item envelope a guardian's device encrypted (device mode: the session holds no key), given
    where the server-assisted path takes text; its shape checked (crypto.is_item_of_size)."""

    ciphertext: bytes


@dataclass(frozen=True)
class DeviceSealedKeys:
    """The case and team private keys a guardian's device sealed to another guardian (device mode),
    to the key the signed directory lists for them; each checked with crypto.is_sealed_key."""

    sealed_case_key: bytes
    sealed_team_key: bytes


def write_item(case: Case, keys: CaseKeys | None, *, kind: str, author: str, content: bytes | DeviceItem,
               today: date, account_id: int | None = None) -> CaseItem:
    """An item of the case: `content` encrypted here (plaintext bytes, with the acting session's
    `keys`: add_item), or as the writer's device encrypted it (a DeviceItem: add_sealed_item)."""
    if isinstance(content, DeviceItem):
        return add_sealed_item(case, kind=kind, author=author, ciphertext=content.ciphertext, today=today,
                               account_id=account_id)
    if keys is None:
        raise NotGranted(case.ref)
    return add_item(case, keys, kind=kind, author=author, plaintext=content, today=today, account_id=account_id)


def add_sealed_item(case: Case, *, kind: str, author: str, ciphertext: bytes, today: date,
                    account_id: int | None = None) -> CaseItem:
    """Store an item its writer's device encrypted (an item envelope of version 2 binding the case,
    `kind` and sealed_author(author, account_id), to the case or team key by kind): the server holds
    no key to check more than its shape, which the caller has checked (crypto.is_item_of_size). One
    encrypted to another key, case, kind or author simply fails to decrypt for its readers."""
    item = CaseItem(kind=kind, author=author, account_id=account_id, ciphertext=ciphertext, created_on=today)
    case.items.append(item)
    return item


def guardian_grant(dbsession: Session, case: Case, account_id: int, *, fresh: bool = False) -> CaseGrant | None:
    """The account's active grant on the case (a standby copy does not count). `fresh`: read from
    the database again, not from what this session loaded before (the case row is locked)."""
    query = select(CaseGrant).where(CaseGrant.case_id == case.id, CaseGrant.account_id == account_id,
                                    CaseGrant.holder == HOLDER_GUARDIAN)
    if fresh:
        query = query.execution_options(populate_existing=True)
    return dbsession.scalars(query).first()


@dataclass(frozen=True)
class TeamKeyRenewal:
    """What replacing the team key of a case built on the client needs besides the keys
    (replace_client_team_key): the clock, for the audit; the current signed key directory, asked
    for only when a case needs it (None when there is no usable one); and what re-encrypts the
    case's internal files from the old team key to the new one (the blob store's area does)."""

    clock: Clock
    directory: Callable[[], Directory | None]
    reencrypt_files: Callable[[Case, crypto.KeyPair, crypto.KeyPair], None]


def needs_new_team_key(case: Case) -> bool:
    """Whether the case's team key is still the one the reporter's client made (docs/crypto.md 7.1)."""
    return case.built_on_client and not case.team_key_replaced


def unlock_for_guardian(dbsession: Session, case: Case, account_id: int, keypair: crypto.KeyPair, *,
                        server_key: bytes, renewal: TeamKeyRenewal | None) -> CaseKeys:
    """The case (and team) keys sealed in the guardian's grant, once the case key is bound to them
    (check_grant_binding) and the team key vouched for by the case's team key MAC: KeyMismatch if
    either is not, before anything is written.

    With `renewal`, the first unlock of a case built on the client replaces the team key the
    reporter's client made (replace_client_team_key), and the keys returned carry the new one.
    Every guardian's request passes one; None only where the team key is neither read nor written."""
    renew = renewal is not None and needs_new_team_key(case)
    if renew:
        # Locked before the grant is read: a second first unlock at the same moment (PostgreSQL)
        # waits here until the first commits, then finds the key replaced and its grant resealed.
        dbsession.execute(select(Case).where(Case.id == case.id).with_for_update()
                          .execution_options(populate_existing=True))
    grant = guardian_grant(dbsession, case, account_id, fresh=renew)
    if grant is None:
        raise NotGranted(case.ref)
    try:
        sealed_case_key, sealed_team_key = grant.sealed_case_key, grant.sealed_team_key
    except crypto.DecryptionFailed:
        # The grant does not unwrap under the case's shred key: it was changed in the database (or
        # the key is destroyed, the case being purged). Refused as a grant that is not the case's.
        raise KeyMismatch(case, "case", before_any_write=True) from None
    case_private = crypto.unseal(keypair, sealed_case_key)
    team_private = crypto.unseal(keypair, sealed_team_key) if sealed_team_key else None
    keys = CaseKeys(
        case=crypto.KeyPair.from_private(case_private),
        team=crypto.KeyPair.from_private(team_private) if team_private else None,
    )
    check_grant_binding(case, grant, keypair, keys, server_key=server_key)
    if keys.team is not None and case.team_key_mac is not None:
        try:
            crypto.check_team_key_mac(keys.case.private, keys.team.public, case.team_key_mac)
        except crypto.KeyMismatch:
            raise KeyMismatch(case, "team", before_any_write=True) from None
    write_team_key_mac(case, keys)
    if renew and renewal is not None and needs_new_team_key(case):
        keys = replace_client_team_key(dbsession, case, keys, account_id=account_id, renewal=renewal)
    return keys


TEAM_KEY_REPLACED = "case.team_key_replaced"


def replace_client_team_key(dbsession: Session, case: Case, keys: CaseKeys, *, account_id: int,
                            renewal: TeamKeyRenewal) -> CaseKeys:
    """Replace the team key pair of a case built on the client, which the reporter's client made
    and may have kept, with a new one the reporter's side never holds (docs/crypto.md 7.1); return
    `keys` with the new team key. Called with the case row locked, by a guardian whose `keys` hold
    the case key and the old team key, both checked (unlock_for_guardian).

    The new team private key is sealed to every grant that held a team key, each to the key the
    current signed directory lists for its holder (escrow: the directory's escrow key); a holder
    it does not list any more (or escrow, when it has no escrow key) loses its team key copy, since
    nothing may be sealed to a key the directory does not vouch for, and keeps the case key. Every
    team-key item is re-encrypted to the new key (same case, kind and author), and so are the
    internal files; the team public key and its MAC are the new key's. Audited
    `case.team_key_replaced` with the withheld holders' account ids, nothing about the items.

    Without the team key, or without a usable directory, nothing changes: the key is replaced at a
    later unlock, and whatever was written to the old key meanwhile is re-encrypted then."""
    old = keys.team
    directory = renewal.directory() if old is not None else None
    if old is None or directory is None:
        return keys
    new = crypto.KeyPair.generate()
    escrow_key = crypto.parse_directory(directory.document).escrow_key
    withheld: list[int] = []
    escrow_withheld = False
    grants = dbsession.scalars(select(CaseGrant).where(CaseGrant.case_id == case.id,
                                                       CaseGrant.sealed_team_key.is_not(None))
                               .order_by(CaseGrant.id)).all()
    for grant in grants:
        if grant.holder == HOLDER_ESCROW:
            recipient = escrow_key
            escrow_withheld = recipient is None
        elif grant.holder in (HOLDER_GUARDIAN, HOLDER_STANDBY) and grant.account_id is not None:
            recipient = directory.key_of(grant.account_id)
            if recipient is None:
                withheld.append(grant.account_id)
        else:
            recipient = None  # the reporter never holds the team key
        grant.sealed_team_key = crypto.seal(recipient, new.private) if recipient is not None else None
    # Every item a case built on the client holds is of version 2 (author sealed): it keeps its
    # case, kind and author. One that does not open with the old key is left as it is: it was
    # unverifiable before and stays so.
    for item in dbsession.scalars(select(CaseItem).where(CaseItem.case_id == case.id,
                                                         CaseItem.kind.in_(sorted(TEAM_KEY_ITEMS)),
                                                         CaseItem.erased_on.is_(None))):
        author = sealed_author(item.author, item.account_id)
        try:
            plaintext = crypto.decrypt_item(old, item.ciphertext, case=case.ref, kind=item.kind, author=author)
        except crypto.DecryptionFailed:
            continue
        item.ciphertext = crypto.encrypt_item(new.public, plaintext, case=case.ref, kind=item.kind, author=author)
    renewal.reencrypt_files(case, old, new)
    renewed = CaseKeys(case=keys.case, team=new if account_id not in withheld else None)
    case.team_public_key, case.team_key_mac, case.team_key_replaced = new.public, None, True
    write_team_key_mac(case, CaseKeys(case=keys.case, team=new))
    audit.record(dbsession, renewal.clock, actor=f"account:{account_id}", action=TEAM_KEY_REPLACED, case_id=case.id,
                 detail={"withheld_ids": sorted(withheld), "escrow_withheld": escrow_withheld})
    return renewed


def check_grant_binding(case: Case, grant: CaseGrant, holder: crypto.KeyPair, keys: CaseKeys, *,
                        server_key: bytes) -> None:
    """Refuse (KeyMismatch, before any write) a case private key from `grant` whose public key is
    not bound to its holder (docs/crypto.md 6.12). Sealed boxes are anonymous: anyone can seal a
    case key of their own to a holder's stored public key, so the key is trusted only if

    - the grant's binding, made with the holder's private key, checks; or, for a grant without one
      (a guardian's first visit, a case opened before bindings existed),
    - the case's binding under `server_key` (a secret setting, never in the database) checks; the
      holder's binding is then written, so later visits no longer depend on the server's key.

    A case with neither binding anywhere is one opened before bindings existed: its keys are
    trusted on this first use and both bindings written. A grant without a binding on a case that
    has some binding, but not the server's, is refused rather than trusted again."""
    ref, case_public = case.ref, keys.case.public
    if grant.case_key_binding is not None:
        try:
            crypto.check_case_key_binding(holder.private, ref, case_public, grant.case_key_binding)
        except crypto.KeyMismatch:
            raise KeyMismatch(case, "case", before_any_write=True) from None
        return
    if case.key_binding is not None:
        try:
            crypto.check_case_key_binding(server_key, ref, case_public, case.key_binding)
        except crypto.KeyMismatch:
            raise KeyMismatch(case, "case", before_any_write=True) from None
    elif any(other.case_key_binding is not None for other in case.grants):
        raise KeyMismatch(case, "case", before_any_write=True)
    elif case_public == case.public_key:
        case.key_binding = crypto.case_key_binding(server_key, ref, case_public)
    else:
        raise KeyMismatch(case, "case", before_any_write=True)
    grant.case_key_binding = crypto.case_key_binding(holder.private, ref, case_public)


def write_team_key_mac(case: Case, keys: CaseKeys) -> None:
    """Give a case opened before team key MACs existed its MAC, when the keys at hand can vouch
    for it: both private keys, whose public keys are the stored ones."""
    if case.team_key_mac is not None or keys.team is None:
        return
    if keys.case.public == case.public_key and keys.team.public == case.team_public_key:
        case.team_key_mac = crypto.team_key_mac(keys.case.private, keys.team.public)


def decrypt_item(case: Case, keys: CaseKeys, item: CaseItem) -> bytes:
    """The item's plaintext; crypto.DecryptionFailed if it was changed, moved, or credited to
    someone other than who wrote it."""
    keypair = keys.team if item.kind in TEAM_KEY_ITEMS else keys.case
    if keypair is None:
        raise NotGranted(case.ref)
    return crypto.decrypt_item(keypair, item.ciphertext, case=case.ref, kind=item.kind,
                               author=sealed_author(item.author, item.account_id))


class Unreadable(ValueError):
    """An item decrypted but does not hold what its kind holds (only a forger could write it)."""


def parse_item(kind: str, plaintext: bytes):
    """What an item of `kind` holds: text, or a JSON object; Unreadable if it is anything else."""
    try:
        if kind in (ITEM_DISCLOSURE, ITEM_MESSAGE, ITEM_NOTE, ITEM_SPEAK_UP_COMMENT):
            return plaintext.decode("utf-8")
        value = json.loads(plaintext)
    except ValueError:  # UnicodeDecodeError and JSONDecodeError alike
        raise Unreadable(kind) from None
    if not isinstance(value, dict):
        raise Unreadable(kind)
    return value


@dataclass
class CaseContent:
    """A case decrypted for one reader.

    An item that fails to decrypt (tampered, moved, or credited to someone else) does not stop
    the rest being read: it is listed in `unverified`, and messages, notes and records hold a
    marker in its place ({"id", "kind", "at", "unverified": True}). Entries of items written
    before authors were sealed say "author_sealed": False."""

    text: str = ""
    answers: dict = field(default_factory=dict)
    identity: dict | None = None
    messages: list[dict] = field(default_factory=list)
    notes: list[dict] = field(default_factory=list)
    # Closing records and reasons (reopen, transfer, conflict of interest): team key, guardians only.
    records: list[dict] = field(default_factory=list)
    unverified: list[dict] = field(default_factory=list)
    # Files a guardian erased: {"id", "kind", "at", "erased": True, "erased_on", "erased_reason"}; an
    # erased message or note is such a marker in `messages` or `notes`.
    erased_files: list[dict] = field(default_factory=list)
    # The reporter's comments with their answer to "would you speak up again?" ({"id", "text", "at"}).
    comments: list[dict] = field(default_factory=list)

    def lost(self, kind: str) -> bool:
        """Whether an item of `kind` (the disclosure, the answers, the identity) failed to verify."""
        return any(entry["kind"] == kind for entry in self.unverified)


def read_case(case: Case, keys: CaseKeys) -> CaseContent:
    content = CaseContent()
    for item in case.items:
        if item.kind in TEAM_KEY_ITEMS and keys.team is None:
            continue
        if item.erased_on is not None:
            marker = {"id": item.id, "kind": item.kind, "from": item.author, "at": item.created_on, "erased": True,
                      "erased_on": item.erased_on, "erased_reason": item.erased_reason}
            shown_in = {ITEM_MESSAGE: content.messages, ITEM_NOTE: content.notes}.get(item.kind, content.erased_files)
            shown_in.append(marker)
            continue
        if item.kind == ITEM_ATTACHMENT_META:
            continue  # whistle.attachments.services.list_attachments reads these
        try:
            value = parse_item(item.kind, decrypt_item(case, keys, item))
        except (crypto.DecryptionFailed, Unreadable):
            marker = {"id": item.id, "kind": item.kind, "at": item.created_on, "unverified": True}
            content.unverified.append(marker)
            if item.kind in (ITEM_MESSAGE, ITEM_NOTE, ITEM_OUTCOME, ITEM_REASON):
                shown_in = {ITEM_MESSAGE: content.messages, ITEM_NOTE: content.notes}.get(item.kind, content.records)
                shown_in.append(marker)
            continue
        sealed = crypto.item_author_sealed(item.ciphertext)
        if item.kind == ITEM_DISCLOSURE:
            content.text = value
        elif item.kind == ITEM_ANSWERS:
            content.answers = value
        elif item.kind == ITEM_IDENTITY:
            content.identity = value
        elif item.kind in (ITEM_MESSAGE, ITEM_NOTE):
            entry = {"id": item.id, "from": item.author, "text": value, "at": item.created_on, "author_sealed": sealed}
            (content.messages if item.kind == ITEM_MESSAGE else content.notes).append(entry)
        elif item.kind in (ITEM_OUTCOME, ITEM_REASON):
            content.records.append({**value, "id": item.id, "kind": item.kind, "at": item.created_on,
                                    "author_sealed": sealed})
        elif item.kind == ITEM_SPEAK_UP_COMMENT:
            content.comments.append({"id": item.id, "text": value, "at": item.created_on})
    return content


ITEM_UNVERIFIABLE = "case.item_unverifiable"


def record_unverifiable(dbsession: Session, clock, case: Case, items: Iterable[dict], *, reporter_path: bool) -> None:
    """Audit, once per item, that `items` ({"id", "kind"}) failed to verify. The actor is the
    system (no one did anything by reading); found on the reporter's path the event is dated to
    the day, as the reporter's own events are, so its time does not tell when they visited."""
    found = {entry["id"]: entry["kind"] for entry in items}
    if not found:
        return
    known = {event.detail.get("item_id")
             for event in audit.services.case_events(dbsession, case.id, actions=[ITEM_UNVERIFIABLE])}
    for item_id, kind in sorted(found.items()):
        if item_id not in known:
            audit.record(dbsession, clock, actor="system", action=ITEM_UNVERIFIABLE, case_id=case.id,
                         detail={"item_id": item_id, "kind": kind}, dated_to_day=reporter_path)


# --- the guardian's device (docs/crypto.md 7.4): ciphertext out, checked keys and ciphertext in ---

DIRECTORY_CHANGED = "/api/v1/problems/directory-changed"
NO_DIRECTORY = "/api/v1/problems/key-directory"
ALREADY_BOUND = "/api/v1/problems/already-bound"
TEAM_KEY_NOT_DUE = "/api/v1/problems/team-key-not-due"


@dataclass(frozen=True)
class GuardianEnvelopes:
    """A case as stored, for one guardian's device: their grant, the items it may read (the
    team-key kinds only if the grant holds a team key), and the files with their details' items."""

    grant: CaseGrant
    items: list[CaseItem]
    attachments: list[tuple[Attachment, CaseItem | None]]
    team_key_to_replace: bool


def guardian_envelopes(dbsession: Session, case: Case, account_id: int) -> GuardianEnvelopes:
    grant = guardian_grant(dbsession, case, account_id)
    if grant is None:
        raise NotGranted(case.ref)
    team = grant.sealed_team_key is not None
    items = [item for item in case.items if team or item.kind not in TEAM_KEY_ITEMS]
    query = (select(Attachment, CaseItem).outerjoin(CaseItem, CaseItem.id == Attachment.meta_item_id)
             .where(Attachment.case_id == case.id).order_by(Attachment.id))
    attachments: list[tuple[Attachment, CaseItem | None]] = [(row, item) for row, item in dbsession.execute(query)
                   if team or item is None or item.kind not in TEAM_KEY_ITEMS]
    return GuardianEnvelopes(grant=grant, items=items, attachments=attachments,
                             team_key_to_replace=needs_new_team_key(case))


def bind_grant_on_device(dbsession: Session, case: Case, account_id: int, *, case_public_key: bytes,
                         binding: bytes, server_key: bytes) -> CaseGrant:
    """Store the binding a guardian's device made on its first visit (docs/crypto.md 6.12), once the
    case public key it derived checks as check_grant_binding checks it: against the server's
    binding (`cases.key_binding`), or, on a case made before bindings existed, trusted on this
    first use when no grant has a binding and it is the stored key. The binding itself is the
    device's to check from then on: only the guardian's private key can. KeyMismatch (before any
    write) when the key does not check; a grant bound already keeps its binding (409)."""
    grant = guardian_grant(dbsession, case, account_id)
    if grant is None:
        raise NotGranted(case.ref)
    if grant.case_key_binding is not None:
        if grant.case_key_binding == binding:
            return grant
        raise Problem(409, "Your copy of this case's key is bound to your key already; nothing was changed.",
                      type=ALREADY_BOUND, title="Already bound")
    ref = case.ref
    if case_public_key != case.public_key:
        raise KeyMismatch(case, "case", before_any_write=True)
    if case.key_binding is not None:
        try:
            crypto.check_case_key_binding(server_key, ref, case_public_key, case.key_binding)
        except crypto.KeyMismatch:
            raise KeyMismatch(case, "case", before_any_write=True) from None
    elif any(other.case_key_binding is not None for other in case.grants):
        raise KeyMismatch(case, "case", before_any_write=True)
    else:
        case.key_binding = crypto.case_key_binding(server_key, ref, case_public_key)
    grant.case_key_binding = binding
    return grant


@dataclass(frozen=True)
class DeviceTeamKey:
    """A new team key made on a guardian's device for a case built on the client (docs/crypto.md
    7.4): its public key and MAC under the case key, the new team private key sealed to each grant
    that held a team key (None for one the directory no longer vouches for), and every team-key item
    re-encrypted to it. Each by id, in the order sent (for naming the field at fault)."""

    directory_version: int
    team_public_key: bytes
    team_key_mac: bytes
    grants: list[tuple[int, bytes | None]]
    items: list[tuple[int, bytes]]


def replace_team_key_on_device(dbsession: Session, clock: Clock, case: Case, account_id: int, new: DeviceTeamKey, *,
                               directory: Directory | None) -> None:
    """Store a team key a guardian's device made to replace the one the reporter's client made, as
    replace_client_team_key does on the server, after checking all of it that can be checked
    without keys; a refusal (Problem: 409 for the case's state, 422 naming each field) changes nothing.

    The case row is locked first, so two devices replacing at once cannot both succeed: the second
    finds the key replaced (409). Checked: the case still needs it and has no internal files (whose
    streams only the server can re-encrypt, holding both keys); the directory is the current one;
    the grants are exactly those holding a team key, each sealed value a sealed 32-byte key, and
    none exactly for the holders the directory no longer lists (or escrow without an escrow key);
    the items are exactly the case's team-key items but those erased, each the same item re-encrypted
    (an item of version 2, as long as the one it replaces) or left as it was (one that did not open)."""
    dbsession.execute(select(Case).where(Case.id == case.id).with_for_update()
                      .execution_options(populate_existing=True))
    if not needs_new_team_key(case):
        raise Problem(409, "This case's team key has been replaced already; reload the case.", type=TEAM_KEY_NOT_DUE,
                      title="Team key replaced already")
    if dbsession.scalar(select(Attachment.id).join(CaseItem, CaseItem.id == Attachment.meta_item_id)
                        .where(Attachment.case_id == case.id, CaseItem.kind.in_(sorted(TEAM_KEY_ITEMS))).limit(1)):
        raise Problem(409, "This case has internal files, so its team key is replaced on the server, at a sign-in "
                           "without JavaScript.", type=TEAM_KEY_NOT_DUE, title="Team key replaced on the server")
    own = guardian_grant(dbsession, case, account_id, fresh=True)
    if own is None or own.sealed_team_key is None:
        raise Problem(409, "You hold no team key to this case, so you cannot replace it.", type=TEAM_KEY_NOT_DUE,
                      title="No team key")
    if directory is None:
        raise Problem(409, "There is no usable key directory, so the team key cannot be replaced now.",
                      type=NO_DIRECTORY, title="No usable key directory")
    if new.directory_version != directory.version:
        raise Problem(409, "The key directory has changed: fetch the case again and seal to the current one.",
                      type=DIRECTORY_CHANGED, title="Key directory changed",
                      members={"directory_version": directory.version})
    errors: dict[str, str] = {}
    if new.team_public_key == case.team_public_key:
        errors["team_public_key"] = "That is the team key being replaced; make a new one."
    escrow_key = crypto.parse_directory(directory.document).escrow_key
    holding = {grant.id: grant for grant in dbsession.scalars(
        select(CaseGrant).where(CaseGrant.case_id == case.id, CaseGrant.sealed_team_key.is_not(None)))}
    sent_grants = [grant_id for grant_id, _ in new.grants]
    if sorted(sent_grants) != sorted(holding):
        errors["grants"] = f"Expected exactly the grants holding a team key: {sorted(holding)}."
    withheld: list[int] = []
    escrow_withheld = False
    sealed_for: dict[int, bytes | None] = {}
    if "grants" not in errors:
        for index, (grant_id, sealed) in enumerate(new.grants):
            grant = holding[grant_id]
            if grant.holder == HOLDER_ESCROW:
                listed = escrow_key is not None
            else:
                listed = grant.account_id is not None and directory.key_of(grant.account_id) is not None
            field_name = f"grants[{index}].sealed_team_key"
            if sealed is None and listed:
                errors[field_name] = "The key directory lists this holder: seal the new team key to them."
            elif sealed is not None and not listed:
                errors[field_name] = "The key directory does not list this holder: send null for it."
            elif sealed is not None and not crypto.is_sealed_key(sealed):
                errors[field_name] = "Expected a sealed 32-byte key (82 bytes)."
            if not listed:
                if grant.holder == HOLDER_ESCROW:
                    escrow_withheld = True
                elif grant.account_id is not None:
                    withheld.append(grant.account_id)
            sealed_for[grant.id] = sealed
    team_items = {item.id: item for item in dbsession.scalars(
        select(CaseItem).where(CaseItem.case_id == case.id, CaseItem.kind.in_(sorted(TEAM_KEY_ITEMS)),
                               CaseItem.erased_on.is_(None)))}
    sent_items = [item_id for item_id, _ in new.items]
    if sorted(sent_items) != sorted(team_items):
        errors["items"] = f"Expected exactly the case's team-key items: {sorted(team_items)}."
    else:
        for index, (item_id, ciphertext) in enumerate(new.items):
            old = team_items[item_id]
            if ciphertext != old.ciphertext and not (len(ciphertext) == len(old.ciphertext)
                                                     and crypto.is_item_of_size(ciphertext, len(old.ciphertext))):
                errors[f"items[{index}].ciphertext"] = ("Expected the item re-encrypted to the new team key "
                                                        "(version 2, as long as the item it replaces).")
    if errors:
        raise validation_problem(errors)
    for grant_id, sealed in sealed_for.items():
        holding[grant_id].sealed_team_key = sealed
    for item_id, ciphertext in new.items:
        team_items[item_id].ciphertext = ciphertext
    case.team_public_key, case.team_key_mac, case.team_key_replaced = new.team_public_key, new.team_key_mac, True
    audit.record(dbsession, clock, actor=f"account:{account_id}", action=TEAM_KEY_REPLACED, case_id=case.id,
                 detail={"withheld_ids": sorted(withheld), "escrow_withheld": escrow_withheld})


# --- the shred layer (docs/crypto.md 5.10, whistle.cases.shredded) ---


def shred_handles(dbsession: Session, case: Case) -> list[bytes]:
    """Every shred key handle of the case: its own (its grants), each item's and each file's. A purge
    destroys them (whistle.shredding.ShredStore.destroy) before it deletes any row."""
    handles = [case.shred_handle] if case.shred_handle is not None else []
    handles += dbsession.scalars(select(CaseItem.shred_handle).where(CaseItem.case_id == case.id,
                                                                     CaseItem.shred_handle.is_not(None)))
    handles += dbsession.scalars(select(Attachment.shred_handle).where(Attachment.case_id == case.id,
                                                                       Attachment.shred_handle.is_not(None)))
    return handles


def wrap_case_grants(dbsession: Session, case: Case) -> bool:
    """Give a case stored before the shred layer existed its shred key, with every grant wrapped
    under it (when the session flushes). False if it had one already."""
    if case.shred_handle is not None:
        return False
    grants = list(dbsession.scalars(select(CaseGrant).where(CaseGrant.case_id == case.id)))
    unwrapped = [(grant, grant.sealed_case_key, grant.sealed_team_key) for grant in grants]
    case.shred_handle = shredded.new_handle(dbsession)
    for grant, sealed_case_key, sealed_team_key in unwrapped:
        grant.sealed_case_key, grant.sealed_team_key = sealed_case_key, sealed_team_key
    return True


def wrap_item(item: CaseItem) -> bool:
    """Give an item stored before the shred layer existed a shred key of its own, its ciphertext
    wrapped under it (when the session flushes). False if it had one, or was erased."""
    if item.shred_handle is not None or item.erased_on is not None:
        return False
    item.ciphertext = item.ciphertext
    return True


def as_sent(row, name: str):
    """A shredded attribute of `row` ("sealed_case_key", "sealed_team_key", "ciphertext") as a device is
    sent it: unwrapped; or, if it does not unwrap (changed in the database, or its key destroyed), as
    stored. The device then refuses it as a key or item that is not the case's (docs/crypto.md 6.12,
    5.2), as it refused a changed row before the shred layer existed."""
    try:
        return getattr(row, name)
    except crypto.DecryptionFailed:
        return getattr(row, shredded.stored_name(type(row), name))
