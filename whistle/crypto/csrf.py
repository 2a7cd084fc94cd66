"""CSRF tokens: keyed hashes of a session token, or of a random per-browser cookie value.

The key is a subkey of the session key file, so it never sits in the database and is not the
key that makes session ids or session wrap keys. A token cannot be turned back into what it
was made from, and one made for a session cannot match one made for a browser cookie (each has
its own personalisation; docs/crypto.md 6.7).
"""
from __future__ import annotations

import base64

from nacl import bindings

from . import envelopes

_PERSON_KEY = b"whistle-csrf-key"
_PERSON_SESSION = b"whistle-csrf-ses"
_PERSON_BROWSER = b"whistle-csrf-brw"
_BROWSER_VALUE_BYTES = 32


def _text(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _value_bytes(value: str) -> bytes:
    if not isinstance(value, str):
        raise TypeError("value must be a str")
    # Any string is accepted ("surrogatepass" keeps this injective), so a garbage cookie gives
    # a token nobody holds instead of an exception.
    return value.encode("utf-8", "surrogatepass")


def csrf_key(session_key: bytes) -> bytes:
    """The CSRF subkey: BLAKE2b-256 keyed with the session key, personalised for CSRF."""
    session_key = envelopes.check_secret_key(session_key, "session key")
    return envelopes.blake2b(b"", size=envelopes.KEY_LEN, key=session_key, person=_PERSON_KEY)


def csrf_token_for_session(session_token: str, key: bytes) -> str:
    """The CSRF token of a login session: it changes whenever the session does."""
    key = envelopes.check_secret_key(key, "CSRF key")
    return _text(envelopes.blake2b(_value_bytes(session_token), size=32, key=key, person=_PERSON_SESSION))


def csrf_token_for_browser(cookie_value: str, key: bytes) -> str:
    """The CSRF token of a visitor without a session, from the random value in their cookie."""
    key = envelopes.check_secret_key(key, "CSRF key")
    return _text(envelopes.blake2b(_value_bytes(cookie_value), size=32, key=key, person=_PERSON_BROWSER))


def new_csrf_cookie_value() -> str:
    """32 random bytes as urlsafe base64 without padding, for a visitor's CSRF cookie."""
    return _text(bindings.randombytes(_BROWSER_VALUE_BYTES))
