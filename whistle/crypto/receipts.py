"""Reporter receipts and the keys derived from them (lookup id, reporter key pair)."""
from __future__ import annotations

from dataclasses import dataclass

from nacl import bindings

from . import codes, envelopes
from .errors import InvalidReceipt
from .keys import KdfCost, KeyPair, argon2id

RECEIPT_CHARS = 20  # x 5 bits = 100 bits of entropy

# BLAKE2b personalisations (at most 16 bytes; libsodium zero-pads shorter ones).
_PERSON_SALT = b"whistle-rsalt"
_PERSON_LOOKUP = b"whistle-lookup"
_PERSON_SUBMISSION = b"whistle-rsubmit"
# Fixed message hashed with the pepper to make the deployment's receipt Argon2id salt.
_SALT_LABEL = b"whistle receipt salt v1"
_SALT_LEN = bindings.crypto_pwhash_SALTBYTES  # 16
_MASTER_LEN = 64


def new_receipt() -> str:
    """A fresh receipt: 20 Crockford base32 characters as "XXXX-XXXX-XXXX-XXXX-XXXX"."""
    return codes.new_code(RECEIPT_CHARS)


def receipt_for_submission(token: str, pepper: bytes) -> str:
    """The receipt of the report sent with the report form's one-time submission `token`, so
    that a second post of the same form (a double press on Send) can be shown it again:
    keyed BLAKE2b of the token under the lookup pepper, 20 bytes, each byte mod 32 one
    character. Only a keyed hash of the token is stored (another purpose), so neither a database
    copy nor the pepper alone gives the receipt back; the token is in the reporter's page only."""
    pepper = envelopes.check_secret_key(pepper, "pepper")
    if not isinstance(token, str) or not token:
        raise TypeError("token must be a non-empty str")
    digest = envelopes.blake2b(token.encode("utf-8"), size=RECEIPT_CHARS, key=pepper, person=_PERSON_SUBMISSION)
    # 256 is a multiple of 32, so `byte % 32` is uniform, as in codes.new_code.
    return codes.group("".join(codes.ALPHABET[byte % 32] for byte in digest))


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
