"""Reporter receipts and the keys derived from them (lookup id, reporter key pair)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from nacl import bindings

from . import codes, envelopes
from .errors import InvalidReceipt
from .keys import KdfCost, KeyPair, argon2id

RECEIPT_CHARS = 20  # x 5 bits = 100 bits of entropy

# BLAKE2b personalisations (at most 16 bytes; libsodium zero-pads shorter ones).
_PERSON_SALT = b"whistle-rsalt"
_PERSON_LOOKUP = b"whistle-lookup"
# Fixed message hashed with the pepper to make the deployment's receipt Argon2id salt.
_SALT_LABEL = b"whistle receipt salt v1"
_SALT_LEN = bindings.crypto_pwhash_SALTBYTES  # 16
_MASTER_LEN = 64


def new_receipt() -> str:
    """A fresh receipt: 20 Crockford base32 characters as "XXXX-XXXX-XXXX-XXXX-XXXX"."""
    return codes.new_code(RECEIPT_CHARS)


def normalise_receipt(receipt: str) -> str:
    """The canonical form "XXXX-XXXX-XXXX-XXXX-XXXX" of a receipt typed by a person."""
    normal = codes.normalise_code(receipt, RECEIPT_CHARS)
    if normal is None:
        # Never echo the input: it may be a real receipt with one typo.
        raise InvalidReceipt("a receipt is 20 letters and digits")
    return normal


@dataclass(frozen=True)
class ReporterKeys:
    lookup_id: bytes  # 32 bytes, what the server stores to find the case
    keypair: KeyPair  # the server stores only keypair.public


def derive_reporter_keys(receipt: str, pepper: bytes, cost: KdfCost) -> ReporterKeys:
    """Everything a receipt unlocks, derived without storing anything about the receipt.

    `cost` must stay the same for the life of a deployment: it is not stored anywhere, and a
    different cost gives a different lookup id, so existing receipts would stop finding
    their cases.
    """
    password = normalise_receipt(receipt).encode("ascii")
    pepper = envelopes.check_secret_key(pepper, "pepper")
    # The salt is one per deployment, derived from the secret pepper: receipts are random,
    # so a per-receipt salt buys nothing, and there is nowhere to keep one before lookup.
    salt = envelopes.blake2b(_SALT_LABEL, size=_SALT_LEN, key=pepper, person=_PERSON_SALT)
    master = argon2id(password, salt, cost, _MASTER_LEN)
    lookup_id = envelopes.blake2b(master[:32], size=32, key=pepper, person=_PERSON_LOOKUP)
    public, private = bindings.crypto_box_seed_keypair(master[32:])
    return ReporterKeys(lookup_id=lookup_id, keypair=KeyPair(public, private))


# Receipts version 2 (docs/crypto.md 6.2.1): derived on the reporter's device without the
# pepper, so they carry 120 bits instead of 100; the salt and cost come from the signed key
# directory. Version 1 receipts keep the derivation above (on the server only).
RECEIPT_V2_CHARS = 24  # x 5 bits = 120 bits of entropy
_PERSON_LOOKUP_VALUE = b"whistle-lookup2"
_SALT_LABEL_V2 = b"whistle receipt salt v2"


def new_receipt_v2() -> str:
    """A fresh version 2 receipt: 24 Crockford base32 characters, six groups of four."""
    return codes.new_code(RECEIPT_V2_CHARS)


def receipt_version(receipt: str) -> int:
    """1 or 2: which kind of receipt a person typed, told by its length; else InvalidReceipt."""
    if codes.normalise_code(receipt, RECEIPT_CHARS) is not None:
        return 1
    if codes.normalise_code(receipt, RECEIPT_V2_CHARS) is not None:
        return 2
    raise InvalidReceipt("a receipt is 20 or 24 letters and digits")


def normalise_receipt_v2(receipt: str) -> str:
    """The canonical form "XXXX-XXXX-XXXX-XXXX-XXXX-XXXX" of a version 2 receipt."""
    normal = codes.normalise_code(receipt, RECEIPT_V2_CHARS)
    if normal is None:
        raise InvalidReceipt("a receipt of version 2 is 24 letters and digits")
    return normal


class ClientReporterKeys(NamedTuple):
    lookup_value: bytes  # 32 bytes: what the client sends to find its case (never stored as is)
    keypair: KeyPair  # the server sees only keypair.public


def receipt_salt_v2(pepper: bytes) -> bytes:
    """The deployment's 16-byte receipt salt, published in the key directory.

    Derived from the pepper, so it never changes while the pepper does not (a new salt would
    orphan every version 2 receipt) and needs no storage of its own."""
    pepper = envelopes.check_secret_key(pepper, "pepper")
    return envelopes.blake2b(_SALT_LABEL_V2, size=_SALT_LEN, key=pepper, person=_PERSON_SALT)


def derive_reporter_keys_v2(receipt: str, salt: bytes, cost: KdfCost) -> ClientReporterKeys:
    """What a version 2 receipt unlocks, derived without the pepper (on the reporter's device).

    `salt` and `cost` are the key directory's `receipt` member; both are fixed for the life of
    a deployment."""
    password = normalise_receipt_v2(receipt).encode("ascii")
    salt = envelopes.as_bytes(salt)
    if len(salt) != _SALT_LEN:
        raise ValueError("the receipt salt is 16 bytes")
    master = argon2id(password, salt, cost, _MASTER_LEN)
    lookup_value = envelopes.blake2b(master[:32], size=32, person=_PERSON_LOOKUP_VALUE)
    public, private = bindings.crypto_box_seed_keypair(master[32:])
    return ClientReporterKeys(lookup_value=lookup_value, keypair=KeyPair(public, private))


def lookup_id(lookup_value: bytes, pepper: bytes) -> bytes:
    """What the server stores for a version 2 receipt: the lookup value under the pepper."""
    lookup_value = envelopes.as_bytes(lookup_value)
    if len(lookup_value) != 32:
        raise ValueError("a lookup value is 32 bytes")
    pepper = envelopes.check_secret_key(pepper, "pepper")
    return envelopes.blake2b(lookup_value, size=32, key=pepper, person=_PERSON_LOOKUP)
