"""The one place that touches cryptography: versioned envelopes over libsodium (docs/crypto.md)."""
from .carried import open_from_client, seal_for_client
from .csrf import csrf_key, csrf_token_for_browser, csrf_token_for_session, new_csrf_cookie_value
from .errors import CryptoError, DecryptionFailed, Expired, InvalidReceipt, UnsupportedVersion
from .indexes import blind_index
from .items import decrypt_item, encrypt_item, item_author_sealed
from .keys import KdfCost, KeyPair, new_secret_key, random_bytes, random_token, seal, unseal
from .passwords import (
    new_recovery_key,
    unwrap_with_password,
    unwrap_with_recovery_key,
    wrap_with_password,
    wrap_with_recovery_key,
)
from .receipts import ReporterKeys, derive_reporter_keys, new_receipt, normalise_receipt, receipt_for_submission
from .sessions import new_session_token, session_token_id, unwrap_for_session, wrap_for_session
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
    "wrap_for_session",
    "unwrap_for_session",
    # CSRF tokens (a subkey of the session key)
    "csrf_key",
    "csrf_token_for_session",
    "csrf_token_for_browser",
    "new_csrf_cookie_value",
    # short-lived values a client carries (the receipt page's cookie)
    "seal_for_client",
    "open_from_client",
    # lookups and randomness
    "blind_index",
    "random_bytes",
    "new_secret_key",
    "random_token",
]
