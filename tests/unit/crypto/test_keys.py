"""Key pairs, sealed envelopes, Argon2id cost and random helpers."""
import base64

import pytest

from whistle.crypto import (
    DecryptionFailed,
    KdfCost,
    KeyPair,
    UnsupportedVersion,
    new_secret_key,
    random_bytes,
    random_token,
    seal,
    unseal,
)


def test_kdf_cost_presets_are_libsodium_argon2id():
    assert KdfCost.interactive() == KdfCost(opslimit=2, memlimit=64 * 1024 * 1024)
    assert KdfCost.moderate() == KdfCost(opslimit=3, memlimit=256 * 1024 * 1024)
    assert KdfCost.for_tests() == KdfCost(opslimit=1, memlimit=8192)


@pytest.mark.parametrize(
    "opslimit, memlimit",
    [(0, 8192), (1, 8191), (17, 8192), (1, 2**30 + 1), ("2", 8192), (1, 8192.0)],
)
def test_kdf_cost_rejects_out_of_range(opslimit, memlimit):
    with pytest.raises(ValueError):
        KdfCost(opslimit, memlimit)


def test_generated_key_pairs_are_distinct_and_consistent():
    one, two = KeyPair.generate(), KeyPair.generate()
    assert one != two
    assert len(one.public) == len(one.private) == 32
    assert KeyPair.from_private(one.private) == one


def test_a_key_pair_from_its_private_half_costs_one_scalar_multiplication(monkeypatch):
    """Every signed-in request opens its session's key pair: the public half is computed once,
    not a second time to check it against itself."""
    from whistle.crypto import keys

    one = KeyPair.generate()
    calls = []
    real = keys.bindings.crypto_scalarmult_base
    monkeypatch.setattr(keys.bindings, "crypto_scalarmult_base", lambda private: calls.append(1) or real(private))
    assert KeyPair.from_private(bytearray(one.private)) == one
    assert len(calls) == 1


def test_key_pair_rejects_mismatched_or_short_keys():
    one, two = KeyPair.generate(), KeyPair.generate()
    with pytest.raises(ValueError):
        KeyPair(one.public, two.private)
    with pytest.raises(ValueError):
        KeyPair(one.private, one.public)  # swapped halves
    with pytest.raises(ValueError):
        KeyPair.from_private(b"\x01" * 31)


def test_key_pair_repr_hides_private_key():
    keypair = KeyPair.generate()
    assert repr(keypair.private) not in repr(keypair)
    assert keypair.private.hex() not in repr(keypair)


def test_seal_round_trip():
    keypair = KeyPair.generate()
    envelope = seal(keypair.public, b"case private key")
    assert envelope[:2] == b"\x01\x01"
    assert len(envelope) == 2 + 48 + len(b"case private key")
    assert unseal(keypair, envelope) == b"case private key"
    assert unseal(keypair, seal(keypair.public, b"")) == b""


def test_seal_is_randomised():
    keypair = KeyPair.generate()
    assert seal(keypair.public, b"x") != seal(keypair.public, b"x")


def test_unseal_with_wrong_key_fails():
    envelope = seal(KeyPair.generate().public, b"secret")
    with pytest.raises(DecryptionFailed):
        unseal(KeyPair.generate(), envelope)


def test_seal_rejects_bad_public_key():
    with pytest.raises(ValueError):
        seal(b"\x00" * 31, b"x")


def test_sealed_every_byte_flip_fails():
    keypair = KeyPair.generate()
    envelope = seal(keypair.public, b"small")
    for position in range(len(envelope)):
        for mask in (0x01, 0x80):
            tampered = bytearray(envelope)
            tampered[position] ^= mask
            with pytest.raises(DecryptionFailed):
                unseal(keypair, bytes(tampered))


def test_sealed_every_truncation_fails():
    keypair = KeyPair.generate()
    envelope = seal(keypair.public, b"small")
    for length in range(len(envelope)):
        with pytest.raises(DecryptionFailed):
            unseal(keypair, envelope[:length])


def test_sealed_unknown_version_is_unsupported():
    keypair = KeyPair.generate()
    envelope = seal(keypair.public, b"x")
    with pytest.raises(UnsupportedVersion):
        unseal(keypair, b"\x02" + envelope[1:])


def test_random_helpers():
    assert len(random_bytes(0)) == 0
    assert len(random_bytes(24)) == 24
    assert random_bytes(16) != random_bytes(16)
    assert len(new_secret_key()) == 32
    assert new_secret_key() != new_secret_key()
    token = random_token()
    assert "=" not in token
    assert len(base64.urlsafe_b64decode(token + "==")) == 16
    assert len(base64.urlsafe_b64decode(random_token(32) + "=")) == 32
    with pytest.raises(ValueError):
        random_bytes(-1)
