"""docs/crypto.md 6.8 to 6.12 match the code: the end-to-end derivations re-implemented from the
document with hashlib, base64 and nacl.bindings only, never through whistle.crypto's helpers.

If the code and the document drift apart, these tests fail (as tests/unit/crypto/test_format.py
does for the envelopes)."""
from __future__ import annotations

import base64
import hashlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nacl import bindings

from whistle import crypto

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RFC4648_BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def doc_blake2b(data: bytes, size: int, key: bytes = b"", person: bytes = b"") -> bytes:
    # hashlib pads `person` with zeros to 16 bytes, as libsodium does.
    return hashlib.blake2b(data, digest_size=size, key=key, person=person).digest()


def doc_fingerprint(public_key: bytes) -> str:
    # 6.10: BLAKE2b-160, person "whistle-org-fp"; base32 most significant bit first (RFC 4648's
    # bit order) in Crockford's alphabet; groups of four joined by "-".
    digest = doc_blake2b(public_key, 20, person=b"whistle-org-fp")
    chars = base64.b32encode(digest).decode("ascii").translate(str.maketrans(RFC4648_BASE32, CROCKFORD))
    return "-".join(chars[i : i + 4] for i in range(0, 32, 4))


def doc_context(*parts: str) -> bytes:
    return b"".join(len(p.encode("utf-8")).to_bytes(2, "big") + p.encode("utf-8") for p in parts)


@settings(max_examples=50, deadline=None)
@given(public_key=st.binary(min_size=32, max_size=32))
def test_fingerprint_from_the_document(public_key):
    assert crypto.fingerprint(public_key) == doc_fingerprint(public_key)
    assert len(crypto.fingerprint(public_key)) == 32 + 7


def test_directory_signature_from_the_document():
    seed = bytes(range(32))
    key = crypto.SigningKey(seed)
    document = crypto.canonical_json({"version": 1, "format": "whistle-key-directory/1"})
    public, secret = bindings.crypto_sign_seed_keypair(seed)
    assert key.public_key == public
    # 6.9: Ed25519, detached, over "whistle-key-directory" || 0x00 || document.
    expected = bindings.crypto_sign(b"whistle-key-directory\x00" + document, secret)[:64]
    assert crypto.sign_directory(document, key) == expected
    crypto.verify_directory(document, expected, public)


def test_receipt_v2_from_the_document():
    receipt, salt, cost = "abcd efgh-jkmn pqrs tvwx yzoi", bytes(range(16)), crypto.KdfCost.for_tests()
    canonical = "ABCD-EFGH-JKMN-PQRS-TVWX-YZ01"
    master = bindings.crypto_pwhash_alg(
        64, canonical.encode("ascii"), salt, cost.opslimit, cost.memlimit, bindings.crypto_pwhash_ALG_ARGON2ID13
    )
    lookup_value = doc_blake2b(master[:32], 32, person=b"whistle-lookup2")
    public, private = bindings.crypto_box_seed_keypair(master[32:])
    derived = crypto.derive_reporter_keys_v2(receipt, salt, cost)
    assert derived.lookup_value == lookup_value
    assert (derived.keypair.public, derived.keypair.private) == (public, private)
    pepper = bytes(range(100, 132))
    assert crypto.lookup_id(lookup_value, pepper) == doc_blake2b(lookup_value, 32, key=pepper, person=b"whistle-lookup")
    assert crypto.receipt_salt_v2(pepper) == doc_blake2b(
        b"whistle receipt salt v2", 16, key=pepper, person=b"whistle-rsalt"
    )


def test_team_key_mac_and_case_key_binding_from_the_document():
    case_sk, team_sk, holder_sk = bytes(range(1, 33)), bytes(range(33, 65)), bytes(range(65, 97))
    case_pk, team_pk = bindings.crypto_scalarmult_base(case_sk), bindings.crypto_scalarmult_base(team_sk)
    assert crypto.public_key_of(case_sk) == case_pk
    mac_key = doc_blake2b(b"", 32, key=case_sk, person=b"whistle-teamauth")
    assert crypto.team_key_mac(case_sk, team_pk) == doc_blake2b(team_pk, 32, key=mac_key)
    binding_key = doc_blake2b(b"", 32, key=holder_sk, person=b"whistle-casebind")
    expected = doc_blake2b(doc_context("CASE-7Q2M", "case-key") + case_pk, 32, key=binding_key)
    assert crypto.case_key_binding(holder_sk, "CASE-7Q2M", case_pk) == expected


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=12,
)


def doc_canonical(value: object) -> bytes:
    # 6.8, written out by hand: keys sorted by code point, no spaces, the characters themselves
    # except '"', '\\' and U+0000..U+001F (\b \t \n \f \r by name, the rest as \u00xx).
    names = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r", '"': '\\"', "\\": "\\\\"}

    def string(text: str) -> str:
        return '"' + "".join(names.get(c, f"\\u{ord(c):04x}" if ord(c) < 0x20 else c) for c in text) + '"'

    def write(v: object) -> str:
        if v is None:
            return "null"
        if v is True or v is False:
            return "true" if v else "false"
        if isinstance(v, int):
            return str(v)
        if isinstance(v, str):
            return string(v)
        if isinstance(v, list):
            return "[" + ",".join(write(item) for item in v) + "]"
        assert isinstance(v, dict)
        return "{" + ",".join(string(k) + ":" + write(v[k]) for k in sorted(v)) + "}"

    return write(value).encode("utf-8")


@settings(max_examples=300, deadline=None)
@given(value=json_values)
def test_canonical_json_from_the_document(value):
    try:
        expected = doc_canonical(value)
    except UnicodeEncodeError:  # a lone surrogate drawn by st.text(): refused
        with pytest.raises(ValueError, match="lone surrogate"):
            crypto.canonical_json(value)
        return
    assert crypto.canonical_json(value) == expected
    assert crypto.parse_canonical_json(expected) == value
    # Any other spelling of the same value is refused.
    spaced = json.dumps(value, ensure_ascii=True, indent=1).encode("ascii")
    if spaced != expected:
        with pytest.raises(ValueError, match="canonical form"):
            crypto.parse_canonical_json(spaced)
