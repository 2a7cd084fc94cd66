"""The organisation's signing key and the key directory's signature."""
from __future__ import annotations

import os
import stat

import pytest

from whistle import crypto

DOCUMENT = crypto.canonical_json({"format": "whistle-key-directory/1", "version": 3})


def test_the_seed_is_never_in_repr():
    key = crypto.SigningKey.generate()
    assert key.seed.hex() not in repr(key) and repr(key) == "SigningKey()"


def test_sign_and_verify():
    key = crypto.SigningKey.generate()
    signature = crypto.sign_directory(DOCUMENT, key)
    assert len(signature) == 64
    crypto.verify_directory(DOCUMENT, signature, key.public_key)
    for document, sig, public in (
        (DOCUMENT + b" ", signature, key.public_key),
        (DOCUMENT, signature[:-1] + bytes([signature[-1] ^ 1]), key.public_key),
        (DOCUMENT, signature[:63], key.public_key),
        (DOCUMENT, b"", key.public_key),
        (DOCUMENT, signature, crypto.SigningKey.generate().public_key),
    ):
        with pytest.raises(crypto.BadSignature):
            crypto.verify_directory(document, sig, public)
    with pytest.raises(ValueError, match="public key is 32 bytes"):
        crypto.verify_directory(DOCUMENT, signature, key.public_key[:31])


def test_key_files_round_trip_and_the_private_one_is_owner_only(tmp_path):
    key = crypto.SigningKey.generate()
    path = tmp_path / "org.key"
    key.write(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert crypto.SigningKey.read(path) == key
    assert crypto.fingerprint(key.public_key) in path.read_text()
    with pytest.raises(FileExistsError):  # never overwrites a key
        key.write(path)
    text = crypto.public_key_file_text(key.public_key)
    assert crypto.read_public_key_text(text) == key.public_key


@pytest.mark.parametrize(
    "text",
    [
        "",
        "# only a comment\n",
        "ed25519-seed: AAAA\n",  # too short
        "ed25519-seed: not base64!\n",
        "ed25519-public-key: " + "A" * 43 + "=\n",  # a public key where the seed belongs
        "ed25519-seed: " + "A" * 43 + "=\ned25519-seed: " + "A" * 43 + "=\n",
    ],
)
def test_bad_signing_key_files_are_refused_without_echoing_them(text):
    with pytest.raises(ValueError, match="key file") as raised:
        crypto.SigningKey.from_file_text(text)
    assert "AAAA" not in str(raised.value)


def test_a_seed_file_is_not_read_as_a_public_key():
    with pytest.raises(ValueError, match="ed25519-public-key"):
        crypto.read_public_key_text(crypto.SigningKey.generate().file_text())


def test_fingerprint_shape_and_normalisation():
    printed = crypto.fingerprint(crypto.SigningKey.generate().public_key)
    assert len(printed) == 39 and printed.count("-") == 7
    assert crypto.normalise_fingerprint(" " + printed.lower().replace("-", " ") + " ") == printed
    assert crypto.normalise_fingerprint(printed[:-1]) is None
