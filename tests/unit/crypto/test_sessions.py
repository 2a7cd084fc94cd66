"""Sessions: token format, token id, keys wrapped under the token."""
import base64

import pytest

from whistle.crypto import (
    DecryptionFailed,
    UnsupportedVersion,
    new_secret_key,
    new_session_token,
    session_token_id,
    unwrap_for_session,
    wrap_for_session,
)

SESSION_KEY = new_secret_key()
SECRET = bytes(range(32))


def test_token_is_32_random_bytes_urlsafe_unpadded():
    token = new_session_token()
    assert len(token) == 43
    assert "=" not in token and "+" not in token and "/" not in token
    assert len(base64.urlsafe_b64decode(token + "=")) == 32
    assert new_session_token() != token


def test_token_id_is_deterministic_and_keyed():
    token = new_session_token()
    token_id = session_token_id(token, SESSION_KEY)
    assert len(token_id) == 32
    assert session_token_id(token, SESSION_KEY) == token_id
    assert session_token_id(token, new_secret_key()) != token_id
    assert session_token_id(new_session_token(), SESSION_KEY) != token_id


def test_token_id_accepts_garbage_without_raising():
    for garbage in ("", "x", "\ud800", "é" * 5000):
        assert len(session_token_id(garbage, SESSION_KEY)) == 32


def test_wrap_round_trip():
    token = new_session_token()
    envelope = wrap_for_session(SECRET, token, SESSION_KEY)
    assert envelope[:2] == b"\x01\x06"
    assert len(envelope) == 26 + 32 + 16
    assert unwrap_for_session(envelope, token, SESSION_KEY) == SECRET


def test_wrong_token_fails():
    envelope = wrap_for_session(SECRET, new_session_token(), SESSION_KEY)
    with pytest.raises(DecryptionFailed):
        unwrap_for_session(envelope, new_session_token(), SESSION_KEY)


def test_wrong_session_key_fails():
    token = new_session_token()
    envelope = wrap_for_session(SECRET, token, SESSION_KEY)
    with pytest.raises(DecryptionFailed):
        unwrap_for_session(envelope, token, new_secret_key())


def test_short_session_key_is_rejected():
    with pytest.raises(ValueError):
        session_token_id(new_session_token(), b"short")


def test_every_byte_flip_and_truncation_fails():
    token = new_session_token()
    envelope = wrap_for_session(b"k", token, SESSION_KEY)
    for position in range(len(envelope)):
        for mask in (0x01, 0x80):
            tampered = bytearray(envelope)
            tampered[position] ^= mask
            with pytest.raises(DecryptionFailed):
                unwrap_for_session(bytes(tampered), token, SESSION_KEY)
    for length in range(len(envelope)):
        with pytest.raises(DecryptionFailed):
            unwrap_for_session(envelope[:length], token, SESSION_KEY)


def test_unknown_version_is_unsupported():
    token = new_session_token()
    envelope = wrap_for_session(b"k", token, SESSION_KEY)
    with pytest.raises(UnsupportedVersion):
        unwrap_for_session(b"\x02" + envelope[1:], token, SESSION_KEY)
