"""Telling a client apart for a throttle without naming it: its address under an hourly subkey of
the session key file (docs/crypto.md 6.17). Every node holds the same key file, so every node
computes the same hash for a client in the same hour, and nothing about clients is kept anywhere
but in the throttle rows this keys."""
from __future__ import annotations

from . import envelopes

_PERSON_HOUR_KEY = b"whistle-clnt-key"
_PERSON_CLIENT = b"whistle-client"
CLIENT_HASH_SIZE = 12


def client_hour_key(session_key: bytes, hour: int) -> bytes:
    """The subkey of one hour (whole hours since the epoch): BLAKE2b-256 keyed with the session key
    over the hour as eight bytes big-endian."""
    session_key = envelopes.check_secret_key(session_key, "session key")
    if not 0 <= hour < 1 << 64:
        raise ValueError("hour out of range")
    return envelopes.blake2b(hour.to_bytes(8, "big"), size=envelopes.KEY_LEN, key=session_key,
                             person=_PERSON_HOUR_KEY)


def client_tag(hour_key: bytes, purpose: str, address: str) -> str:
    """12 bytes of keyed BLAKE2b over "purpose\\naddress", in hex: the same client and purpose give
    the same tag within the hour, and different purposes give tags that cannot be linked."""
    hour_key = envelopes.check_secret_key(hour_key, "client hour key")
    message = f"{purpose}\n{address}".encode("ascii")
    return envelopes.blake2b(message, size=CLIENT_HASH_SIZE, key=hour_key, person=_PERSON_CLIENT).hex()
