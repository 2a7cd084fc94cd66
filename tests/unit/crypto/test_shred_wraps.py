"""Shred wraps (docs/crypto.md 5.10): a value under a key of the shred key store, bound to the
key's handle and the value's purpose."""
from __future__ import annotations

import pytest
from nacl import bindings

from whistle.crypto import DecryptionFailed, UnsupportedVersion, shred_unwrap, shred_wrap

KEY = bytes(range(64, 96))
HANDLE = bytes(range(0xA0, 0xB0))
VALUE = b"sealed case key: eighty bytes..."
# Made once with the nonce 10 11 .. 27 (docs/crypto.md 5.10's example); must keep unwrapping.
V_SHRED_WRAP = (
    "010a101112131415161718191a1b1c1d1e1f2021222324252627212e882f64986e413d0239124f302bcc2449a997c848baec"
    "73c7da2843161f31d34c638b4cf6eb24fb0f78c17f1b0caa"
)


def test_a_wrapped_value_unwraps_with_its_key_handle_and_purpose():
    wrapped = shred_wrap(KEY, HANDLE, "item", VALUE)
    assert wrapped[:2] == b"\x01\x0a" and len(wrapped) == 2 + 24 + len(VALUE) + 16
    assert VALUE not in wrapped
    assert shred_unwrap(KEY, HANDLE, "item", wrapped) == VALUE
    assert shred_wrap(KEY, HANDLE, "item", VALUE) != wrapped  # a fresh nonce each time


@pytest.mark.parametrize(("key", "handle", "purpose"), [
    (bytes(32), HANDLE, "item"),                      # another key (or none: the key was destroyed)
    (KEY, bytes(16), "item"),                         # moved under another handle
    (KEY, HANDLE, "grant.team_key"),                  # moved to a value of another purpose
])
def test_a_wrap_does_not_unwrap_with_another_key_handle_or_purpose(key, handle, purpose):
    wrapped = shred_wrap(KEY, HANDLE, "item", VALUE)
    with pytest.raises(DecryptionFailed):
        shred_unwrap(key, handle, purpose, wrapped)


def test_a_changed_byte_or_another_envelope_type_is_refused():
    wrapped = bytearray(shred_wrap(KEY, HANDLE, "item", VALUE))
    wrapped[-1] ^= 1
    with pytest.raises(DecryptionFailed):
        shred_unwrap(KEY, HANDLE, "item", bytes(wrapped))
    with pytest.raises(UnsupportedVersion):
        shred_unwrap(KEY, HANDLE, "item", b"\x01\x02" + bytes(wrapped[2:]))
    with pytest.raises(DecryptionFailed):
        shred_unwrap(KEY, HANDLE, "item", bytes(wrapped[:30]))


def test_keys_and_handles_of_the_wrong_size_are_refused():
    with pytest.raises(ValueError, match="32 bytes"):
        shred_wrap(KEY[:16], HANDLE, "item", VALUE)
    with pytest.raises(ValueError, match="16 bytes"):
        shred_wrap(KEY, HANDLE[:8], "item", VALUE)


def test_the_pinned_wrap_still_unwraps():
    assert shred_unwrap(KEY, HANDLE, "grant.case_key", bytes.fromhex(V_SHRED_WRAP)) == VALUE


def test_the_pinned_wrap_unwraps_as_the_document_says():
    envelope = bytes.fromhex(V_SHRED_WRAP)
    head, nonce, body = envelope[:26], envelope[2:26], envelope[26:]
    purpose = b"grant.case_key"
    associated = head + HANDLE + bytes([len(purpose)]) + purpose
    assert bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(body, associated, nonce, KEY) == VALUE
