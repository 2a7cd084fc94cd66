"""tests/vectors/e2e-v1.json holds for the Python code: every vector, derived and decrypted.

The browser's module checks the same file (tests/js/vectors.test.mjs), so both ends agree on
the format byte for byte. The ciphertexts were made once by the Python code; decrypting them
here pins them the way tests/unit/crypto/test_vectors.py pins the server's own envelopes.
"""
from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import pytest

from whistle import crypto

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parents[2] / "vectors" / "e2e-v1.json").read_text(encoding="utf-8")
)


def b64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def keypair(which: str) -> crypto.KeyPair:
    return crypto.KeyPair.from_private(bytes.fromhex(VECTORS["keys"][f"{which}_private_key"]))


@pytest.mark.parametrize("case", VECTORS["canonical_json"]["valid"], ids=lambda c: c["canonical"][:30])
def test_canonical_json(case):
    canonical = case["canonical"].encode("utf-8")
    assert crypto.canonical_json(case["value"]) == canonical
    assert crypto.parse_canonical_json(canonical) == case["value"]


@pytest.mark.parametrize("value", VECTORS["canonical_json"]["refused_values"], ids=repr)
def test_canonical_json_refuses(value):
    with pytest.raises((TypeError, ValueError)):
        crypto.canonical_json(value)


@pytest.mark.parametrize("text", VECTORS["canonical_json"]["refused_texts"], ids=repr)
def test_parse_canonical_json_refuses(text):
    data = text.encode("utf-8", "surrogatepass")
    with pytest.raises(ValueError, match=r"JSON|Unicode"):
        crypto.parse_canonical_json(data)


def test_directory_signature():
    directory = VECTORS["directory"]
    key = crypto.SigningKey(bytes.fromhex(directory["seed"]))
    public = bytes.fromhex(directory["public_key"])
    assert key.public_key == public
    published = directory["published"]
    document = published["document"].encode("utf-8")
    assert document == crypto.canonical_json(directory["document"])
    # Ed25519 is deterministic: the same key signs the same bytes the same way.
    assert crypto.sign_directory(document, key) == b64(published["signature"])
    crypto.verify_directory(document, b64(published["signature"]), public)
    assert published["key"] == directory["fingerprint"] == crypto.fingerprint(public)
    assert bytes.fromhex(directory["signing_prefix_hex"]) == b"whistle-key-directory\x00"


@pytest.mark.parametrize("refused", VECTORS["directory"]["refused"], ids=lambda r: r["why"])
def test_directory_signature_refused(refused):
    public = bytes.fromhex(VECTORS["directory"]["public_key"])
    with pytest.raises(crypto.BadSignature):
        crypto.verify_directory(refused["document"].encode("utf-8"), b64(refused["signature"]), public)


@pytest.mark.parametrize("vector", VECTORS["fingerprints"], ids=lambda v: v["fingerprint"])
def test_fingerprint(vector):
    assert crypto.fingerprint(bytes.fromhex(vector["public_key"])) == vector["fingerprint"]


@pytest.mark.parametrize("vector", VECTORS["receipts_v2"], ids=lambda v: v["receipt"])
def test_receipt_v2_derivation(vector):
    assert crypto.normalise_receipt_v2(vector["receipt"]) == vector["canonical"]
    cost = crypto.KdfCost(vector["opslimit"], vector["memlimit"])
    lookup_value, reporter = crypto.derive_reporter_keys_v2(vector["receipt"], bytes.fromhex(vector["salt"]), cost)
    assert lookup_value.hex() == vector["lookup_value"]
    assert reporter.public.hex() == vector["public_key"]
    assert reporter.private.hex() == vector["private_key"]
    pepper = bytes.fromhex(VECTORS["receipt_salt_v2"]["pepper"])
    assert crypto.lookup_id(lookup_value, pepper).hex() == vector["lookup_id"]


