"""The receipt derived from a report form's one-time submission token (docs/crypto.md), checked
against an independent computation with hashlib's BLAKE2b."""
from __future__ import annotations

import hashlib

import pytest

from whistle import crypto

PEPPER = bytes(range(32))
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def independent(token: str, pepper: bytes) -> str:
    digest = hashlib.blake2b(token.encode("utf-8"), digest_size=20, key=pepper,
                             person=b"whistle-rsubmit".ljust(16, b"\0")).digest()
    chars = "".join(ALPHABET[byte % 32] for byte in digest)
    return "-".join(chars[i:i + 4] for i in range(0, 20, 4))


def test_the_submission_receipt_is_keyed_blake2b_of_the_token_as_20_crockford_characters():
    token = crypto.random_token(32)
    receipt = crypto.receipt_for_submission(token, PEPPER)
    assert receipt == independent(token, PEPPER)
    assert crypto.normalise_receipt(receipt) == receipt


def test_it_depends_on_the_token_and_the_pepper_and_is_not_the_stored_token_id():
    token = crypto.random_token(32)
    receipt = crypto.receipt_for_submission(token, PEPPER)
    assert receipt == crypto.receipt_for_submission(token, PEPPER)
    assert receipt != crypto.receipt_for_submission(crypto.random_token(32), PEPPER)
    assert receipt != crypto.receipt_for_submission(token, bytes(32))
    stored = crypto.blind_index(token, PEPPER, purpose="submission-token")
    assert receipt.replace("-", "").encode() not in stored


def test_a_missing_token_or_short_pepper_is_refused():
    with pytest.raises(TypeError):
        crypto.receipt_for_submission("", PEPPER)
    with pytest.raises(Exception):  # noqa: B017 (check_secret_key's own error type)
        crypto.receipt_for_submission("token", b"short")
