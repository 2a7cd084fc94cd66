"""The signed key directory as every reader takes it (docs/crypto.md 6.9, 7.1): parsing the
document, opening a published one (signature, format, expiry, version), and who a new case is
sealed to. Pure: no database, no server settings, so the server and the reporter clients share it.
"""
from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from .canonical import parse_canonical_json
from .errors import BadSignature, DirectoryRefused
from .keys import KdfCost
from .signing import verify_directory

FORMAT = "whistle-key-directory/1"


@dataclass(frozen=True)
class Listed:
    """A guardian as the directory lists them."""

    username: str
    public_key: bytes = field(repr=False)


@dataclass(frozen=True)
class Tiers:
    first_tier: tuple[int, ...]
    second_tier: tuple[int, ...]


@dataclass(frozen=True)
class DirectoryDocument:
    """The members of a key directory document, parsed and type-checked (not yet trusted: that is
    `open_directory`'s job, or the server's `verify`)."""

    version: int
    issued_at: datetime
    expires_at: datetime
    receipt_salt: bytes
    receipt_cost: KdfCost
    escrow_key: bytes | None = field(repr=False)
    guardians: Mapping[int, Listed]
    channels: Mapping[str, Tiers]

    def key_of(self, account_id: int) -> bytes | None:
        listed = self.guardians.get(account_id)
        return listed.public_key if listed else None

    def listed_for(self, slug: str) -> Tiers:
        return self.channels.get(slug, Tiers((), ()))


@dataclass(frozen=True)
class Recipients:
    """Who a new case's keys are sealed to (docs/crypto.md 7.1 step 3): holders read it now,
    standby guardians (the second tier) hold a copy an escalation can activate, and escrow."""

    holders: tuple[int, ...]
    standby: tuple[int, ...]
    escrow_key: bytes | None = field(repr=False)


def timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_timestamp(text: object) -> datetime:
    if not isinstance(text, str):
        raise TypeError("a timestamp is a string")
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def b64decode_exact(text: object, size: int) -> bytes:
    if not isinstance(text, str):
        raise TypeError("expected base64 text")
    try:
        data = base64.b64decode(text, validate=True)
    except binascii.Error:
        raise ValueError("expected base64 text") from None
    if len(data) != size:
        raise ValueError(f"expected {size} bytes")
    return data


def _is_account_id(key: str) -> bool:
    """Whether `key` is an account id written one way only: ASCII digits without a leading zero, so
    no two members of the document ("1", "01", Arabic-Indic one) can name the same account."""
    return key.isascii() and key.isdigit() and str(int(key)) == key


def _receipt_member(value: object) -> tuple[bytes, KdfCost]:
    if not isinstance(value, dict):
        raise TypeError("the receipt member is an object")
    opslimit, memlimit = value.get("opslimit"), value.get("memlimit")
    if type(opslimit) is not int or type(memlimit) is not int:
        raise TypeError("the receipt cost is two integers")
    return b64decode_exact(value.get("salt"), 16), KdfCost(opslimit, memlimit)


def parse_directory(document: bytes) -> DirectoryDocument:
    """The document's members, or ValueError/TypeError if it is not a directory of this format."""
    value = parse_canonical_json(document)
    if not isinstance(value, dict) or value.get("format") != FORMAT:
        raise ValueError("not a whistle key directory")
    version = value.get("version")
    if type(version) is not int or version < 1:
        raise ValueError("bad version")
    issued, expires = parse_timestamp(value.get("issued_at")), parse_timestamp(value.get("expires_at"))
    salt, cost = _receipt_member(value.get("receipt"))
    escrow = value.get("escrow")
    if escrow is not None and not isinstance(escrow, dict):
        raise TypeError("escrow is null or an object")
    escrow_key = None if escrow is None else b64decode_exact(escrow.get("public_key"), 32)
    raw_guardians, raw_channels = value.get("guardians"), value.get("channels")
    if not isinstance(raw_guardians, dict) or not isinstance(raw_channels, dict):
        raise TypeError("guardians and channels are objects")
    guardians = {}
    for key, entry in raw_guardians.items():
        if not _is_account_id(key) or not isinstance(entry, dict) or not isinstance(entry.get("username"), str):
            raise ValueError("bad guardian entry")
        if int(key) in guardians:
            raise ValueError("a guardian is listed twice")
        guardians[int(key)] = Listed(entry["username"], b64decode_exact(entry.get("public_key"), 32))
    channels = {}
    for slug, entry in raw_channels.items():
        if not isinstance(entry, dict):
            raise TypeError("bad channel entry")
        tiers = []
        for name in ("first_tier", "second_tier"):
            ids = entry.get(name)
            if not isinstance(ids, list) or not all(type(i) is int and i in guardians for i in ids):
                raise ValueError("a channel lists someone the directory does not")
            if len(set(ids)) != len(ids):
                raise ValueError("a channel lists someone twice")
            tiers.append(tuple(ids))
        channels[slug] = Tiers(*tiers)
    return DirectoryDocument(version, issued, expires, salt, cost, escrow_key, guardians, channels)


def open_directory(published: object, public_key: bytes, *, now: datetime,
                   lowest_version: int = 0) -> DirectoryDocument:
    """The document of a published directory {"document", "signature", "key"} after the checks every
    client makes: signed by `public_key` (BadSignature), of this format, not expired at `now` and not
    older than `lowest_version`, the highest the client has seen (DirectoryRefused)."""
    if (not isinstance(published, dict) or not isinstance(published.get("document"), str)
            or not isinstance(published.get("signature"), str)):
        raise DirectoryRefused("not a published key directory")
    try:
        # A JSON string may hold a lone surrogate ("\ud800"), which has no UTF-8: no signed document.
        document = published["document"].encode("utf-8")
    except UnicodeEncodeError:
        raise BadSignature("the document is not valid Unicode") from None
    try:
        # binascii.Error for bad base64; ValueError (its base class) for text that is not ASCII.
        signature = base64.b64decode(published["signature"], validate=True)
    except ValueError:
        raise BadSignature("the signature is not base64") from None
    verify_directory(document, signature, public_key)
    try:
        parsed = parse_directory(document)
    except (ValueError, TypeError):
        raise DirectoryRefused("signed, but not a key directory this version reads") from None
    if parsed.version < lowest_version:
        raise DirectoryRefused(f"this key directory (version {parsed.version}) is older than one already "
                               f"seen (version {lowest_version})")
    if parsed.expires_at <= now:
        raise DirectoryRefused(f"this key directory expired on {parsed.expires_at:%Y-%m-%d %H:%M} UTC")
    return parsed


def recipients(directory: DirectoryDocument, slug: str, left_out: Iterable[int] = ()) -> Recipients:
    """Who a new case in channel `slug` is sealed to, the reporter having left out `left_out`: the
    first tier minus those left out; if none is left, the second tier minus those left out, as
    holders; standby: the rest of the second tier; and the escrow key if the directory has one."""
    excluded = set(left_out)
    tiers = directory.listed_for(slug)
    holders = tuple(i for i in tiers.first_tier if i not in excluded)
    if not holders:
        holders = tuple(i for i in tiers.second_tier if i not in excluded)
    standby = tuple(i for i in tiers.second_tier if i not in excluded and i not in holders)
    return Recipients(holders, standby, directory.escrow_key)
