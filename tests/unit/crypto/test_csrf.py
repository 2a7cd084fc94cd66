"""CSRF tokens: a subkey of the session key; tokens from a session token or a browser cookie value."""
import base64

import pytest
from nacl import bindings

from whistle.crypto import (
    csrf_key,
    csrf_token_for_browser,
    csrf_token_for_session,
    new_csrf_cookie_value,
    new_secret_key,
    new_session_token,
    session_token_id,
)

SESSION_KEY = bytes(range(32))


def blake2b(data: bytes, key: bytes, person: bytes) -> bytes:
    return bindings.crypto_generichash_blake2b_salt_personal(data, digest_size=32, key=key, person=person)


def text(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def test_the_documented_derivation():
    # docs/crypto.md 6.7, computed here with libsodium directly.
    key = blake2b(b"", SESSION_KEY, b"whistle-csrf-key")
    assert csrf_key(SESSION_KEY) == key
    token = "session-token"
    assert csrf_token_for_session(token, key) == text(blake2b(token.encode(), key, b"whistle-csrf-ses"))
    assert csrf_token_for_browser(token, key) == text(blake2b(token.encode(), key, b"whistle-csrf-brw"))


def test_known_answer():
    # The values docs/crypto.md 6.7 gives: session key = bytes 0..31, input "abc".
    key = csrf_key(SESSION_KEY)
    assert key.hex() == "cedeb926306b520b3290ed023c39e8c11b7181cb2c8bc74cbd2753152c76dc02"
    assert csrf_token_for_session("abc", key) == "30dph6Ex2tOC2hno_35WzxLFvSiFRpTIo2K6Ia48I6c"
    assert csrf_token_for_browser("abc", key) == "yv35_kL1ONd-7OuyCPf__ESG_3WyHy6aBsVOmcwckMo"


def test_session_and_browser_tokens_never_match_and_differ_per_key():
    key = csrf_key(SESSION_KEY)
    value = new_session_token()
    assert csrf_token_for_session(value, key) != csrf_token_for_browser(value, key)
    assert csrf_token_for_session(value, key) != csrf_token_for_session(value, csrf_key(new_secret_key()))
    assert csrf_token_for_session(value, key) != csrf_token_for_session(new_session_token(), key)


def test_the_token_is_not_the_session_id_nor_the_value():
    key = csrf_key(SESSION_KEY)
    token = new_session_token()
    made = csrf_token_for_session(token, key)
    assert made != token
    assert base64.urlsafe_b64decode(made + "=") != session_token_id(token, SESSION_KEY)
    assert key != SESSION_KEY


def test_cookie_values_are_32_random_bytes():
    value = new_csrf_cookie_value()
    assert len(base64.urlsafe_b64decode(value + "=")) == 32 and new_csrf_cookie_value() != value


def test_garbage_gives_a_token_and_bad_keys_are_refused():
    key = csrf_key(SESSION_KEY)
    for garbage in ("", "\ud800", "é" * 5000):
        assert len(csrf_token_for_browser(garbage, key)) == 43
    with pytest.raises(ValueError):
        csrf_key(b"short")
    with pytest.raises(TypeError):
        csrf_token_for_session(b"bytes", key)
