"""Content items: round trips, binding to case and kind, tamper and truncation."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nacl import bindings

from whistle.crypto import (
    DecryptionFailed,
    KeyPair,
    UnsupportedVersion,
    decrypt_item,
    encrypt_item,
    item_author_sealed,
)

KEYPAIR = KeyPair.generate()
AUTHOR = "guardian:7"


def test_round_trip():
    envelope = encrypt_item(KEYPAIR.public, b"The rota is unsafe.", case="c-1", kind="disclosure", author=AUTHOR)
    assert envelope[:2] == b"\x02\x02"  # version 2: the author is bound
    assert decrypt_item(KEYPAIR, envelope, case="c-1", kind="disclosure", author=AUTHOR) == b"The rota is unsafe."


@pytest.mark.parametrize("size, padded", [(0, 256), (1, 256), (255, 256), (256, 512), (1000, 1024)])
def test_length_is_padded_to_256(size, padded):
    envelope = encrypt_item(KEYPAIR.public, b"x" * size, case="c", kind="k", author=AUTHOR)
    assert len(envelope) == 106 + padded + 16
    assert decrypt_item(KEYPAIR, envelope, case="c", kind="k", author=AUTHOR) == b"x" * size


def test_is_randomised():
    one = encrypt_item(KEYPAIR.public, b"same", case="c", kind="k", author=AUTHOR)
    assert one != encrypt_item(KEYPAIR.public, b"same", case="c", kind="k", author=AUTHOR)


def test_wrong_key_fails():
    envelope = encrypt_item(KEYPAIR.public, b"text", case="c", kind="k", author=AUTHOR)
    with pytest.raises(DecryptionFailed):
        decrypt_item(KeyPair.generate(), envelope, case="c", kind="k", author=AUTHOR)


def test_wrong_case_fails():
    envelope = encrypt_item(KEYPAIR.public, b"text", case="case-1", kind="message", author=AUTHOR)
    with pytest.raises(DecryptionFailed):
        decrypt_item(KEYPAIR, envelope, case="case-2", kind="message", author=AUTHOR)


def test_wrong_kind_fails():
    envelope = encrypt_item(KEYPAIR.public, b"text", case="case-1", kind="message", author=AUTHOR)
    with pytest.raises(DecryptionFailed):
        decrypt_item(KEYPAIR, envelope, case="case-1", kind="note", author=AUTHOR)


def test_case_and_kind_boundary_is_unambiguous():
    envelope = encrypt_item(KEYPAIR.public, b"text", case="ab", kind="c", author=AUTHOR)
    with pytest.raises(DecryptionFailed):
        decrypt_item(KEYPAIR, envelope, case="a", kind="bc", author=AUTHOR)


def test_every_byte_flip_fails():
    envelope = encrypt_item(KEYPAIR.public, b"tiny", case="c", kind="k", author=AUTHOR)
    for position in range(len(envelope)):
        for mask in (0x01, 0x80):
            tampered = bytearray(envelope)
            tampered[position] ^= mask
            with pytest.raises(DecryptionFailed):
                decrypt_item(KEYPAIR, bytes(tampered), case="c", kind="k", author=AUTHOR)


def test_every_truncation_fails():
    envelope = encrypt_item(KEYPAIR.public, b"tiny", case="c", kind="k", author=AUTHOR)
    for length in range(len(envelope)):
        with pytest.raises(DecryptionFailed):
            decrypt_item(KEYPAIR, envelope[:length], case="c", kind="k", author=AUTHOR)


def test_appended_data_fails():
    envelope = encrypt_item(KEYPAIR.public, b"tiny", case="c", kind="k", author=AUTHOR)
    with pytest.raises(DecryptionFailed):
        decrypt_item(KEYPAIR, envelope + b"\x00", case="c", kind="k", author=AUTHOR)


def test_unknown_version_is_unsupported():
    envelope = encrypt_item(KEYPAIR.public, b"tiny", case="c", kind="k", author=AUTHOR)
    with pytest.raises(UnsupportedVersion):
        decrypt_item(KEYPAIR, b"\x03" + envelope[1:], case="c", kind="k", author=AUTHOR)
    with pytest.raises(UnsupportedVersion):
        decrypt_item(KEYPAIR, b"\x00" + envelope[1:], case="c", kind="k", author=AUTHOR)


def test_accepts_bytearray_and_memoryview():
    envelope = encrypt_item(KEYPAIR.public, bytearray(b"abc"), case="c", kind="k", author=AUTHOR)
    assert decrypt_item(KEYPAIR, memoryview(envelope), case="c", kind="k", author=AUTHOR) == b"abc"


@settings(max_examples=200, deadline=None)
@given(plaintext=st.binary(max_size=3000), case=st.text(max_size=40), kind=st.text(max_size=20))
def test_round_trip_property(plaintext, case, kind):
    envelope = encrypt_item(KEYPAIR.public, plaintext, case=case, kind=kind, author=AUTHOR)
    assert len(envelope) == 122 + 256 * (len(plaintext) // 256 + 1)
    assert decrypt_item(KEYPAIR, envelope, case=case, kind=kind, author=AUTHOR) == plaintext


@settings(max_examples=200, deadline=None)
@given(garbage=st.binary(max_size=600))
def test_garbage_only_raises_decryption_failed(garbage):
    with pytest.raises(DecryptionFailed):
        decrypt_item(KEYPAIR, garbage, case="c", kind="k", author=AUTHOR)
    with pytest.raises(DecryptionFailed):
        decrypt_item(KEYPAIR, b"\x01\x02" + garbage, case="c", kind="k", author=AUTHOR)


# --- the author, bound since version 2 -------------------------------------------------------------

def version_1_item(plaintext: bytes, *, case: str, kind: str) -> bytes:
    """An item as written before the author was bound (docs/crypto.md 5.2, version 1)."""
    item_key, nonce = bindings.randombytes(32), bindings.randombytes(24)
    head = b"\x01\x02" + bindings.crypto_box_seal(item_key, KEYPAIR.public) + nonce
    context = b"".join(len(v.encode()).to_bytes(2, "big") + v.encode() for v in (case, kind))
    return head + bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
        bindings.sodium_pad(plaintext, 256), head + context, nonce, item_key)


@pytest.mark.parametrize("other", ["reporter", "guardian:8", "guardian", "system", "guardian:7 ", ""])
def test_another_author_fails(other):
    envelope = encrypt_item(KEYPAIR.public, b"text", case="c", kind="message", author="guardian:7")
    with pytest.raises(DecryptionFailed):
        decrypt_item(KEYPAIR, envelope, case="c", kind="message", author=other)


def test_kind_and_author_boundary_is_unambiguous():
    envelope = encrypt_item(KEYPAIR.public, b"text", case="c", kind="ab", author="c")
    with pytest.raises(DecryptionFailed):
        decrypt_item(KEYPAIR, envelope, case="c", kind="a", author="bc")


def test_new_items_say_their_author_is_sealed():
    assert item_author_sealed(encrypt_item(KEYPAIR.public, b"text", case="c", kind="k", author=AUTHOR))
    assert not item_author_sealed(version_1_item(b"text", case="c", kind="k"))


def test_a_version_1_item_still_decrypts_whoever_is_named():
    envelope = version_1_item(b"written last year", case="c", kind="message")
    for author in ("reporter", "guardian:7", "system"):
        assert decrypt_item(KEYPAIR, envelope, case="c", kind="message", author=author) == b"written last year"
    with pytest.raises(DecryptionFailed):  # case and kind are still bound
        decrypt_item(KEYPAIR, envelope, case="c", kind="note", author="reporter")


def test_a_version_2_item_relabelled_as_version_1_fails():
    """The version byte is in the associated data: dropping the author binding by rewriting it
    (so the author would go unchecked) breaks the envelope."""
    envelope = encrypt_item(KEYPAIR.public, b"text", case="c", kind="message", author="reporter")
    downgraded = b"\x01" + envelope[1:]
    for author in ("reporter", "guardian:7"):
        with pytest.raises(DecryptionFailed):
            decrypt_item(KEYPAIR, downgraded, case="c", kind="message", author=author)
