"""The one place that touches cryptography: versioned envelopes over libsodium (docs/crypto.md)."""
from .audit import AUDIT_MAC_SIZE, audit_checkpoint_mac, audit_head_mac, audit_mac_matches
from .backups import backup_manifest_mac, backup_manifest_mac_matches, key_check
from .canonical import canonical_json, parse_canonical_json
from .carried import open_from_client, seal_for_client
from .casekeys import case_key_binding, check_case_key_binding, check_team_key_mac, public_key_of, team_key_mac
from .clients import client_hour_key, client_tag
from .csrf import csrf_key, csrf_token_for_browser, csrf_token_for_session, new_csrf_cookie_value
from .directory import (
    DirectoryDocument,
    Listed,
    Recipients,
    Tiers,
    open_directory,
    parse_directory,
    recipients,
)
from .errors import (
    BadSignature,
    CryptoError,
    DecryptionFailed,
    DirectoryRefused,
    Expired,
    InvalidReceipt,
    KeyMismatch,
    UnsupportedVersion,
)
from .indexes import blind_index
from .items import decrypt_item, encrypt_item, is_item_of_size, item_author_sealed, item_size
from .keys import (
    SEALED_KEY_SIZE,
    KdfCost,
    KeyPair,
    is_sealed_key,
    new_secret_key,
    random_bytes,
    random_token,
    seal,
    unseal,
)
from .passwords import (
    DEVICE_WRAPPED_KEY_SIZE,
    SIGN_IN_SALT_LEN,
    derive_sign_in_keys,
    is_device_wrapped_key,
    keep_on_server,
    new_recovery_key,
    read_kept_on_server,
    sign_in_verifier,
    stand_in_salt,
    unwrap_for_device,
    unwrap_with_password,
    unwrap_with_recovery_key,
    wrap_for_device,
    wrap_with_password,
    wrap_with_recovery_key,
)
from .receipts import (
    ClientReporterKeys,
    ReporterKeys,
    derive_reporter_keys,
    derive_reporter_keys_v2,
    lookup_id,
    new_receipt,
    new_receipt_v2,
    normalise_receipt,
    normalise_receipt_v2,
    receipt_for_submission,
    receipt_salt_v2,
    receipt_version,
)
from .sessions import new_session_token, page_key, session_token_id, unwrap_for_session, wrap_for_session
from .shredding import SHRED_HANDLE_SIZE, SHRED_KEY_SIZE, shred_unwrap, shred_wrap
from .signing import (
    SigningKey,
    fingerprint,
    normalise_fingerprint,
    public_key_file_text,
    read_public_key_text,
    sign_directory,
    verify_directory,
)
from .spool import SpoolDecryptor, SpoolEncryptor
from .streams import CHUNK_SIZE, StreamEncryptor, decrypt_stream

__all__ = [  # noqa: RUF022 - grouped by what the names are for, each group under its comment
    # errors
    "CryptoError",
    "DecryptionFailed",
    "UnsupportedVersion",
    "InvalidReceipt",
    "Expired",
    # keys
    "KdfCost",
    "KeyPair",
    "seal",
    "unseal",
    # content
    "encrypt_item",
    "decrypt_item",
    "item_author_sealed",
    "CHUNK_SIZE",
    "StreamEncryptor",
    "decrypt_stream",
    # request bodies spooled to disk (ephemeral key)
    "SpoolEncryptor",
    "SpoolDecryptor",
    # guardians' keys
    "wrap_with_password",
    "unwrap_with_password",
    "new_recovery_key",
    "wrap_with_recovery_key",
    "unwrap_with_recovery_key",
    # reporters
    "new_receipt",
    "receipt_for_submission",
    "normalise_receipt",
    "ReporterKeys",
    "derive_reporter_keys",
    # sessions
    "new_session_token",
    "session_token_id",
    "page_key",
    "wrap_for_session",
    "unwrap_for_session",
    # CSRF tokens (a subkey of the session key)
    "csrf_key",
    "csrf_token_for_session",
    "csrf_token_for_browser",
    "new_csrf_cookie_value",
    # a client told apart for throttles (an hourly subkey of the session key)
    "client_hour_key",
    "client_tag",
    # short-lived values a client carries (the receipt page's cookie)
    "seal_for_client",
    "open_from_client",
    # the audit log's anchors outside the database (the audit key file)
    "audit_head_mac",
    "audit_checkpoint_mac",
    "audit_mac_matches",
    # a backup's manifest: its MAC (the audit key) and the check values of the keys it never holds
    "backup_manifest_mac",
    "backup_manifest_mac_matches",
    "key_check",
    "AUDIT_MAC_SIZE",
    # lookups and randomness
    "blind_index",
    "random_bytes",
    "new_secret_key",
    "random_token",
]

