"""The key directory refuses what a database writer or a careless operator could slip into it."""
from __future__ import annotations

import base64
from datetime import timedelta

import pytest

from whistle import crypto
from whistle.key_directory.services import DirectoryError, verify


@pytest.mark.parametrize("alias", ["01", "\u0661"])  # a leading zero; ARABIC-INDIC DIGIT ONE
def test_a_directory_listing_one_account_under_two_ids_is_refused(settings, clock, alias):
    """Two JSON members that both read as account 1 would let a reader check one entry while the
    server seals to the other: the document is refused."""
    honest, other = crypto.KeyPair.generate(), crypto.KeyPair.generate()
    now = clock.now()
    document = {
        "format": "whistle-key-directory/1", "version": 1, "escrow": None,
        "issued_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "expires_at": (now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "receipt": {"salt": "", "opslimit": 1, "memlimit": 8192},
        "guardians": {"1": {"username": "alice", "public_key": base64.b64encode(honest.public).decode()},
                      alias: {"username": "alice", "public_key": base64.b64encode(other.public).decode()}},
        "channels": {"staff": {"first_tier": [1], "second_tier": []}},
    }
    data = crypto.canonical_json(document)
    with pytest.raises(DirectoryError):
        verify(settings, data, crypto.sign_directory(data, settings.org_signing_key), now)
