"""Shred wraps: a stored value encrypted once more under a key from the shred key store.

Destroying the key (whistle.shredding.ShredStore.destroy) makes every copy of the wrapped value
unreadable, wherever it was copied (docs/crypto.md 5.10). The wrap binds the handle of its key and
the purpose of the value ("grant.case_key", "item", ...), so a wrapped value moved to another row
of another purpose, or relabelled under another handle, does not unwrap.
"""
from __future__ import annotations

from nacl import bindings

from . import envelopes
from .errors import DecryptionFailed

# Layout (docs/crypto.md 5.10):
#   0   version (0x01)   1
#   1   type (0x0a)      1
#   2   nonce            24
#   26  ciphertext       len(value) + 16
_HEADER = envelopes.header(envelopes.TYPE_SHRED_WRAP)
_NONCE_AT = envelopes.HEADER_LEN
_BODY_AT = _NONCE_AT + envelopes.NONCE_LEN
_MIN_LEN = _BODY_AT + envelopes.TAG_LEN
SHRED_HANDLE_SIZE = 16
SHRED_KEY_SIZE = envelopes.KEY_LEN


def _associated_data(head: bytes, handle: bytes, purpose: str) -> bytes:
    handle = envelopes.as_bytes(handle)
    if len(handle) != SHRED_HANDLE_SIZE:
        raise ValueError("a shred handle is 16 bytes")
    encoded = purpose.encode("utf-8")
    if not 0 < len(encoded) <= 0xFF:
        raise ValueError("a purpose is 1 to 255 bytes of UTF-8")
    return head + handle + len(encoded).to_bytes(1, "big") + encoded


def _check_key(key: bytes) -> bytes:
    key = envelopes.as_bytes(key)
    if len(key) != SHRED_KEY_SIZE:
        raise ValueError("a shred key is 32 bytes")
    return key


def shred_wrap(key: bytes, handle: bytes, purpose: str, value: bytes) -> bytes:
    """`value` wrapped under the shred key `key` of `handle`, for `purpose`."""
    key = _check_key(key)
    nonce = bindings.randombytes(envelopes.NONCE_LEN)
    head = _HEADER + nonce
    return head + envelopes.aead_encrypt(envelopes.as_bytes(value), _associated_data(head, handle, purpose),
                                         nonce, key)


def shred_unwrap(key: bytes, handle: bytes, purpose: str, wrapped: bytes) -> bytes:
    """The value, or DecryptionFailed (wrong key, handle or purpose; any byte changed)."""
    key = _check_key(key)
    wrapped = envelopes.as_bytes(wrapped)
    envelopes.check_header(wrapped, envelopes.TYPE_SHRED_WRAP)
    if len(wrapped) < _MIN_LEN:
        raise DecryptionFailed("shred wrap too short")
    head = wrapped[:_BODY_AT]
    return envelopes.aead_decrypt(wrapped[_BODY_AT:], _associated_data(head, handle, purpose),
                                  wrapped[_NONCE_AT:_BODY_AT], key)
