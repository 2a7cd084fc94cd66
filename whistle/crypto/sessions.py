"""Login sessions: a client-held token, its keyed hash for lookup, and keys wrapped under it."""
from __future__ import annotations

import base64

from nacl import bindings

from . import envelopes
from .errors import DecryptionFailed

# Session wrap layout (docs/crypto.md 5.6):
#   version, type (0x06), nonce (24), ciphertext; associated data = bytes 0..25.
_SESSION_HEADER = envelopes.header(envelopes.TYPE_SESSION_WRAP)
_BODY_AT = envelopes.HEADER_LEN + envelopes.NONCE_LEN
_TOKEN_BYTES = 32
_PERSON_ID = b"whistle-sess-id"
_PERSON_KEY = b"whistle-sess-key"
_PERSON_PAGE = b"whistle-pagekey"


def new_session_token() -> str:
    """32 random bytes as urlsafe base64 without padding (43 characters)."""
    return base64.urlsafe_b64encode(bindings.randombytes(_TOKEN_BYTES)).rstrip(b"=").decode("ascii")


def _token_bytes(token: str) -> bytes:
    if not isinstance(token, str):
        raise TypeError("token must be a str")
    # Any string is accepted, so a garbage cookie just finds no session instead of raising;
    # "surrogatepass" keeps this injective even for strings UTF-8 cannot normally encode.
    return token.encode("utf-8", "surrogatepass")


def session_token_id(token: str, session_key: bytes) -> bytes:
    """What the database stores and looks a session up by: keyed BLAKE2b-256 of the token."""
    session_key = envelopes.check_secret_key(session_key, "session key")
    return envelopes.blake2b(_token_bytes(token), size=32, key=session_key, person=_PERSON_ID)


def _wrap_key(token: str, session_key: bytes) -> bytes:
    session_key = envelopes.check_secret_key(session_key, "session key")
    # A different personalisation from the token id, so the stored id is no help in
    # computing the wrapping key.
    return envelopes.blake2b(_token_bytes(token), size=envelopes.KEY_LEN, key=session_key, person=_PERSON_KEY)


def wrap_for_session(secret: bytes, token: str, session_key: bytes) -> bytes:
    key = _wrap_key(token, session_key)
    nonce = bindings.randombytes(envelopes.NONCE_LEN)
    head = _SESSION_HEADER + nonce
    return head + envelopes.aead_encrypt(envelopes.as_bytes(secret), head, nonce, key)


def unwrap_for_session(envelope: bytes, token: str, session_key: bytes) -> bytes:
    envelope = envelopes.as_bytes(envelope)
    key = _wrap_key(token, session_key)
    envelopes.check_header(envelope, envelopes.TYPE_SESSION_WRAP)
    if len(envelope) < _BODY_AT + envelopes.TAG_LEN:
        raise DecryptionFailed("session envelope too short")
    head, nonce = envelope[:_BODY_AT], envelope[envelopes.HEADER_LEN : _BODY_AT]
    return envelopes.aead_decrypt(envelope[_BODY_AT:], head, nonce, key)


def page_key(token: str, session_key: bytes) -> bytes:
    """The key a staff page in device mode gives its script to open the guardian's private key,
    kept encrypted in the browser's sessionStorage (docs/crypto.md 6.3). Computed per request
    from the client's token and never stored: the server alone has no copy of what it opens,
    and the browser's disk alone has no key."""
    session_key = envelopes.check_secret_key(session_key, "session key")
    return envelopes.blake2b(_token_bytes(token), size=envelopes.KEY_LEN, key=session_key, person=_PERSON_PAGE)
