"""Coming back with the receipt: an end-to-end session (the lookup value, never the receipt), the
case's envelopes, the checks that the case key is the reporter's (6.11, 6.12), and the case read here."""
from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any

from whistle import crypto

from .api import Api, path
from .report import AUTHOR, b64
from .trust import Refused

# Kinds of item the reporter's client reads, and who they show as.
READABLE = ("disclosure", "answers", "message", "attachment-meta")
KEY_MISMATCH = ("The keys of this case do not match the ones your receipt opened: someone may have changed "
                "them on the server. Nothing was sent; tell the organisation another way.")


@dataclass(frozen=True)
class Opened:
    """A case opened with the receipt: its keys checked, its envelopes as the server gave them."""

    ref: str
    case_keys: crypto.KeyPair = field(repr=False)
    team_public_key: bytes | None
    team_key_checked: bool
    envelopes: dict[str, Any] = field(repr=False)


@dataclass
class Entry:
    id: int
    kind: str
    author: str | None
    at: str
    value: Any  # str for text, dict for JSON, None when it did not verify (or was erased)
    erased: str | None = None  # the service's words, "Erased on <date>: <reason>.", for an erased item


def log_in(api: Api, receipt: str, directory: crypto.DirectoryDocument) -> None:
    """An end-to-end session for the case of `receipt` (its token kept in `api`)."""
    try:
        keys = crypto.derive_reporter_keys_v2(receipt, directory.receipt_salt, directory.receipt_cost)
    except crypto.InvalidReceipt:
        raise Refused("That is not a receipt this client can use: it is 24 letters and digits in six groups of "
                      "four. (A 20-character receipt is read on the service's own pages.)") from None
    answer = api.call("POST", path("reporter", "session"), {"lookup_value": b64(keys.lookup_value)})
    api.token = answer["token"]


def log_out(api: Api) -> None:
    if api.token:
        api.call("DELETE", path("reporter", "session"))
        api.token = None


def open_case(api: Api, receipt: str, directory: crypto.DirectoryDocument) -> Opened:
    """The envelopes, after checking the case key the reporter's grant holds: its public key derived
    here equals the case's, and the binding made with the reporter's own key when the case was made
    says it is that case's key. Refused (nothing sent) on any mismatch."""
    keys = crypto.derive_reporter_keys_v2(receipt, directory.receipt_salt, directory.receipt_cost)
    envelopes = api.call("GET", path("reporter", "envelopes"))
    ref = envelopes["case"]
    try:
        case_private = crypto.unseal(keys.keypair, _bytes(envelopes["sealed_case_key"]))
        case_keys = crypto.KeyPair.from_private(case_private)
    except (crypto.DecryptionFailed, ValueError, TypeError):
        raise Refused(KEY_MISMATCH) from None
    binding = envelopes.get("case_key_binding")
    try:
        if _bytes(envelopes["case_public_key"]) != case_keys.public or binding is None:
            raise crypto.KeyMismatch("the case public key is not the one the reporter's key opens")
        crypto.check_case_key_binding(keys.keypair.private, ref, case_keys.public, _bytes(binding))
        team_public, mac = envelopes.get("team_public_key"), envelopes.get("team_key_mac")
        if mac is not None and team_public is not None:
            crypto.check_team_key_mac(case_keys.private, _bytes(team_public), _bytes(mac))
    except (crypto.KeyMismatch, ValueError, TypeError):
        raise Refused(KEY_MISMATCH) from None
    return Opened(ref, case_keys, _bytes(team_public) if team_public else None, mac is not None, envelopes)


def entries(opened: Opened) -> list[Entry]:
    """Every item the reporter may read, decrypted here; one that does not verify has value None."""
    found = []
    for item in opened.envelopes.get("items", []):
        kind = item.get("kind")
        if kind not in READABLE:
            continue
        author = item.get("author")
        if item.get("erased_on"):  # erased by the people handling the report: no ciphertext, only when and why
            found.append(Entry(item["id"], kind, None, item.get("at", ""), None, str(item.get("erased_words") or "")))
            continue
        try:
            plaintext = crypto.decrypt_item(opened.case_keys, _bytes(item["ciphertext"]), case=opened.ref,
                                            kind=kind, author=author or "")
            value: Any = plaintext.decode("utf-8") if kind in ("disclosure", "message") else json.loads(plaintext)
        except (crypto.DecryptionFailed, ValueError, TypeError):
            value = None
        found.append(Entry(item["id"], kind, author, item.get("at", ""), value))
    return found


def encrypt_message(opened: Opened, text: str) -> str:
    """A message item to the case key derived from the case private key (never the server's copy)."""
    return b64(crypto.encrypt_item(opened.case_keys.public, text.encode("utf-8"), case=opened.ref, kind="message",
                                   author=AUTHOR))


def encrypt_identity(opened: Opened, identity: dict[str, str], mode: str) -> str:
    """Who the reporter is, as an identity item to the case's team key, which only the guardians
    hold: sealed only if the team key MAC, under the case key this client checked, vouches for it."""
    if not opened.team_key_checked or opened.team_public_key is None:
        raise Refused("The people handling your report have not opened it yet, so the key to lock your name "
                      "with cannot be checked. Nothing was sent: try again in a few days.")
    plaintext = json.dumps(dict(identity, mode=mode), ensure_ascii=False).encode("utf-8")
    return b64(crypto.encrypt_item(opened.team_public_key, plaintext, case=opened.ref, kind="identity",
                                   author=AUTHOR))


def _bytes(value: Any) -> bytes:
    if not isinstance(value, str):
        raise TypeError("expected base64 text")
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error:
        raise ValueError("expected base64") from None
