"""Wrapping a secret (a guardian's private key) under a password or a recovery key."""
from __future__ import annotations

import unicodedata
from collections.abc import Callable

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


def _wrap_under_key(type_tag: int, secret: bytes, key: bytes) -> bytes:
    """version, type, nonce (24), ciphertext; associated data = the 26 bytes before it (5.5, 5.8)."""
    nonce = bindings.randombytes(envelopes.NONCE_LEN)
    head = envelopes.header(type_tag) + nonce
    return head + envelopes.aead_encrypt(envelopes.as_bytes(secret), head, nonce, key)


def _unwrap_under_key(type_tag: int, envelope: bytes, key_of: Callable[[], bytes], what: str) -> bytes:
    """The secret of a `_wrap_under_key` envelope; `key_of()` gives the key, or raises ValueError
    for a value that cannot be one (so a bad input is a failure to decrypt, not a crash)."""
    envelope = envelopes.as_bytes(envelope)
    envelopes.check_header(envelope, type_tag)
    if len(envelope) < _RC_BODY_AT + envelopes.TAG_LEN:
        raise DecryptionFailed(f"{what} envelope too short")
    try:
        key = key_of()
    except ValueError:
        raise DecryptionFailed(f"not a valid {what} key") from None
    head, nonce = envelope[:_RC_BODY_AT], envelope[envelopes.HEADER_LEN : _RC_BODY_AT]
    return envelopes.aead_decrypt(envelope[_RC_BODY_AT:], head, nonce, key)


def wrap_with_recovery_key(secret: bytes, recovery_key: str) -> bytes:
    return _wrap_under_key(envelopes.TYPE_RECOVERY_WRAP, secret, _recovery_wrap_key(recovery_key))


def unwrap_with_recovery_key(envelope: bytes, recovery_key: str) -> bytes:
    return _unwrap_under_key(envelopes.TYPE_RECOVERY_WRAP, envelope, lambda: _recovery_wrap_key(recovery_key),
                             "recovery")


# --- signing in on the guardian's device (docs/crypto.md 5.8, 5.9 and 6.13) ---------------------
#
# The guardian's device derives two keys from the password: one it proves itself with (the
# server keeps only a keyed hash of it, the verifier) and one that opens the guardian's private
# key (the server never sees it). The password itself stays on the device.

SIGN_IN_SALT_LEN = _SALT_LEN  # 16
_PERSON_AUTH = b"whistle-gauth"
_PERSON_WRAP = b"whistle-gwrap"
_PERSON_VERIFY = b"whistle-gverify"
_PERSON_SALT = b"whistle-gsalt"
_PERSON_SERVER_KEPT = b"whistle-srvkept"

# Device wrap layout (docs/crypto.md 5.8):
#   version, type (0x08), nonce (24), ciphertext; associated data = bytes 0..25.
_DEVICE_HEADER = envelopes.header(envelopes.TYPE_DEVICE_WRAP)
_DV_BODY_AT = envelopes.HEADER_LEN + envelopes.NONCE_LEN
# A wrapped 32-byte private key: 2 + 24 + 32 + 16.
DEVICE_WRAPPED_KEY_SIZE = _DV_BODY_AT + envelopes.KEY_LEN + envelopes.TAG_LEN

# Server-kept secret layout (docs/crypto.md 5.9):
#   version, type (0x09), nonce (24), ciphertext; associated data = bytes 0..25 || UTF-8(owner).
_SERVER_KEPT_HEADER = envelopes.header(envelopes.TYPE_SERVER_KEPT)
_SK_BODY_AT = envelopes.HEADER_LEN + envelopes.NONCE_LEN


def derive_sign_in_keys(password: str, salt: bytes, cost: KdfCost) -> tuple[bytes, bytes]:
    """(auth_key, wrap_key) from a guardian's password: what the device proves itself with, and
    what opens the guardian's private key (key_by_device)."""
    salt = envelopes.as_bytes(salt)
    if len(salt) != SIGN_IN_SALT_LEN:
        raise ValueError("the sign-in salt is 16 bytes")
    master = argon2id(_password_bytes(password), salt, cost, envelopes.KEY_LEN)
    auth_key = envelopes.blake2b(master, size=envelopes.KEY_LEN, person=_PERSON_AUTH)
    wrap_key = envelopes.blake2b(master, size=envelopes.KEY_LEN, person=_PERSON_WRAP)
    return auth_key, wrap_key


