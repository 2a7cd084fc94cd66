"""Checks on a case's public keys that do not trust the database (docs/crypto.md 6.11, 6.12).

A case public key is derived from the case private key the actor holds; a team public key,
which a reporter cannot derive, is vouched for by a MAC under the case private key; and a holder
can bind the case public key to their own private key, so a sealed copy of a different case key
slipped into their grant is noticed.
"""
from __future__ import annotations

import hmac

from nacl import bindings

from . import envelopes
from .errors import KeyMismatch

MAC_LEN = 32
_PERSON_TEAM_MAC_KEY = b"whistle-teamauth"
_PERSON_BINDING_KEY = b"whistle-casebind"


def public_key_of(private_key: bytes) -> bytes:
    """The X25519 public key of `private_key` (crypto_scalarmult_base)."""
    private_key = envelopes.as_bytes(private_key)
    if len(private_key) != envelopes.KEY_LEN:
        raise ValueError("a private key is 32 bytes")
    return bindings.crypto_scalarmult_base(private_key)


def team_key_mac(case_private_key: bytes, team_public_key: bytes) -> bytes:
    """32 bytes that only a holder of the case private key can compute for this team key."""
    mac_key = _subkey(case_private_key, _PERSON_TEAM_MAC_KEY)
    return envelopes.blake2b(envelopes.check_public_key(team_public_key), size=MAC_LEN, key=mac_key, person=b"")


def check_team_key_mac(case_private_key: bytes, team_public_key: bytes, mac: bytes) -> None:
    """Return if `mac` vouches for `team_public_key`; raise KeyMismatch if not (constant time)."""
    _compare(team_key_mac(case_private_key, team_public_key), mac, "team public key")


def case_key_binding(holder_private_key: bytes, case: str, case_public_key: bytes) -> bytes:
    """32 bytes binding a case's public key to one holder (the reporter, a guardian).

    Sealed boxes do not say who sealed them: with a holder's public key anyone can seal them a
    different case key. A binding computed when the holder first had the real key tells the
    copy from the original later."""
    binding_key = _subkey(holder_private_key, _PERSON_BINDING_KEY)
    message = envelopes.context(case, "case-key") + envelopes.check_public_key(case_public_key)
    return envelopes.blake2b(message, size=MAC_LEN, key=binding_key, person=b"")


def check_case_key_binding(holder_private_key: bytes, case: str, case_public_key: bytes, binding: bytes) -> None:
    """Return if `binding` is this holder's for this case key; raise KeyMismatch if not."""
    _compare(case_key_binding(holder_private_key, case, case_public_key), binding, "case public key")


def _subkey(private_key: bytes, person: bytes) -> bytes:
    private_key = envelopes.as_bytes(private_key)
    if len(private_key) != envelopes.KEY_LEN:
        raise ValueError("a private key is 32 bytes")
    return envelopes.blake2b(b"", size=envelopes.KEY_LEN, key=private_key, person=person)


def _compare(expected: bytes, given: bytes, what: str) -> None:
    if not isinstance(given, (bytes, bytearray, memoryview)):
        raise TypeError("a MAC is bytes")
    if not hmac.compare_digest(expected, bytes(given)):
        raise KeyMismatch(f"the {what} is not the one the case's keys vouch for")
