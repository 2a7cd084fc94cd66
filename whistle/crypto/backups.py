"""What a backup's manifest carries about the keys it never holds (docs/crypto.md 6.16).

A backup holds no key file. Its manifest is MACed with the audit key, so a restore refuses a
manifest (and through its SHA-256 sums, any file of the backup) that someone without that key
changed; and it carries a check value of the lookup pepper and of the session key, so a restore
with other key files than the backup's deployment used is refused before it loads anything,
instead of giving a deployment where no receipt finds its case or no guardian can sign in. A
check value is a keyed hash of nothing: it names a key without revealing anything of it.
"""
from __future__ import annotations

import hmac

from . import envelopes

BACKUP_MAC_SIZE = 32
KEY_CHECK_SIZE = 16
_PERSON_MANIFEST = b"whistle-backup"
_PERSON_KEY_CHECK = b"whistle-keycheck"


def backup_manifest_mac(audit_key: bytes, manifest: bytes) -> bytes:
    """BLAKE2b-256 keyed with the audit key over the manifest's canonical JSON (without its MAC)."""
    key = envelopes.check_secret_key(audit_key, "audit key")
    return envelopes.blake2b(bytes(manifest), size=BACKUP_MAC_SIZE, key=key, person=_PERSON_MANIFEST)


def backup_manifest_mac_matches(audit_key: bytes, manifest: bytes, given: bytes) -> bool:
    """Whether `given` is the manifest's MAC under `audit_key`, compared in constant time."""
    return hmac.compare_digest(backup_manifest_mac(audit_key, manifest), bytes(given))


def key_check(key: bytes) -> bytes:
    """BLAKE2b-128 keyed with `key` over the empty message: the same key, the same value."""
    key = envelopes.check_secret_key(key, "key")
    return envelopes.blake2b(b"", size=KEY_CHECK_SIZE, key=key, person=_PERSON_KEY_CHECK)
