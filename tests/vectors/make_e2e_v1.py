"""Write tests/vectors/e2e-v1.json: the end-to-end format's test vectors (docs/crypto.md 10).

Run once, by hand: `.venv/bin/python tests/vectors/make_e2e_v1.py`. The derived values are
deterministic; the ciphertexts are random, made once here and then only ever decrypted, by the
Python tests (tests/unit/crypto/test_e2e_vectors.py) and by the browser's module
(tests/js/vectors.test.mjs). Running it again rewrites them: only do so when the format changes,
and then the file's name changes too (e2e-v2.json).
"""
from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from nacl import bindings

from whistle import crypto

OUT = Path(__file__).with_name("e2e-v1.json")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def stream_plaintext(length: int) -> bytes:
    return bytes(i % 251 for i in range(length))


def canonical_cases() -> dict[str, Any]:
    values: list[Any] = [
        {},
        [],
        {"b": 1, "a": 2},
        {"format": "whistle-key-directory/1", "version": 7, "escrow": None, "list": [3, 2, 1]},
        {"quote\"backslash\\": "tab\tnewline\ncontrol\u0001del\u007fline-sep\u2028"},
        {"é": "café", "z": "ü", "\uff41": "full-width"},
        # Sorted by code point: U+FF5E before U+1F600, although UTF-16 code units order them
        # the other way round (a JavaScript sort() without a comparator gets this wrong).
        {"\U0001f600": 1, "\uff5e": 2, "~": 3},
        {"n": [-9007199254740991, 0, 9007199254740991], "t": True, "f": False},
        "a string",
        12,
    ]
    return {
        "valid": [{"value": value, "canonical": crypto.canonical_json(value).decode("utf-8")} for value in values],
        # Values canonical_json refuses: a float, integers JavaScript cannot hold exactly,
        # a lone surrogate.
        "refused_values": [1.5, {"a": 0.5}, 9007199254740992, -9007199254740992, "\ud800", {"\udc00": 1}],
        # Texts parse_canonical_json refuses: each parses as JSON but is not canonical.
        "refused_texts": [
            '{"b":1,"a":2}',
            '{"a": 1}',
            ' {}',
            '{"a":1,"a":1}',
            '{"a":1.0}',
            '{"a":1e2}',
            '{"a":-0}',
            '"\\u00e9"',
            '"\\/"',
            '{"a":9007199254740993}',
            '"\\ud800"',
            "\ufeff{}",
        ],
    }


