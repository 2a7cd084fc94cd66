"""The key directory as clients take it: open_directory's refusals and who a new case is sealed to."""
from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from whistle import crypto

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
ORG = crypto.SigningKey.generate()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def document(version=3, expires=NOW + timedelta(days=30), channels=None, escrow=None) -> dict:
    keys = {i: crypto.KeyPair.generate().public for i in (1, 2, 3, 4)}
    return {
        "format": "whistle-key-directory/1", "version": version,
        "issued_at": crypto.directory.timestamp(NOW - timedelta(days=1)),
        "expires_at": crypto.directory.timestamp(expires),
        "receipt": {"salt": b64(bytes(16)), "opslimit": 1, "memlimit": 8192},
        "escrow": escrow,
        "guardians": {str(i): {"username": f"g{i}", "public_key": b64(k)} for i, k in keys.items()},
        "channels": channels if channels is not None else {"c": {"first_tier": [1, 2], "second_tier": [3, 4]}},
    }


def published(doc: dict, key: crypto.SigningKey = ORG) -> dict:
    text = crypto.canonical_json(doc)
    return {"document": text.decode("utf-8"), "signature": b64(crypto.sign_directory(text, key)),
            "key": crypto.fingerprint(key.public_key)}


def test_a_good_directory_opens_with_its_members():
    opened = crypto.open_directory(published(document()), ORG.public_key, now=NOW, lowest_version=3)
    assert opened.version == 3
    assert opened.receipt_salt == bytes(16) and opened.receipt_cost == crypto.KdfCost(1, 8192)
    assert opened.listed_for("c").first_tier == (1, 2) and opened.guardians[4].username == "g4"
    assert opened.escrow_key is None


def test_another_key_an_expired_one_and_an_older_one_are_refused():
    with pytest.raises(crypto.BadSignature):
        crypto.open_directory(published(document(), crypto.SigningKey.generate()), ORG.public_key, now=NOW)
    with pytest.raises(crypto.DirectoryRefused, match="expired"):
        crypto.open_directory(published(document(expires=NOW)), ORG.public_key, now=NOW)
    with pytest.raises(crypto.DirectoryRefused, match="older"):
        crypto.open_directory(published(document(version=3)), ORG.public_key, now=NOW, lowest_version=4)
    altered = published(document())
    altered["document"] = altered["document"].replace('"version":3', '"version":9')
    with pytest.raises(crypto.BadSignature):
        crypto.open_directory(altered, ORG.public_key, now=NOW)
    for junk in (None, [], {"document": 1, "signature": "x"}):
        with pytest.raises(crypto.DirectoryRefused):
            crypto.open_directory(junk, ORG.public_key, now=NOW)


def test_a_signed_document_of_another_shape_is_refused():
    doc = document(channels={"c": {"first_tier": [1, 1], "second_tier": []}})
    with pytest.raises(crypto.DirectoryRefused):
        crypto.open_directory(published(doc), ORG.public_key, now=NOW)


def test_recipients_follow_the_tiers_and_what_the_reporter_left_out():
    opened = crypto.parse_directory(crypto.canonical_json(document()))
    assert crypto.recipients(opened, "c") == crypto.Recipients((1, 2), (3, 4), None)
    assert crypto.recipients(opened, "c", [2, 4]) == crypto.Recipients((1,), (3,), None)
    # Leaving out the whole first tier hands the case to the second tier, with nobody on standby.
    assert crypto.recipients(opened, "c", [1, 2]) == crypto.Recipients((3, 4), (), None)
    assert crypto.recipients(opened, "c", [1, 2, 3, 4]) == crypto.Recipients((), (), None)
    assert crypto.recipients(opened, "unknown") == crypto.Recipients((), (), None)
    escrow = crypto.KeyPair.generate().public
    with_escrow = crypto.parse_directory(crypto.canonical_json(document(escrow={"public_key": b64(escrow)})))
    assert crypto.recipients(with_escrow, "c").escrow_key == escrow
