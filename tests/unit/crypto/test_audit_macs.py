"""The audit log's MACs (docs/crypto.md 6.14): keyed BLAKE2b-256 over the head and each checkpoint."""
import pytest
from nacl import bindings

from whistle.crypto import audit_checkpoint_mac, audit_head_mac, audit_mac_matches

AUDIT_KEY = bytes(range(32))
HEAD_HASH = bytes(range(32, 64))


def blake2b(data: bytes, person: bytes) -> bytes:
    return bindings.crypto_generichash_blake2b_salt_personal(data, digest_size=32, key=AUDIT_KEY, person=person)


def test_the_documented_construction():
    # docs/crypto.md 6.14, computed here with libsodium directly.
    assert audit_head_mac(AUDIT_KEY, 7, HEAD_HASH) == blake2b((7).to_bytes(8, "big") + HEAD_HASH, b"whistle-audhead")
    at = "2026-12-05T12:00:00Z"
    assert audit_checkpoint_mac(AUDIT_KEY, 7, HEAD_HASH, at) == blake2b(
        (7).to_bytes(8, "big") + HEAD_HASH + at.encode(), b"whistle-audckpt")


def test_known_answers():
    # The values docs/crypto.md 6.14 gives: key = bytes 0..31, hash = bytes 32..63, length 7.
    assert audit_head_mac(AUDIT_KEY, 7, HEAD_HASH).hex() == \
        "df968ba7ec5cfa8e5a0eb3481543cadf66e5c840f04f2287eac88075aa9f15e8"
    assert audit_checkpoint_mac(AUDIT_KEY, 7, HEAD_HASH, "2026-12-05T12:00:00Z").hex() == \
        "050ca52c2c6d179eae092daf0d7b18e947d85c836c01bf3bc0a0f5fd9a42cd90"


def test_a_head_mac_is_never_a_checkpoint_mac_and_each_input_counts():
    head = audit_head_mac(AUDIT_KEY, 7, HEAD_HASH)
    assert head != audit_checkpoint_mac(AUDIT_KEY, 7, HEAD_HASH, "")
    assert head != audit_head_mac(AUDIT_KEY, 8, HEAD_HASH)
    assert head != audit_head_mac(AUDIT_KEY, 7, bytes(32))
    assert head != audit_head_mac(bytes(32), 7, HEAD_HASH)


def test_matching_is_exact_and_no_mac_never_matches():
    head = audit_head_mac(AUDIT_KEY, 7, HEAD_HASH)
    assert audit_mac_matches(head, head)
    assert not audit_mac_matches(head, None)
    assert not audit_mac_matches(head, head[:-1] + bytes([head[-1] ^ 1]))


@pytest.mark.parametrize(("length", "head_hash", "key"), [
    (-1, HEAD_HASH, AUDIT_KEY), (2**64, HEAD_HASH, AUDIT_KEY), (1, bytes(31), AUDIT_KEY), (1, HEAD_HASH, bytes(8)),
])
def test_bad_inputs_are_refused(length, head_hash, key):
    with pytest.raises(ValueError):
        audit_head_mac(key, length, head_hash)
