"""MACs that anchor the audit log outside the database (docs/crypto.md 6.14).

The audit chain's hashes are unkeyed: anyone who can write the database can recompute them.
These MACs are keyed with the audit key (its own key file, never in the database), so a
rewritten chain cannot be given a head or a checkpoint that checks out without that file. The
head MAC covers the chain's length and last hash; a checkpoint's MAC covers its position, hash
and time. Each has its own personalisation, so one can never stand in for the other.
"""
from __future__ import annotations

import hmac

from . import envelopes

AUDIT_MAC_SIZE = 32
_PERSON_HEAD = b"whistle-audhead"
_PERSON_CHECKPOINT = b"whistle-audckpt"


def _position(length: int) -> bytes:
    if not 0 <= length < 2**64:
        raise ValueError("an audit position must fit in 64 bits")
    return length.to_bytes(8, "big")


def _hash(head_hash: bytes) -> bytes:
    head_hash = bytes(head_hash)
    if len(head_hash) != 32:
        raise ValueError("an audit hash is 32 bytes")
    return head_hash


def audit_head_mac(key: bytes, length: int, head_hash: bytes) -> bytes:
    """BLAKE2b-256 keyed with the audit key over u64be(length) || head hash."""
    key = envelopes.check_secret_key(key, "audit key")
    return envelopes.blake2b(_position(length) + _hash(head_hash), size=AUDIT_MAC_SIZE, key=key, person=_PERSON_HEAD)


def audit_checkpoint_mac(key: bytes, seq: int, head_hash: bytes, at: str) -> bytes:
    """BLAKE2b-256 keyed with the audit key over u64be(seq) || hash || UTF-8(at)."""
    key = envelopes.check_secret_key(key, "audit key")
    message = _position(seq) + _hash(head_hash) + at.encode("utf-8")
    return envelopes.blake2b(message, size=AUDIT_MAC_SIZE, key=key, person=_PERSON_CHECKPOINT)


def audit_mac_matches(expected: bytes, given: bytes | None) -> bool:
    """Whether `given` is `expected`, compared in constant time; None (no MAC) never matches."""
    return given is not None and hmac.compare_digest(bytes(expected), bytes(given))
