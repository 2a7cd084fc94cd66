"""The organisation's Ed25519 key: signing and verifying the key directory, its fingerprint.

docs/crypto.md 6.9 and 6.10. The private half is a 32-byte seed kept in a small text file,
ideally offline; the public half is in another file the deployment names. Neither is ever
read from the database.
"""
from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass, field
from pathlib import Path

from nacl import bindings
from nacl import exceptions as nacl_exceptions

from . import codes, envelopes
from .errors import BadSignature

SEED_LEN = bindings.crypto_sign_SEEDBYTES  # 32
PUBLIC_KEY_LEN = bindings.crypto_sign_PUBLICKEYBYTES  # 32
SIGNATURE_LEN = bindings.crypto_sign_BYTES  # 64
FINGERPRINT_CHARS = 32  # 160 bits, 5 per character

# Prefixed to the document before signing, so a directory signature can never be taken for a
# signature over anything else the key might one day sign.
DIRECTORY_SIGNING_PREFIX = b"whistle-key-directory\x00"
_PERSON_FINGERPRINT = b"whistle-org-fp"
_FINGERPRINT_LEN = 20

# The one line that carries the key in each file; everything else is comment.
_SEED_LABEL = "ed25519-seed:"
_PUBLIC_LABEL = "ed25519-public-key:"


@dataclass(frozen=True)
class SigningKey:
    """The organisation's Ed25519 signing key; the seed is kept out of repr() and logs."""

    seed: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.seed, bytes) or len(self.seed) != SEED_LEN:
            raise ValueError("an Ed25519 seed is 32 bytes")

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(bindings.randombytes(SEED_LEN))

    @property
    def public_key(self) -> bytes:
        public, _ = bindings.crypto_sign_seed_keypair(self.seed)
        return public

    def file_text(self) -> str:
        """The signing key file's content (docs/crypto.md 6.9)."""
        return (
            "# whistle organisation signing key (Ed25519 seed). Whoever holds this file can sign\n"
            "# a key directory: keep it offline. Its public key's fingerprint:\n"
            f"# {fingerprint(self.public_key)}\n"
            f"{_SEED_LABEL} {base64.b64encode(self.seed).decode('ascii')}\n"
        )

    @classmethod
    def from_file_text(cls, text: str) -> SigningKey:
        return cls(_read_key_line(text, _SEED_LABEL, SEED_LEN))

    def write(self, path: str | os.PathLike[str]) -> None:
        """Write the key file, readable by its owner only; refuse to replace an existing file."""
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(self.file_text())

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> SigningKey:
        return cls.from_file_text(Path(path).read_text(encoding="utf-8"))


def public_key_file_text(public_key: bytes) -> str:
    """The public key file's content (docs/crypto.md 6.9)."""
    public_key = _check_public_key(public_key)
    return (
        "# whistle organisation public key (Ed25519): verifies the signed key directory.\n"
        f"# Fingerprint: {fingerprint(public_key)}\n"
        f"{_PUBLIC_LABEL} {base64.b64encode(public_key).decode('ascii')}\n"
    )


def read_public_key_text(text: str) -> bytes:
    return _read_key_line(text, _PUBLIC_LABEL, PUBLIC_KEY_LEN)


def sign_directory(document: bytes, signing_key: SigningKey) -> bytes:
    """The 64-byte Ed25519 signature of a key directory document (its canonical JSON bytes)."""
    document = envelopes.as_bytes(document)
    _, secret = bindings.crypto_sign_seed_keypair(signing_key.seed)
    signed = bindings.crypto_sign(DIRECTORY_SIGNING_PREFIX + document, secret)
    return signed[:SIGNATURE_LEN]


def verify_directory(document: bytes, signature: bytes, public_key: bytes) -> None:
    """Return if `signature` is the organisation's over `document`; raise BadSignature if not."""
    document = envelopes.as_bytes(document)
    signature = envelopes.as_bytes(signature)
    public_key = _check_public_key(public_key)
    if len(signature) != SIGNATURE_LEN:
        raise BadSignature("a signature is 64 bytes")
    try:
        bindings.crypto_sign_open(signature + DIRECTORY_SIGNING_PREFIX + document, public_key)
    except nacl_exceptions.CryptoError:
        raise BadSignature("the key directory's signature does not verify") from None


def fingerprint(public_key: bytes) -> str:
    """BLAKE2b-160 of the public key in Crockford base32, groups of four: "WH7K-Q2MD-...".

    What the organisation publishes on its own website, so people can check the key."""
    public_key = _check_public_key(public_key)
    digest = envelopes.blake2b(public_key, size=_FINGERPRINT_LEN, person=_PERSON_FINGERPRINT)
    return codes.group(codes.encode_bits(digest))


def normalise_fingerprint(text: str) -> str | None:
    """The grouped form of a fingerprint a person typed or pasted, or None if it is not one."""
    return codes.normalise_code(text, FINGERPRINT_CHARS)


def _check_public_key(public_key: bytes) -> bytes:
    public_key = envelopes.as_bytes(public_key)
    if len(public_key) != PUBLIC_KEY_LEN:
        raise ValueError("an Ed25519 public key is 32 bytes")
    return public_key


def _read_key_line(text: str, label: str, size: int) -> bytes:
    lines = [line.strip() for line in text.splitlines()]
    values = [line for line in lines if line and not line.startswith("#")]
    if len(values) != 1 or not values[0].startswith(label):
        # Never echo the content: it may be a key.
        raise ValueError(f"the key file must hold one line starting with {label!r}")
    try:
        key = base64.b64decode(values[0][len(label) :].strip(), validate=True)
    except binascii.Error:
        raise ValueError("the key in the key file is not base64") from None
    if len(key) != size:
        raise ValueError(f"the key in the key file must be {size} bytes")
    return key
