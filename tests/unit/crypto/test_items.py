"""Content items: round trips, binding to case and kind, tamper and truncation."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from whistle.crypto import DecryptionFailed, KeyPair, UnsupportedVersion, decrypt_item, encrypt_item

KEYPAIR = KeyPair.generate()


def test_round_trip():
    envelope = encrypt_item(KEYPAIR.public, b"The rota is unsafe.", case="c-1", kind="disclosure")
    assert envelope[:2] == b"\x01\x02"
    assert decrypt_item(KEYPAIR, envelope, case="c-1", kind="disclosure") == b"The rota is unsafe."


@pytest.mark.parametrize("size, padded", [(0, 256), (1, 256), (255, 256), (256, 512), (1000, 1024)])
def test_length_is_padded_to_256(size, padded):
    envelope = encrypt_item(KEYPAIR.public, b"x" * size, case="c", kind="k")
    assert len(envelope) == 106 + padded + 16
    assert decrypt_item(KEYPAIR, envelope, case="c", kind="k") == b"x" * size


def test_is_randomised():
    one = encrypt_item(KEYPAIR.public, b"same", case="c", kind="k")
    assert one != encrypt_item(KEYPAIR.public, b"same", case="c", kind="k")


def test_wrong_key_fails():
    envelope = encrypt_item(KEYPAIR.public, b"text", case="c", kind="k")
    with pytest.raises(DecryptionFailed):
        decrypt_item(KeyPair.generate(), envelope, case="c", kind="k")


def test_wrong_case_fails():
    envelope = encrypt_item(KEYPAIR.public, b"text", case="case-1", kind="message")
    with pytest.raises(DecryptionFailed):
        decrypt_item(KEYPAIR, envelope, case="case-2", kind="message")


def test_wrong_kind_fails():
    envelope = encrypt_item(KEYPAIR.public, b"text", case="case-1", kind="message")
    with pytest.raises(DecryptionFailed):
        decrypt_item(KEYPAIR, envelope, case="case-1", kind="note")


def test_case_and_kind_boundary_is_unambiguous():
    envelope = encrypt_item(KEYPAIR.public, b"text", case="ab", kind="c")
    with pytest.raises(DecryptionFailed):
        decrypt_item(KEYPAIR, envelope, case="a", kind="bc")


def test_every_byte_flip_fails():
    envelope = encrypt_item(KEYPAIR.public, b"tiny", case="c", kind="k")
    for position in range(len(envelope)):
        for mask in (0x01, 0x80):
            tampered = bytearray(envelope)
            tampered[position] ^= mask
            with pytest.raises(DecryptionFailed):
                decrypt_item(KEYPAIR, bytes(tampered), case="c", kind="k")


def test_every_truncation_fails():
    envelope = encrypt_item(KEYPAIR.public, b"tiny", case="c", kind="k")
    for length in range(len(envelope)):
        with pytest.raises(DecryptionFailed):
            decrypt_item(KEYPAIR, envelope[:length], case="c", kind="k")


def test_appended_data_fails():
    envelope = encrypt_item(KEYPAIR.public, b"tiny", case="c", kind="k")
    with pytest.raises(DecryptionFailed):
        decrypt_item(KEYPAIR, envelope + b"\x00", case="c", kind="k")


def test_unknown_version_is_unsupported():
    envelope = encrypt_item(KEYPAIR.public, b"tiny", case="c", kind="k")
    with pytest.raises(UnsupportedVersion):
        decrypt_item(KEYPAIR, b"\x02" + envelope[1:], case="c", kind="k")


def test_accepts_bytearray_and_memoryview():
    envelope = encrypt_item(KEYPAIR.public, bytearray(b"abc"), case="c", kind="k")
    assert decrypt_item(KEYPAIR, memoryview(envelope), case="c", kind="k") == b"abc"


@settings(max_examples=200, deadline=None)
@given(plaintext=st.binary(max_size=3000), case=st.text(max_size=40), kind=st.text(max_size=20))
def test_round_trip_property(plaintext, case, kind):
    envelope = encrypt_item(KEYPAIR.public, plaintext, case=case, kind=kind)
    assert len(envelope) == 122 + 256 * (len(plaintext) // 256 + 1)
    assert decrypt_item(KEYPAIR, envelope, case=case, kind=kind) == plaintext


@settings(max_examples=200, deadline=None)
@given(garbage=st.binary(max_size=600))
def test_garbage_only_raises_decryption_failed(garbage):
    with pytest.raises(DecryptionFailed):
        decrypt_item(KEYPAIR, garbage, case="c", kind="k")
    with pytest.raises(DecryptionFailed):
        decrypt_item(KEYPAIR, b"\x01\x02" + garbage, case="c", kind="k")
