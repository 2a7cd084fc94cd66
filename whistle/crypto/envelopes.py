"""Shared envelope layout (version and type bytes) and thin, typed wrappers over nacl."""
from __future__ import annotations

from nacl import bindings
from nacl import exceptions as nacl_exceptions

from .errors import CryptoError, DecryptionFailed, UnsupportedVersion

# Every envelope starts with these two bytes. Bumping the version is how the format changes;
# readers reject what they do not know instead of guessing.
VERSION = 0x01
# Items and streams written since their associated data also names who wrote them (the author);
# readers still take VERSION for those written before. The version byte is itself authenticated,
# so a version-2 envelope relabelled as version 1 does not decrypt.
AUTHORED_VERSION = 0x02

# One type byte per envelope kind, so one kind can never be fed to another's reader.
TYPE_SEALED = 0x01
TYPE_ITEM = 0x02
TYPE_STREAM = 0x03
TYPE_PASSWORD_WRAP = 0x04
TYPE_RECOVERY_WRAP = 0x05
TYPE_SESSION_WRAP = 0x06
TYPE_CARRIED = 0x07
TYPE_DEVICE_WRAP = 0x08
TYPE_SERVER_KEPT = 0x09
TYPE_SHRED_WRAP = 0x0A

HEADER_LEN = 2
KEY_LEN = 32  # X25519 keys, AEAD keys, secretstream keys
SEALED_KEY_LEN = KEY_LEN + bindings.crypto_box_SEALBYTES  # 80: a 32-byte key in a sealed box
NONCE_LEN = bindings.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES  # 24
TAG_LEN = bindings.crypto_aead_xchacha20poly1305_ietf_ABYTES  # 16
PAD_BLOCK = 256  # sodium_pad block size: ciphertext lengths reveal size only to 256 bytes

# libsodium's bounds for a BLAKE2b key (crypto_generichash_KEYBYTES_MIN/MAX).
MIN_SECRET_KEY_LEN = bindings.crypto_generichash_KEYBYTES_MIN  # 16
MAX_SECRET_KEY_LEN = bindings.crypto_generichash_KEYBYTES_MAX  # 64


def header(type_tag: int, version: int = VERSION) -> bytes:
    return bytes((version, type_tag))


def check_header(envelope: bytes, type_tag: int, versions: tuple[int, ...] = (VERSION,)) -> int:
    """The envelope's version; raise unless it is one of `versions` and the type is `type_tag`."""
    if len(envelope) < HEADER_LEN:
        raise DecryptionFailed("envelope too short")
    if envelope[0] not in versions:
        raise UnsupportedVersion(f"unsupported envelope version {envelope[0]}")
    if envelope[1] != type_tag:
        raise UnsupportedVersion(f"expected envelope type {type_tag}, found {envelope[1]}")
    return envelope[0]


def as_bytes(data: bytes | bytearray | memoryview) -> bytes:
    # nacl.bindings wants exactly `bytes`; accept the other buffer types callers hold.
    if isinstance(data, bytes):
        return data
    if isinstance(data, (bytearray, memoryview)):
        return bytes(data)
    raise TypeError(f"expected bytes, got {type(data).__name__}")


def check_secret_key(key: bytes, name: str) -> bytes:
    key = as_bytes(key)
    if not MIN_SECRET_KEY_LEN <= len(key) <= MAX_SECRET_KEY_LEN:
        raise ValueError(f"{name} must be {MIN_SECRET_KEY_LEN} to {MAX_SECRET_KEY_LEN} bytes")
    return key


def check_public_key(public_key: bytes) -> bytes:
    public_key = as_bytes(public_key)
    if len(public_key) != KEY_LEN:
        raise ValueError("public key must be 32 bytes")
    return public_key


def blake2b(data: bytes, *, size: int, key: bytes = b"", person: bytes) -> bytes:
    """Keyed, personalised BLAKE2b; `person` is zero-padded to 16 bytes by libsodium."""
    return bindings.crypto_generichash_blake2b_salt_personal(data, digest_size=size, key=key, person=person)


def aead_encrypt(plaintext: bytes, ad: bytes, nonce: bytes, key: bytes) -> bytes:
    try:
        return bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, ad, nonce, key)
    except nacl_exceptions.CryptoError as error:
        raise CryptoError("encryption failed") from error


def aead_decrypt(ciphertext: bytes, ad: bytes, nonce: bytes, key: bytes) -> bytes:
    try:
        return bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(ciphertext, ad, nonce, key)
    except nacl_exceptions.CryptoError:
        # `from None`: the nacl message adds nothing and the chain would only be noise.
        raise DecryptionFailed("authentication failed") from None


def seal_key(key: bytes, public_key: bytes) -> bytes:
    try:
        return bindings.crypto_box_seal(key, public_key)
    except nacl_exceptions.CryptoError as error:
        # e.g. a low-order public key: refuse rather than produce an unreadable envelope.
        raise CryptoError("cannot seal to this public key") from error


def unseal_key(sealed: bytes, public_key: bytes, private_key: bytes) -> bytes:
    try:
        return bindings.crypto_box_seal_open(sealed, public_key, private_key)
    except nacl_exceptions.CryptoError:
        raise DecryptionFailed("cannot open sealed box") from None


def pad(plaintext: bytes) -> bytes:
    return bindings.sodium_pad(plaintext, PAD_BLOCK)


def unpad(padded: bytes) -> bytes:
    try:
        return bindings.sodium_unpad(padded, PAD_BLOCK)
    except nacl_exceptions.CryptoError:
        raise DecryptionFailed("bad padding") from None


def context(case: str, kind: str, author: str | None = None) -> bytes:
    """Length-prefixed UTF-8 of case, kind and (for AUTHORED_VERSION envelopes) author, so
    ("a", "bc") and ("ab", "c") differ."""
    parts = []
    fields = (("case", case), ("kind", kind)) + ((("author", author),) if author is not None else ())
    for name, value in fields:
        if not isinstance(value, str):
            raise TypeError(f"{name} must be a str")
        encoded = value.encode("utf-8")
        if len(encoded) > 0xFFFF:
            raise ValueError(f"{name} is longer than 65535 bytes")
        parts.append(len(encoded).to_bytes(2, "big") + encoded)
    return b"".join(parts)
