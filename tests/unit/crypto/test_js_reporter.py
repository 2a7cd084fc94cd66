"""What the browser's reporter client (whistle/static/js/reporter.js, used by intake.js) builds, read
by the server's own crypto: a case made in JavaScript from a directory signed here decrypts in
Python for each holder, is sealed to exactly the recipients the server will check, and the form
messages it shows are the server's words."""
from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

from tests.unit.crypto.test_js_crypto import node
from whistle import crypto
from whistle.intake.forms import MESSAGES

COST = crypto.KdfCost.for_tests()
NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


def unb64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def signed_directory(signing_key, guardians, escrow) -> dict:
    document = {
        "format": "whistle-key-directory/1", "version": 3,
        "issued_at": "2026-12-01T00:00:00Z", "expires_at": (NOW + timedelta(days=20)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "receipt": {"salt": b64(bytes(range(16))), "opslimit": COST.opslimit, "memlimit": COST.memlimit},
        "escrow": {"public_key": b64(escrow.public)},
        "guardians": {str(i): {"username": f"g{i}", "public_key": b64(pair.public)} for i, pair in guardians.items()},
        "channels": {"staff": {"first_tier": [17, 19], "second_tier": [23]}},
    }
    text = crypto.canonical_json(document)
    return {"document": text.decode("utf-8"), "signature": b64(crypto.sign_directory(text, signing_key)),
            "key": crypto.fingerprint(signing_key.public_key)}


CHANNEL = {
    "fields": [{"name": "where", "label": "Where?", "type": "single_choice", "required": True,
                "choices": ["Ward 7", "Kitchen"], "routing": True},
               {"name": "details", "label": "Anything else?", "type": "long_text", "required": False}],
    "identityModes": ["anonymous", "confidential"], "identityFields": ["name", "contact"], "plain": False,
    "maxTextChars": 20000,
}


def build(form: dict, left_out: list[int], published: dict, public_key: bytes) -> dict:
    request = {"published": published, "public_key": b64(public_key), "now": NOW.isoformat(), "slug": "staff",
               "channel": CHANNEL, "form": form, "left_out": left_out}
    result = node("tests/js/build_case.mjs", stdin=json.dumps(request))
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


def test_a_case_built_in_javascript_decrypts_in_python_for_every_holder():
    signing_key = crypto.SigningKey.generate()
    guardians = {i: crypto.KeyPair.generate() for i in (17, 19, 23)}
    escrow = crypto.KeyPair.generate()
    published = signed_directory(signing_key, guardians, escrow)
    form = {"text": "The night rota on ward 7 is falsified — Über 🙂", "identityMode": "confidential",
            "answers": {"where": "Ward 7", "details": "Since March."}, "identity": {"name": "Sam Okafor", "contact": ""}}
    made = build(form, [17], published, signing_key.public_key)
    body, receipt = made["body"], made["receipt"]

    directory = crypto.open_directory(published, signing_key.public_key, now=NOW)
    chosen = crypto.recipients(directory, "staff", body["left_out"])
    assert [(g["holder"], g.get("account_id")) for g in body["grants"]] == (
        [("reporter", None)] + [("guardian", i) for i in chosen.holders] + [("standby", i) for i in chosen.standby]
        + [("escrow", None)])
    assert body["directory_version"] == 3 and body["left_out"] == [17]
    assert body["routing_answers"] == {"where": "Ward 7"}, "routing answers only, in the clear"
    assert all(len(unb64(g["sealed_case_key"])) == 82 for g in body["grants"])

    reporter = crypto.derive_reporter_keys_v2(receipt, directory.receipt_salt, directory.receipt_cost)
    assert unb64(body["reporter"]["lookup_value"]) == reporter.lookup_value
    assert unb64(body["reporter"]["public_key"]) == reporter.keypair.public
    case_keys = crypto.KeyPair.from_private(crypto.unseal(reporter.keypair, unb64(body["grants"][0]["sealed_case_key"])))
    assert case_keys.public == unb64(body["case_public_key"])
    crypto.check_case_key_binding(reporter.keypair.private, body["case"], case_keys.public,
                                  unb64(body["reporter"]["case_key_binding"]))
    for grant in body["grants"][1:]:
        holder = guardians[grant["account_id"]] if "account_id" in grant else escrow
        assert crypto.unseal(holder, unb64(grant["sealed_case_key"])) == case_keys.private
        team = crypto.KeyPair.from_private(crypto.unseal(holder, unb64(grant["sealed_team_key"])))
        assert team.public == unb64(body["team_public_key"])
        crypto.check_team_key_mac(case_keys.private, team.public, unb64(body["team_key_mac"]))

    def read(kind: str, pair) -> bytes:
        [item] = [i for i in body["items"] if i["kind"] == kind]
        return crypto.decrypt_item(pair, unb64(item["ciphertext"]), case=body["case"], kind=kind, author="reporter")

    assert read("disclosure", case_keys).decode("utf-8") == form["text"]
    assert json.loads(read("answers", case_keys)) == {"details": "Since March."}
    assert json.loads(read("identity", team)) == {"name": "Sam Okafor", "mode": "confidential"}
    sent = json.dumps(body, ensure_ascii=False)
    for secret in (receipt, "falsified", "Since March", "Sam Okafor"):
        assert secret not in sent


def test_the_browser_checks_a_form_with_the_servers_words():
    signing_key = crypto.SigningKey.generate()
    published = signed_directory(signing_key, {i: crypto.KeyPair.generate() for i in (17, 19, 23)},
                                 crypto.KeyPair.generate())
    made = build({"text": " ", "answers": {"where": "Roof"}, "identityMode": "confidential", "identity": {}}, [],
                 published, signing_key.public_key)
    assert made["body"] is None
    assert made["errors"] == {"text": MESSAGES["text_empty"][0], "answers.where": MESSAGES["choose_one_given"][0],
                              "identity.name": MESSAGES["name_or_anonymous"][0]}
    assert made["messages"] == {key: list(pair) for key, pair in MESSAGES.items()}