def sign_in_verifier(auth_key: bytes, session_key: bytes) -> bytes:
    """What the server stores to check an auth_key: keyed with the session key file, so a copy
    of the database alone is no start for guessing passwords."""
    auth_key = envelopes.as_bytes(auth_key)
    if len(auth_key) != envelopes.KEY_LEN:
        raise ValueError("an auth key is 32 bytes")
    session_key = envelopes.check_secret_key(session_key, "session key")
    return envelopes.blake2b(auth_key, size=envelopes.KEY_LEN, key=session_key, person=_PERSON_VERIFY)


def stand_in_salt(username: str, session_key: bytes) -> bytes:
    """The salt answered for a username no account has: the same every time for the same name,
    and unpredictable without the session key file, so it looks like a real account's."""
    if not isinstance(username, str):
        raise TypeError("username must be a str")
    session_key = envelopes.check_secret_key(session_key, "session key")
    return envelopes.blake2b(username.encode("utf-8", "surrogatepass"), size=SIGN_IN_SALT_LEN, key=session_key,
                             person=_PERSON_SALT)


def _check_wrap_key(wrap_key: bytes) -> bytes:
    wrap_key = envelopes.as_bytes(wrap_key)
    if len(wrap_key) != envelopes.KEY_LEN:
        raise ValueError("a wrap key is 32 bytes")
    return wrap_key


def wrap_for_device(secret: bytes, wrap_key: bytes) -> bytes:
    """The guardian's private key under the wrap key only their device derives (key_by_device)."""
    return _wrap_under_key(envelopes.TYPE_DEVICE_WRAP, secret, _check_wrap_key(wrap_key))


def unwrap_for_device(envelope: bytes, wrap_key: bytes) -> bytes:
    return _unwrap_under_key(envelopes.TYPE_DEVICE_WRAP, envelope, lambda: _check_wrap_key(wrap_key), "device")


def is_device_wrapped_key(envelope: bytes) -> bool:
    """Whether `envelope` has the shape of a private key in a device wrap (header and length);
    only the device can tell more."""
    return len(envelope) == DEVICE_WRAPPED_KEY_SIZE and envelope[:envelopes.HEADER_LEN] == _DEVICE_HEADER


def _server_kept_key(purpose: str, session_key: bytes) -> bytes:
    session_key = envelopes.check_secret_key(session_key, "session key")
    return envelopes.blake2b(purpose.encode("utf-8"), size=envelopes.KEY_LEN, key=session_key,
                             person=_PERSON_SERVER_KEPT)


def keep_on_server(secret: bytes, *, purpose: str, owner: str, session_key: bytes) -> bytes:
    """A secret the server must read without anyone's help (a guardian's TOTP secret), under a
    key derived from the session key file for `purpose`, bound to its `owner` ("account:7")."""
    key = _server_kept_key(purpose, session_key)
    nonce = bindings.randombytes(envelopes.NONCE_LEN)
    head = _SERVER_KEPT_HEADER + nonce
    return head + envelopes.aead_encrypt(envelopes.as_bytes(secret), head + owner.encode("utf-8"), nonce, key)


def read_kept_on_server(envelope: bytes, *, purpose: str, owner: str, session_key: bytes) -> bytes:
    envelope = envelopes.as_bytes(envelope)
    envelopes.check_header(envelope, envelopes.TYPE_SERVER_KEPT)
    if len(envelope) < _SK_BODY_AT + envelopes.TAG_LEN:
        raise DecryptionFailed("server-kept envelope too short")
    key = _server_kept_key(purpose, session_key)
    head, nonce = envelope[:_SK_BODY_AT], envelope[envelopes.HEADER_LEN:_SK_BODY_AT]
    return envelopes.aead_decrypt(envelope[_SK_BODY_AT:], head + owner.encode("utf-8"), nonce, key)