def main() -> None:
    seed = bytes(range(100, 132))
    org = crypto.SigningKey(seed)
    other = crypto.SigningKey(bytes(range(200, 232)))
    pepper = bytes(range(32))
    receipt_salt = crypto.receipt_salt_v2(pepper)
    document = {
        "format": "whistle-key-directory/1",
        "version": 7,
        "issued_at": "2025-03-01T09:00:00Z",
        "expires_at": "2025-03-31T09:00:00Z",
        "receipt": {"salt": b64(receipt_salt), "opslimit": 1, "memlimit": 8192},
        "escrow": {"public_key": b64(crypto.public_key_of(bytes(range(64, 96))))},
        "guardians": {
            "17": {"username": "demo.guardian", "public_key": b64(crypto.public_key_of(bytes(range(2, 34))))},
            "19": {"username": "zoë.second", "public_key": b64(crypto.public_key_of(bytes(range(3, 35))))},
        },
        "channels": {"raise-a-concern": {"first_tier": [17], "second_tier": [19]}},
    }
    text = crypto.canonical_json(document)
    signature = crypto.sign_directory(text, org)
    tampered = text.replace(b'"version":7', b'"version":8')

    cost = crypto.KdfCost.for_tests()
    receipts: list[dict[str, Any]] = []
    for typed in ("ABCD-EFGH-JKMN-PQRS-TVWX-YZ01", "  abcd efgh jkmn pqrs tvwx yzoi "):
        keys = crypto.derive_reporter_keys_v2(typed, receipt_salt, cost)
        receipts.append({
            "receipt": typed,
            "canonical": crypto.normalise_receipt_v2(typed),
            "salt": receipt_salt.hex(),
            "opslimit": cost.opslimit,
            "memlimit": cost.memlimit,
            "lookup_value": keys.lookup_value.hex(),
            "public_key": keys.keypair.public.hex(),
            "private_key": keys.keypair.private.hex(),
            "lookup_id": crypto.lookup_id(keys.lookup_value, pepper).hex(),
        })

    case_private, team_private = bytes(range(1, 33)), bytes(range(33, 65))
    case_public, team_public = crypto.public_key_of(case_private), crypto.public_key_of(team_private)
    reporter_private = bytes.fromhex(receipts[0]["private_key"])
    case_keys = crypto.KeyPair.from_private(case_private)
    team_keys = crypto.KeyPair.from_private(team_private)

    items: list[dict[str, str]] = []
    for key, kind, author, plaintext in (
        ("case", "disclosure", "reporter", "The night rota leaves one nurse on ward 4. — Zoë"),
        ("case", "message", "guardian:7", "Thank you. Could you tell us which nights? " * 8),
        ("case", "message", "system", ""),
        ("team", "identity", "reporter", '{"name":"Sam Carter","contact":"sam@example.org"}'),
    ):
        public = case_public if key == "case" else team_public
        envelope = crypto.encrypt_item(public, plaintext.encode("utf-8"), case="CASE-7Q2M", kind=kind, author=author)
        items.append({"key": key, "case": "CASE-7Q2M", "kind": kind, "author": author,
                      "plaintext": plaintext, "envelope": b64(envelope)})

    length = crypto.CHUNK_SIZE + 1000
    encryptor = crypto.StreamEncryptor(case_public, case="CASE-7Q2M", author="reporter")
    first = encryptor.push(stream_plaintext(length))
    last = encryptor.finish()
    stream = {
        "key": "case", "case": "CASE-7Q2M", "kind": "attachment", "author": "reporter",
        "plaintext": {"length": length, "byte_at_i": "i % 251"},
        "chunks": [b64(encryptor.header), b64(first), b64(last)],
    }

    vectors = {
        "format": "whistle-e2e-vectors/1",
        "about": "docs/crypto.md section 10. Keys and bytes in hex, envelopes and signatures in base64 "
                 "(RFC 4648, with padding). Made once by tests/vectors/make_e2e_v1.py.",
        "canonical_json": canonical_cases(),
        "directory": {
            "seed": seed.hex(),
            "public_key": org.public_key.hex(),
            "fingerprint": crypto.fingerprint(org.public_key),
            "signing_prefix_hex": b"whistle-key-directory\x00".hex(),
            "document": document,
            "published": {"document": text.decode("utf-8"), "signature": b64(signature),
                          "key": crypto.fingerprint(org.public_key)},
            "refused": [
                {"why": "document changed", "document": tampered.decode("utf-8"), "signature": b64(signature)},
                {"why": "signed by another key", "document": text.decode("utf-8"),
                 "signature": b64(crypto.sign_directory(text, other))},
                {"why": "signed without the prefix", "document": text.decode("utf-8"),
                 "signature": b64(bindings.crypto_sign(text, org_secret(org))[:64])},
            ],
        },
        "fingerprints": [
            {"public_key": bytes(32).hex(), "fingerprint": crypto.fingerprint(bytes(32))},
            {"public_key": org.public_key.hex(), "fingerprint": crypto.fingerprint(org.public_key)},
        ],
        "receipts_v2": receipts,
        "receipt_versions": [
            {"text": "ABCD-EFGH-JKMN-PQRS-TVWX", "version": 1},
            {"text": "abcd-efgh-jkmn-pqrs-tvwx-yz01", "version": 2},
            {"text": "ABCD-EFGH-JKMN-PQRS-TVW", "version": None},
            {"text": "ABCD-EFGH-JKMN-PQRS-TVWX-YZ01-2", "version": None},
            {"text": "ABCD-EFGH-JKMN-PQRS-TVWX-YZ0U", "version": None},
        ],
        "receipt_salt_v2": {"pepper": pepper.hex(), "salt": receipt_salt.hex()},
        "keys": {
            "case_private_key": case_private.hex(), "case_public_key": case_public.hex(),
            "team_private_key": team_private.hex(), "team_public_key": team_public.hex(),
        },
        "team_key_mac": {
            "case_private_key": case_private.hex(), "team_public_key": team_public.hex(),
            "mac": crypto.team_key_mac(case_private, team_public).hex(),
        },
        "case_key_binding": {
            "holder_private_key": reporter_private.hex(), "case": "CASE-7Q2M", "case_public_key": case_public.hex(),
            "binding": crypto.case_key_binding(reporter_private, "CASE-7Q2M", case_public).hex(),
        },
        "sealed": [
            {"what": "case private key to the reporter", "recipient_private_key": reporter_private.hex(),
             "data": case_private.hex(),
             "envelope": b64(crypto.seal(crypto.public_key_of(reporter_private), case_private))},
            {"what": "team private key to guardian 17", "recipient_private_key": bytes(range(2, 34)).hex(),
             "data": team_private.hex(),
             "envelope": b64(crypto.seal(crypto.public_key_of(bytes(range(2, 34))), team_private))},
        ],
        "items_v2": items,
        "stream_v2": stream,
    }
    assert case_keys.public == case_public and team_keys.public == team_public
    OUT.write_text(json.dumps(vectors, indent=1, ensure_ascii=True) + "\n", encoding="utf-8")


def org_secret(key: crypto.SigningKey) -> bytes:
    _, secret = bindings.crypto_sign_seed_keypair(key.seed)
    return secret


if __name__ == "__main__":
    main()
