"""Signing in on the guardian's device (docs/crypto.md 5.8, 5.9, 6.13): the vectors of
tests/vectors/sign-in-v1.json, re-derived here from the document with nacl.bindings alone, and
the device wrap's and server-kept envelope's refusals."""
from __future__ import annotations

import base64
import json
import unicodedata
from pathlib import Path

import pytest
from nacl import bindings

from whistle import crypto

V = json.loads(Path(__file__).parents[2].joinpath("vectors", "sign-in-v1.json").read_text(encoding="utf-8"))
SESSION_KEY = bytes.fromhex(V["session_key"])
PRIVATE = bytes.fromhex(V["private_key"])
COST = crypto.KdfCost.for_tests()


def blake2b(msg: bytes, size: int, key: bytes, person: bytes) -> bytes:
    return bindings.crypto_generichash_blake2b_salt_personal(msg, digest_size=size, key=key, person=person)


@pytest.mark.parametrize("vector", V["derivations"], ids=lambda v: v["salt"][:4])
def test_the_vectors_follow_the_document(vector):
    salt = bytes.fromhex(vector["salt"])
    password = unicodedata.normalize("NFC", vector["password"]).encode("utf-8")
    master = bindings.crypto_pwhash_alg(32, password, salt, vector["opslimit"], vector["memlimit"],
                                        bindings.crypto_pwhash_ALG_ARGON2ID13)
    auth_key = blake2b(master, 32, b"", b"whistle-gauth")
    wrap_key = blake2b(master, 32, b"", b"whistle-gwrap")
    assert auth_key.hex() == vector["auth_key"]
    assert wrap_key.hex() == vector["wrap_key"]
    assert blake2b(auth_key, 32, SESSION_KEY, b"whistle-gverify").hex() == vector["verifier"]
    envelope = base64.b64decode(vector["key_by_device"])
    assert envelope[:2] == b"\x01\x08" and len(envelope) == 74
    head = envelope[:26]
    assert bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(envelope[26:], head, envelope[2:26], wrap_key) == PRIVATE


@pytest.mark.parametrize("vector", V["derivations"], ids=lambda v: v["salt"][:4])
def test_whistle_crypto_gives_the_vectors(vector):
    salt = bytes.fromhex(vector["salt"])
    cost = crypto.KdfCost(vector["opslimit"], vector["memlimit"])
    auth_key, wrap_key = crypto.derive_sign_in_keys(vector["password"], salt, cost)
    assert (auth_key.hex(), wrap_key.hex()) == (vector["auth_key"], vector["wrap_key"])
    # Composed and decomposed forms of the same password are the same password.
    assert crypto.derive_sign_in_keys(unicodedata.normalize("NFC", vector["password"]), salt, cost)[0] == auth_key
    assert crypto.sign_in_verifier(auth_key, SESSION_KEY).hex() == vector["verifier"]
    envelope = base64.b64decode(vector["key_by_device"])
    assert crypto.is_device_wrapped_key(envelope)
    assert crypto.unwrap_for_device(envelope, wrap_key) == PRIVATE


def test_stand_in_salts():
    for vector in V["stand_in_salts"]:
        salt = crypto.stand_in_salt(vector["username"], SESSION_KEY)
        assert salt.hex() == vector["salt"]
        assert salt == blake2b(vector["username"].encode("utf-8"), 16, SESSION_KEY, b"whistle-gsalt")
    assert crypto.stand_in_salt("nobody.here", bytes(32)) != crypto.stand_in_salt("nobody.here", SESSION_KEY)


def test_device_wrap_round_trip_and_refusals():
    wrap_key = crypto.random_bytes(32)
    envelope = crypto.wrap_for_device(PRIVATE, wrap_key)
    assert crypto.unwrap_for_device(envelope, wrap_key) == PRIVATE
    assert crypto.wrap_for_device(PRIVATE, wrap_key) != envelope  # a fresh nonce each time
    with pytest.raises(crypto.DecryptionFailed):
        crypto.unwrap_for_device(envelope, crypto.random_bytes(32))
    with pytest.raises(crypto.DecryptionFailed):
        crypto.unwrap_for_device(envelope, b"short")
    for at in range(len(envelope)):
        tampered = bytearray(envelope)
        tampered[at] ^= 0x01
        with pytest.raises(crypto.DecryptionFailed):
            crypto.unwrap_for_device(bytes(tampered), wrap_key)
    for length in range(len(envelope)):
        with pytest.raises(crypto.DecryptionFailed):
            crypto.unwrap_for_device(envelope[:length], wrap_key)
    # Another kind of envelope is never read as a device wrap.
    with pytest.raises(crypto.UnsupportedVersion):
        crypto.unwrap_for_device(crypto.wrap_with_recovery_key(PRIVATE, crypto.new_recovery_key()), wrap_key)
    assert not crypto.is_device_wrapped_key(envelope[:-1])
    assert not crypto.is_device_wrapped_key(b"\x01\x06" + envelope[2:])


def test_derive_refuses_a_bad_salt_or_cost():
    with pytest.raises(ValueError, match="16 bytes"):
        crypto.derive_sign_in_keys("pw", bytes(15), COST)
    with pytest.raises(ValueError):
        crypto.derive_sign_in_keys("pw", bytes(16), crypto.KdfCost(0, 8192))
    with pytest.raises(ValueError, match="32 bytes"):
        crypto.sign_in_verifier(bytes(31), SESSION_KEY)


def test_server_kept_secret_is_bound_to_its_owner_purpose_and_key():
    envelope = crypto.keep_on_server(b"JBSWY3DPEHPK3PXP", purpose="totp", owner="account:7", session_key=SESSION_KEY)
    assert envelope[:2] == b"\x01\x09"
    assert crypto.read_kept_on_server(envelope, purpose="totp", owner="account:7",
                                      session_key=SESSION_KEY) == b"JBSWY3DPEHPK3PXP"
    for purpose, owner, key in (("totp", "account:8", SESSION_KEY), ("other", "account:7", SESSION_KEY),
                                ("totp", "account:7", bytes(32))):
        with pytest.raises(crypto.DecryptionFailed):
            crypto.read_kept_on_server(envelope, purpose=purpose, owner=owner, session_key=key)
    with pytest.raises(crypto.UnsupportedVersion):
        crypto.read_kept_on_server(crypto.wrap_for_device(b"x", bytes(32)), purpose="totp", owner="account:7",
                                   session_key=SESSION_KEY)