# The format both ends of an end-to-end report share (docs/crypto.md 6.8 to 6.12): the signed key
# directory, receipts of version 2 (derived on the reporter's device), and the checks on a case's
# public keys that do not trust the database, and the key directory as readers take it.
__all__ += [
    "BadSignature",
    "ClientReporterKeys",
    "DirectoryDocument",
    "DirectoryRefused",
    "KeyMismatch",
    "Listed",
    "Recipients",
    "SigningKey",
    "Tiers",
    "canonical_json",
    "case_key_binding",
    "check_case_key_binding",
    "check_team_key_mac",
    "derive_reporter_keys_v2",
    "fingerprint",
    "lookup_id",
    "new_receipt_v2",
    "normalise_fingerprint",
    "normalise_receipt_v2",
    "open_directory",
    "parse_canonical_json",
    "parse_directory",
    "public_key_file_text",
    "public_key_of",
    "read_public_key_text",
    "receipt_salt_v2",
    "receipt_version",
    "recipients",
    "sign_directory",
    "team_key_mac",
    "verify_directory",
]

# Signing in on the guardian's device (docs/crypto.md 5.8, 5.9, 6.13): the password stays there.
__all__ += [
    "DEVICE_WRAPPED_KEY_SIZE",
    "SIGN_IN_SALT_LEN",
    "derive_sign_in_keys",
    "is_device_wrapped_key",
    "keep_on_server",
    "read_kept_on_server",
    "sign_in_verifier",
    "stand_in_salt",
    "unwrap_for_device",
    "wrap_for_device",
]

# Shred wraps (docs/crypto.md 5.10): stored values under a key of the shred key store.
__all__ += ["SHRED_HANDLE_SIZE", "SHRED_KEY_SIZE", "shred_unwrap", "shred_wrap"]

# The shapes the server checks on what an end-to-end client sends (docs/crypto.md 7.1).
__all__ += ["SEALED_KEY_SIZE", "is_item_of_size", "is_sealed_key", "item_size"]

# Files a client encrypts and uploads in chunks (docs/crypto.md 7.2): the stream's arithmetic, and
# what the server can check of a client's envelopes without a key.
from .streams import (  # noqa: E402 - grouped with what it is for
    FINAL_CHUNK_MIN_BYTES,
    STREAM_CHUNK_BYTES,
    STREAM_HEADER_BYTES,
    UPLOAD_CHUNK_DIGEST_BYTES,
    is_authored_stream_header,
    stream_chunk_bytes,
    stream_chunk_count,
    stream_chunk_offset,
    stream_ciphertext_size,
    stream_plaintext_range,
    upload_chunk_digest,
)

__all__ += [
    "FINAL_CHUNK_MIN_BYTES",
    "STREAM_CHUNK_BYTES",
    "STREAM_HEADER_BYTES",
    "UPLOAD_CHUNK_DIGEST_BYTES",
    "is_authored_stream_header",
    "stream_chunk_bytes",
    "stream_chunk_count",
    "stream_chunk_offset",
    "stream_ciphertext_size",
    "stream_plaintext_range",
    "upload_chunk_digest",
]

# Argon2id work bounded per process (whistle.crypto.keys): the slots every derivation takes.
from .errors import KdfBusy  # noqa: E402 - grouped with what it is for
from .keys import KdfBounds, KdfCounts, argon2id_bounds, argon2id_counts, bound_argon2id, kdf_slot  # noqa: E402 - grouped with what it is for

__all__ += ["KdfBounds", "KdfBusy", "KdfCounts", "argon2id_bounds", "argon2id_counts", "bound_argon2id", "kdf_slot"]

# Proof of work on the report form (docs/crypto.md 6.15).
from .work import Challenge, check_proof, new_challenge, solve, solves, work_key  # noqa: E402 - grouped with what it is for

__all__ += ["Challenge", "check_proof", "new_challenge", "solve", "solves", "work_key"]
