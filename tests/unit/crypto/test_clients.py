"""A client's hash for throttles: an hourly subkey of the session key, then a short keyed hash of
purpose and address (docs/crypto.md 6.17), checked against libsodium directly."""
import pytest
from nacl import bindings

from whistle.crypto import client_hour_key, client_tag

SESSION_KEY = bytes(range(32))
HOUR = 490260  # 2025-12-05 12:00 UTC


def test_the_documented_derivation():
    hour_key = bindings.crypto_generichash_blake2b_salt_personal(
        HOUR.to_bytes(8, "big"), digest_size=32, key=SESSION_KEY, person=b"whistle-clnt-key")
    tag = bindings.crypto_generichash_blake2b_salt_personal(
        b"reports\n203.0.113.9", digest_size=12, key=hour_key, person=b"whistle-client")
    assert client_hour_key(SESSION_KEY, HOUR) == hour_key
    assert client_tag(hour_key, "reports", "203.0.113.9") == tag.hex()
    # The vector in docs/crypto.md 6.17.
    assert hour_key.hex() == "80695f7a9e26e3a60a172c06de5f55e8b36af402cd2958034d5339b5be42cf64"
    assert tag.hex() == "1bdb2850e2bd5622ba9361e0"


def test_each_hour_and_each_purpose_hashes_apart():
    this_hour, next_hour = client_hour_key(SESSION_KEY, HOUR), client_hour_key(SESSION_KEY, HOUR + 1)
    assert this_hour != next_hour
    assert client_tag(this_hour, "reports", "203.0.113.9") != client_tag(next_hour, "reports", "203.0.113.9")
    assert client_tag(this_hour, "reports", "203.0.113.9") != client_tag(this_hour, "sign-in", "203.0.113.9")
    assert client_hour_key(bytes(32), HOUR) != this_hour


def test_short_keys_and_impossible_hours_are_refused():
    with pytest.raises(ValueError, match="session key"):
        client_hour_key(b"short", HOUR)
    with pytest.raises(ValueError, match="hour"):
        client_hour_key(SESSION_KEY, -1)