@pytest.mark.parametrize("vector", VECTORS["receipt_versions"], ids=lambda v: v["text"])
def test_receipt_version(vector):
    if vector["version"] is None:
        with pytest.raises(crypto.InvalidReceipt):
            crypto.receipt_version(vector["text"])
    else:
        assert crypto.receipt_version(vector["text"]) == vector["version"]


def test_receipt_salt_v2():
    vector = VECTORS["receipt_salt_v2"]
    assert crypto.receipt_salt_v2(bytes.fromhex(vector["pepper"])).hex() == vector["salt"]
    directory_salt = VECTORS["directory"]["document"]["receipt"]["salt"]
    assert b64(directory_salt).hex() == vector["salt"]


def test_case_and_team_public_keys():
    keys = VECTORS["keys"]
    for which in ("case", "team"):
        private = bytes.fromhex(keys[f"{which}_private_key"])
        assert crypto.public_key_of(private).hex() == keys[f"{which}_public_key"]


def test_team_key_mac():
    vector = VECTORS["team_key_mac"]
    case_private, team_public = bytes.fromhex(vector["case_private_key"]), bytes.fromhex(vector["team_public_key"])
    assert crypto.team_key_mac(case_private, team_public).hex() == vector["mac"]
    crypto.check_team_key_mac(case_private, team_public, bytes.fromhex(vector["mac"]))
    with pytest.raises(crypto.KeyMismatch):
        crypto.check_team_key_mac(case_private, crypto.KeyPair.generate().public, bytes.fromhex(vector["mac"]))


def test_case_key_binding():
    vector = VECTORS["case_key_binding"]
    holder = bytes.fromhex(vector["holder_private_key"])
    case_public = bytes.fromhex(vector["case_public_key"])
    binding = bytes.fromhex(vector["binding"])
    assert crypto.case_key_binding(holder, vector["case"], case_public) == binding
    crypto.check_case_key_binding(holder, vector["case"], case_public, binding)
    with pytest.raises(crypto.KeyMismatch):
        crypto.check_case_key_binding(holder, vector["case"], crypto.KeyPair.generate().public, binding)
    with pytest.raises(crypto.KeyMismatch):
        crypto.check_case_key_binding(holder, "CASE-OTHER", case_public, binding)


@pytest.mark.parametrize("vector", VECTORS["sealed"], ids=lambda v: v["what"])
def test_sealed(vector):
    recipient = crypto.KeyPair.from_private(bytes.fromhex(vector["recipient_private_key"]))
    assert crypto.unseal(recipient, b64(vector["envelope"])).hex() == vector["data"]


@pytest.mark.parametrize("vector", VECTORS["items_v2"], ids=lambda v: f'{v["kind"]}-{v["author"]}')
def test_item_v2(vector):
    envelope = b64(vector["envelope"])
    assert envelope[:2] == b"\x02\x02"
    plaintext = crypto.decrypt_item(
        keypair(vector["key"]), envelope, case=vector["case"], kind=vector["kind"], author=vector["author"]
    )
    assert plaintext.decode("utf-8") == vector["plaintext"]
    with pytest.raises(crypto.DecryptionFailed):
        crypto.decrypt_item(keypair(vector["key"]), envelope, case=vector["case"], kind=vector["kind"], author="x")


def stream_plaintext(length: int) -> bytes:
    return bytes(i % 251 for i in range(length))


def test_stream_v2():
    vector = VECTORS["stream_v2"]
    chunks = [b64(chunk) for chunk in vector["chunks"]]
    # Upload chunk 0 is the 106-byte envelope header, then one secretstream chunk each.
    assert [len(chunk) for chunk in chunks] == [106, 65536 + 17, 1024 + 17]
    plaintext = b"".join(
        crypto.decrypt_stream(
            keypair(vector["key"]), io.BytesIO(b"".join(chunks)),
            case=vector["case"], kind=vector["kind"], author=vector["author"],
        )
    )
    assert plaintext == stream_plaintext(vector["plaintext"]["length"])
