"""Wrapping a secret (a guardian's private key) under a password or a recovery key."""
from __future__ import annotations

import unicodedata

from nacl import bindings

from . import codes, envelopes
from .errors import DecryptionFailed
from .keys import KdfCost, argon2id, is_acceptable_cost

# Password wrap layout (docs/crypto.md 5.4):
#   0      version          1
#   1      type (0x04)      1
#   2      salt             16
#   18     opslimit         4    unsigned big-endian
#   22     memlimit         8    unsigned big-endian, bytes
#   30     nonce            24
#   54     ciphertext       len(secret) + 16;  associated data = bytes 0..53
_PASSWORD_HEADER = envelopes.header(envelopes.TYPE_PASSWORD_WRAP)
_SALT_LEN = bindings.crypto_pwhash_SALTBYTES
_OPS_AT = envelopes.HEADER_LEN + _SALT_LEN
_MEM_AT = _OPS_AT + 4
_PW_NONCE_AT = _MEM_AT + 8
_PW_BODY_AT = _PW_NONCE_AT + envelopes.NONCE_LEN

# Recovery wrap layout (docs/crypto.md 5.5):
#   version, type (0x05), nonce (24), ciphertext; associated data = bytes 0..25.
_RECOVERY_HEADER = envelopes.header(envelopes.TYPE_RECOVERY_WRAP)
_RC_BODY_AT = envelopes.HEADER_LEN + envelopes.NONCE_LEN

RECOVERY_KEY_CHARS = 28  # x 5 bits = 140 bits, seven groups of four
_PERSON_RECOVERY = b"whistle-recovery"


def _password_bytes(password: str) -> bytes:
    if not isinstance(password, str):
        raise TypeError("password must be a str")
    # NFC so that the same password typed on different systems (composed or decomposed
    # accents) gives the same key.
    return unicodedata.normalize("NFC", password).encode("utf-8")


def wrap_with_password(secret: bytes, password: str, cost: KdfCost) -> bytes:
    """Encrypt `secret` under Argon2id(`password`); the salt and cost travel in the envelope."""
    salt = bindings.randombytes(_SALT_LEN)
    key = argon2id(_password_bytes(password), salt, cost, envelopes.KEY_LEN)
    nonce = bindings.randombytes(envelopes.NONCE_LEN)
    head = (
        _PASSWORD_HEADER
        + salt
        + cost.opslimit.to_bytes(4, "big")
        + cost.memlimit.to_bytes(8, "big")
        + nonce
    )
    return head + envelopes.aead_encrypt(envelopes.as_bytes(secret), head, nonce, key)


def unwrap_with_password(envelope: bytes, password: str) -> bytes:
    envelope = envelopes.as_bytes(envelope)
    envelopes.check_header(envelope, envelopes.TYPE_PASSWORD_WRAP)
    if len(envelope) < _PW_BODY_AT + envelopes.TAG_LEN:
        raise DecryptionFailed("password envelope too short")
    opslimit = int.from_bytes(envelope[_OPS_AT:_MEM_AT], "big")
    memlimit = int.from_bytes(envelope[_MEM_AT:_PW_NONCE_AT], "big")
    # Check before running Argon2id: the cost comes from the envelope, not from us.
    if not is_acceptable_cost(opslimit, memlimit):
        raise DecryptionFailed("password envelope has an unacceptable cost")
    try:
        password_bytes = _password_bytes(password)
    except UnicodeEncodeError:  # e.g. lone surrogates from a broken form: cannot be right
        raise DecryptionFailed("wrong password") from None
    salt = envelope[envelopes.HEADER_LEN:_OPS_AT]
    key = argon2id(password_bytes, salt, KdfCost(opslimit, memlimit), envelopes.KEY_LEN)
    head = envelope[:_PW_BODY_AT]
    return envelopes.aead_decrypt(envelope[_PW_BODY_AT:], head, envelope[_PW_NONCE_AT:_PW_BODY_AT], key)


def new_recovery_key() -> str:
    """A fresh recovery key: 28 Crockford base32 characters in groups of four (140 bits)."""
    return codes.new_code(RECOVERY_KEY_CHARS)


def _recovery_wrap_key(recovery_key: str) -> bytes:
    normal = codes.normalise_code(recovery_key, RECOVERY_KEY_CHARS)
    if normal is None:
        raise ValueError("a recovery key is 28 letters and digits")
    # The recovery key is full-entropy random, so a keyed hash is enough: no Argon2id.
    return envelopes.blake2b(b"", size=envelopes.KEY_LEN, key=normal.encode("ascii"), person=_PERSON_RECOVERY)


def wrap_with_recovery_key(secret: bytes, recovery_key: str) -> bytes:
    key = _recovery_wrap_key(recovery_key)
    nonce = bindings.randombytes(envelopes.NONCE_LEN)
    head = _RECOVERY_HEADER + nonce
    return head + envelopes.aead_encrypt(envelopes.as_bytes(secret), head, nonce, key)


def unwrap_with_recovery_key(envelope: bytes, recovery_key: str) -> bytes:
    envelope = envelopes.as_bytes(envelope)
    envelopes.check_header(envelope, envelopes.TYPE_RECOVERY_WRAP)
    if len(envelope) < _RC_BODY_AT + envelopes.TAG_LEN:
        raise DecryptionFailed("recovery envelope too short")
    try:
        key = _recovery_wrap_key(recovery_key)
    except ValueError:
        raise DecryptionFailed("not a valid recovery key") from None
    head, nonce = envelope[:_RC_BODY_AT], envelope[envelopes.HEADER_LEN : _RC_BODY_AT]
    return envelopes.aead_decrypt(envelope[_RC_BODY_AT:], head, nonce, key)
