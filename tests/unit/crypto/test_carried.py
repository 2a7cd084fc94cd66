"""Values a client carries for the server (the receipt page's cookie): sealed, purpose-bound, expiring."""
import base64
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nacl import bindings

from whistle.crypto import DecryptionFailed, Expired, UnsupportedVersion, open_from_client, seal_for_client
from whistle.crypto.carried import MAX_VALUE_BYTES, _subkey

SESSION_KEY = bytes(range(32, 64))
NOW = datetime(2027, 3, 4, 10, 0, tzinfo=timezone.utc)
LIFETIME = timedelta(minutes=15)
VALUE = b'{"receipt": "ABCD-EFGH-JKMN-PQRS-TVWX"}'


def sealed(value=VALUE, purpose="receipt", now=NOW):
    return seal_for_client(value, SESSION_KEY, purpose=purpose, now=now, lifetime=LIFETIME)


def test_a_sealed_value_opens_until_it_expires_and_not_after():
    value = sealed()
    assert open_from_client(value, SESSION_KEY, purpose="receipt", now=NOW) == VALUE
    assert open_from_client(value, SESSION_KEY, purpose="receipt", now=NOW + LIFETIME - timedelta(seconds=1)) == VALUE
    with pytest.raises(Expired):
        open_from_client(value, SESSION_KEY, purpose="receipt", now=NOW + LIFETIME)
    assert issubclass(Expired, DecryptionFailed), "callers that treat every failure alike need one except"


def test_it_is_cookie_safe_and_hides_the_value_and_its_length():
    value = sealed()
    assert set(value) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert b"ABCD" not in base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    assert sealed() != value, "a fresh nonce each time"
    assert len(sealed(b"x")) == len(sealed(b"x" * 200)), "padded to 256 bytes"


def test_another_purpose_or_key_cannot_open_it():
    value = sealed()
    with pytest.raises(DecryptionFailed):
        open_from_client(value, SESSION_KEY, purpose="something-else", now=NOW)
    with pytest.raises(DecryptionFailed):
        open_from_client(value, bytes(range(32)), purpose="receipt", now=NOW)


def test_any_changed_character_is_refused():
    value = sealed()
    for index in range(0, len(value) - 1, 7):  # the last character may carry only padding bits
        changed = value[:index] + ("A" if value[index] != "A" else "B") + value[index + 1:]
        with pytest.raises(DecryptionFailed):
            open_from_client(changed, SESSION_KEY, purpose="receipt", now=NOW)
    with pytest.raises(DecryptionFailed):
        open_from_client(value[:-10], SESSION_KEY, purpose="receipt", now=NOW)


def test_another_envelope_type_is_refused_by_its_type_byte():
    raw = bytearray(base64.urlsafe_b64decode(sealed() + "=="))
    raw[1] = 0x06
    with pytest.raises(UnsupportedVersion):
        open_from_client(base64.urlsafe_b64encode(bytes(raw)).decode(), SESSION_KEY, purpose="receipt", now=NOW)


@settings(max_examples=200, deadline=None)
@given(garbage=st.text(max_size=600))
def test_garbage_raises_only_decryption_failed(garbage):
    with pytest.raises(DecryptionFailed):
        open_from_client(garbage, SESSION_KEY, purpose="receipt", now=NOW)


def test_limits_and_bad_arguments():
    with pytest.raises(ValueError):
        sealed(b"x" * (MAX_VALUE_BYTES + 1))
    with pytest.raises(ValueError):
        sealed(purpose="")
    with pytest.raises(ValueError):
        sealed(now=NOW.replace(tzinfo=None))
    assert len(sealed(b"x" * MAX_VALUE_BYTES)) < 4000, "still fits in a cookie"


def test_the_format_from_the_document():
    # docs/crypto.md 5.7, with nacl.bindings only.
    value = sealed()
    envelope = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    assert envelope[:2] == b"\x01\x07"
    key = bindings.crypto_generichash_blake2b_salt_personal(b"receipt", digest_size=32, key=SESSION_KEY,
                                                            person=b"whistle-carried")
    assert key == _subkey(SESSION_KEY, "receipt")
    padded = bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(envelope[26:], envelope[:26], envelope[2:26], key)
    plaintext = bindings.sodium_unpad(padded, 256)
    assert int.from_bytes(plaintext[:8], "big") == int((NOW + LIFETIME).timestamp())
    assert plaintext[8:] == VALUE

