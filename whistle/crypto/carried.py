"""Values the server hands a client to carry for a short while (the receipt page's cookie), sealed
so the client can neither read nor change them, and refused once they expire.

The server keeps no copy: whoever holds the sealed value until it expires holds what it says.
"""
from __future__ import annotations

import base64
import binascii
from datetime import datetime, timedelta

from nacl import bindings

from . import envelopes
from .errors import DecryptionFailed, Expired

# Carried value layout (docs/crypto.md 5.7):
#   version, type (0x07), nonce (24), AEAD(pad(u64 expiry || value)); associated data = bytes 0..25.
_HEADER = envelopes.header(envelopes.TYPE_CARRIED)
_BODY_AT = envelopes.HEADER_LEN + envelopes.NONCE_LEN
_EXPIRY_LEN = 8
_PERSON = b"whistle-carried"
# A sealed value is a cookie: keep well inside the 4096 bytes browsers keep.
MAX_VALUE_BYTES = 2048


def _subkey(session_key: bytes, purpose: str) -> bytes:
    """One key per purpose, so a value sealed for one use is never accepted for another."""
    session_key = envelopes.check_secret_key(session_key, "session key")
    if not isinstance(purpose, str) or not purpose:
        raise ValueError("purpose must be a non-empty str")
    return envelopes.blake2b(purpose.encode("utf-8"), size=envelopes.KEY_LEN, key=session_key, person=_PERSON)


def _seconds(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("expected an aware datetime")
    return int(moment.timestamp())


def seal_for_client(value: bytes, session_key: bytes, *, purpose: str, now: datetime, lifetime: timedelta) -> str:
    """`value` sealed under the session key's subkey for `purpose`, readable until now + lifetime,
    as URL-safe base64 without padding (fit for a cookie)."""
    value = envelopes.as_bytes(value)
    if len(value) > MAX_VALUE_BYTES:
        raise ValueError(f"a carried value is at most {MAX_VALUE_BYTES} bytes")
    key = _subkey(session_key, purpose)
    expires = _seconds(now + lifetime)
    nonce = bindings.randombytes(envelopes.NONCE_LEN)
    head = _HEADER + nonce
    plaintext = envelopes.pad(expires.to_bytes(_EXPIRY_LEN, "big") + value)
    sealed = head + envelopes.aead_encrypt(plaintext, head, nonce, key)
    return base64.urlsafe_b64encode(sealed).rstrip(b"=").decode("ascii")


def open_from_client(sealed: str, session_key: bytes, *, purpose: str, now: datetime) -> bytes:
    """The value `seal_for_client` sealed for `purpose`. Raises Expired once its time is up, and
    DecryptionFailed for anything else wrong (other key or purpose, changed, not ours at all)."""
    key = _subkey(session_key, purpose)
    if not isinstance(sealed, str) or len(sealed) > 2 * (MAX_VALUE_BYTES + 512):
        raise DecryptionFailed("not a carried value")
    try:
        envelope = base64.urlsafe_b64decode(sealed + "=" * (-len(sealed) % 4))
    except (binascii.Error, ValueError):
        raise DecryptionFailed("not a carried value") from None
    envelopes.check_header(envelope, envelopes.TYPE_CARRIED)
    if len(envelope) < _BODY_AT + envelopes.TAG_LEN:
        raise DecryptionFailed("carried value too short")
    head, nonce = envelope[:_BODY_AT], envelope[envelopes.HEADER_LEN:_BODY_AT]
    plaintext = envelopes.unpad(envelopes.aead_decrypt(envelope[_BODY_AT:], head, nonce, key))
    if len(plaintext) < _EXPIRY_LEN:
        raise DecryptionFailed("carried value too short")
    if _seconds(now) >= int.from_bytes(plaintext[:_EXPIRY_LEN], "big"):
        raise Expired("the carried value has expired")
    return plaintext[_EXPIRY_LEN:]
