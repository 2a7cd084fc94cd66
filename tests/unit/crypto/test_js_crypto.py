"""The browser's crypto module (whistle/static/js/crypto.js) and whistle.crypto agree, run in node.

`node --test tests/js/` checks every vector of tests/vectors/e2e-v1.json; the round trip sends
what Python made to crypto.js and what crypto.js made to Python, with fresh keys each way.
"""
from __future__ import annotations

import base64
import io
import json
import subprocess
from pathlib import Path
from typing import Any

from whistle import crypto

ROOT = Path(__file__).parents[3]
COST = crypto.KdfCost.for_tests()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def node(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["node", *args], cwd=ROOT, input=stdin, capture_output=True, text=True, timeout=120, check=False
    )


def test_the_js_module_passes_every_vector():
    result = node("--test", "tests/js/")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "# fail 0" in result.stdout


def test_round_trip_between_python_and_javascript():
    keys = crypto.KeyPair.generate()
    items = [
        {"key": "case", "case": "CASE-PY01", "kind": "disclosure", "author": "reporter",
         "plaintext": "Ünïcode ✓ " * 40},
        {"key": "case", "case": "CASE-PY01", "kind": "message", "author": "guardian:12", "plaintext": ""},
        {"key": "case", "case": "CASE-PY01", "kind": "message", "author": "system", "plaintext": "closed"},
    ]
    data = bytes(i * 13 % 256 for i in range(2 * crypto.CHUNK_SIZE + 77))
    encryptor = crypto.StreamEncryptor(keys.public, case="CASE-PY01", author="reporter")
    stream_chunks = [encryptor.header, encryptor.push(data[: crypto.CHUNK_SIZE]),
                     encryptor.push(data[crypto.CHUNK_SIZE :]), encryptor.finish()]
    salt = bytes(range(16))
    receipt = crypto.new_receipt_v2()
    canonical_values: list[Any] = [{"z": [1, None, True], "é": "\u2028", "\U0001f600": {"b": 0, "a": -5}}]
    python = {
        "public_key": b64(keys.public),
        "private_key": b64(keys.private),
        "sealed": b64(crypto.seal(keys.public, b"a private key, 32 bytes long...!")),
        "items": [
            {**item, "envelope": b64(crypto.encrypt_item(
                keys.public, item["plaintext"].encode("utf-8"), case=item["case"], kind=item["kind"],
                author=item["author"],
            ))}
            for item in items
        ],
        "stream": {"case": "CASE-PY01", "kind": "attachment", "author": "reporter",
                   "chunks": [b64(chunk) for chunk in stream_chunks]},
        "receipt": {"receipt": receipt, "salt": b64(salt),
                    "cost": {"opslimit": COST.opslimit, "memlimit": COST.memlimit}},
        "canonical": canonical_values,
    }
    recipient = crypto.KeyPair.generate()
    js_items = [
        {"key": "case", "case": "CASE-JS01", "kind": "disclosure", "author": "reporter", "plaintext": "Über — 🙂"},
        {"key": "case", "case": "CASE-JS01", "kind": "answers", "author": "reporter", "plaintext": '{"q1":"yes"}'},
        {"key": "team", "case": "CASE-JS01", "kind": "identity", "author": "reporter", "plaintext": "Sam " * 100},
    ]
    request = {
        "python": python,
        "recipient_public_key": b64(recipient.public),
        "salt": b64(salt),
        "cost": {"opslimit": COST.opslimit, "memlimit": COST.memlimit},
        "items": js_items,
        "stream": {"case": "CASE-JS01", "kind": "attachment", "author": "reporter", "length": crypto.CHUNK_SIZE + 9},
    }
    result = node("tests/js/roundtrip.mjs", stdin=json.dumps(request))
    assert result.returncode == 0, result.stderr[-3000:]
    answer = json.loads(result.stdout)

    # Python -> JavaScript
    opened = answer["decrypted"]
    assert unb64(opened["sealed"]) == b"a private key, 32 bytes long...!"
    assert opened["items"] == [item["plaintext"] for item in items]
    assert unb64(opened["stream"]) == data
    derived = crypto.derive_reporter_keys_v2(receipt, salt, COST)
    assert unb64(opened["receipt"]["lookup_value"]) == derived.lookup_value
    assert unb64(opened["receipt"]["public_key"]) == derived.keypair.public
    assert [unb64(text) for text in opened["canonical"]] == [crypto.canonical_json(v) for v in canonical_values]

    # JavaScript -> Python
    made = answer["made"]
    reporter = crypto.derive_reporter_keys_v2(made["receipt"]["receipt"], salt, COST)
    assert unb64(made["receipt"]["lookup_value"]) == reporter.lookup_value
    assert unb64(made["receipt"]["public_key"]) == reporter.keypair.public
    case_keys = crypto.KeyPair.from_private(crypto.unseal(recipient, unb64(made["sealed_case_key"])))
    team_keys = crypto.KeyPair.from_private(crypto.unseal(recipient, unb64(made["sealed_team_key"])))
    assert case_keys.public == unb64(made["case_public_key"]) and team_keys.public == unb64(made["team_public_key"])
    crypto.check_team_key_mac(case_keys.private, team_keys.public, unb64(made["team_key_mac"]))
    binding = unb64(made["case_key_binding"])
    crypto.check_case_key_binding(reporter.keypair.private, "CASE-JS01", case_keys.public, binding)
    for item in made["items"]:
        pair = team_keys if item["key"] == "team" else case_keys
        plaintext = crypto.decrypt_item(pair, unb64(item["envelope"]), case=item["case"], kind=item["kind"],
                                        author=item["author"])
        assert plaintext.decode("utf-8") == item["plaintext"]
    stream = made["stream"]
    chunks = [unb64(chunk) for chunk in stream["chunks"]]
    assert [len(chunk) for chunk in chunks] == [106, 65553, 273]
    decrypted = b"".join(crypto.decrypt_stream(case_keys, io.BytesIO(b"".join(chunks)), case=stream["case"],
                                               kind=stream["kind"], author=stream["author"]))
    assert decrypted == bytes(i * 7 % 256 for i in range(stream["length"]))
