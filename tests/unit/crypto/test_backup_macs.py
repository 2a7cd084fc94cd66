"""A backup manifest's MAC and the key check values (docs/crypto.md 6.16): keyed BLAKE2b."""
import pytest
from nacl import bindings

from whistle.crypto import backup_manifest_mac, backup_manifest_mac_matches, key_check

KEY = bytes(range(32))
MANIFEST = b'{"format":"whistle-backup/1"}'


def test_the_documented_construction():
    # docs/crypto.md 6.16, computed here with libsodium directly.
    assert backup_manifest_mac(KEY, MANIFEST) == bindings.crypto_generichash_blake2b_salt_personal(
        MANIFEST, digest_size=32, key=KEY, person=b"whistle-backup")
    assert key_check(KEY) == bindings.crypto_generichash_blake2b_salt_personal(
        b"", digest_size=16, key=KEY, person=b"whistle-keycheck")


def test_known_answers():
    # The values docs/crypto.md 6.16 gives: key = bytes 0..31.
    assert backup_manifest_mac(KEY, MANIFEST).hex() == "fc978b5de5801b2148b40c0c9f07f2a030581e2d2efc2bfb44ca4fe4363d4f65"
    assert key_check(KEY).hex() == "87c91981a49d4fbb0b5ee006b54d0bc6"


def test_the_mac_matches_only_its_manifest_and_its_key():
    mac = backup_manifest_mac(KEY, MANIFEST)
    assert backup_manifest_mac_matches(KEY, MANIFEST, mac)
    assert not backup_manifest_mac_matches(KEY, MANIFEST + b" ", mac)
    assert not backup_manifest_mac_matches(bytes(32), MANIFEST, mac)
    assert not backup_manifest_mac_matches(KEY, MANIFEST, mac[:-1] + bytes([mac[-1] ^ 1]))
    assert key_check(KEY) != key_check(bytes(32))


def test_short_keys_are_refused():
    with pytest.raises(ValueError):
        key_check(bytes(8))
    with pytest.raises(ValueError):
        backup_manifest_mac(bytes(8), MANIFEST)
