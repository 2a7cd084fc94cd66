"""Content items: a fresh key per item, sealed to a public key; padded XChaCha20-Poly1305."""
from __future__ import annotations

from nacl import bindings

from . import envelopes
from .errors import DecryptionFailed
from .keys import KeyPair

# Layout (docs/crypto.md 5.2):
#   0      version (0x02; 0x01 before the author was bound)   1
#   1      type (0x02)      1
#   2      sealed item key  80   crypto_box_seal(item_key, public_key)
#   82     nonce            24
#   106    ciphertext       16 + a multiple of 256
_HEADER = envelopes.header(envelopes.TYPE_ITEM, envelopes.AUTHORED_VERSION)
_READS = (envelopes.AUTHORED_VERSION, envelopes.VERSION)
_SEALED_AT = envelopes.HEADER_LEN
_NONCE_AT = _SEALED_AT + envelopes.SEALED_KEY_LEN
_BODY_AT = _NONCE_AT + envelopes.NONCE_LEN
_MIN_LEN = _BODY_AT + envelopes.PAD_BLOCK + envelopes.TAG_LEN


def item_size(plaintext_len: int) -> int:
    """The length of an item envelope of `plaintext_len` bytes: 122 + 256 * (floor(n / 256) + 1)."""
    return _BODY_AT + envelopes.PAD_BLOCK * (plaintext_len // envelopes.PAD_BLOCK + 1) + envelopes.TAG_LEN


def is_item_of_size(envelope: bytes, max_plaintext: int) -> bool:
    """Whether `envelope` has the shape of an item of version 2 (docs/crypto.md 5.2) holding at most
    `max_plaintext` bytes: its header, and a length an item has. Only a key holder can tell more."""
    size = len(envelope)
    return (envelope[:envelopes.HEADER_LEN] == _HEADER and _MIN_LEN <= size <= item_size(max_plaintext)
            and (size - _BODY_AT - envelopes.TAG_LEN) % envelopes.PAD_BLOCK == 0)


def encrypt_item(public_key: bytes, plaintext: bytes, *, case: str, kind: str, author: str) -> bytes:
    """Encrypt one item of a case (a message, an answer, an identity...) to `public_key`.

    Anyone holding only the public key can add items; only the private key reads them.
    `case`, `kind` and `author` (who wrote it, e.g. "reporter" or "guardian:7") are bound in as
    associated data: the envelope will not decrypt as another case's item, as another kind of
    item, or as written by someone else.
    """
    public_key = envelopes.check_public_key(public_key)
    context = envelopes.context(case, kind, author)
    item_key = bindings.randombytes(envelopes.KEY_LEN)
    nonce = bindings.randombytes(envelopes.NONCE_LEN)
    head = _HEADER + envelopes.seal_key(item_key, public_key) + nonce
    padded = envelopes.pad(envelopes.as_bytes(plaintext))
    return head + envelopes.aead_encrypt(padded, head + context, nonce, item_key)


def decrypt_item(keypair: KeyPair, envelope: bytes, *, case: str, kind: str, author: str) -> bytes:
    """The plaintext, or DecryptionFailed, also when `author` is not who the item was written by.

    An item written before authors were bound (version 1, see `item_author_sealed`) does not
    say who wrote it: `author` is not checked for it."""
    envelope = envelopes.as_bytes(envelope)
    version = envelopes.check_header(envelope, envelopes.TYPE_ITEM, _READS)
    context = envelopes.context(case, kind, author if version == envelopes.AUTHORED_VERSION else None)
    if len(envelope) < _MIN_LEN:
        raise DecryptionFailed("item envelope too short")
    item_key = envelopes.unseal_key(envelope[_SEALED_AT:_NONCE_AT], keypair.public, keypair.private)
    nonce = envelope[_NONCE_AT:_BODY_AT]
    head = envelope[:_BODY_AT]
    padded = envelopes.aead_decrypt(envelope[_BODY_AT:], head + context, nonce, item_key)
    return envelopes.unpad(padded)


def item_author_sealed(envelope: bytes) -> bool:
    """Whether the envelope binds its author (version 2): once it has decrypted with an author,
    that author is who wrote it. False for items written before (version 1)."""
    return envelopes.as_bytes(envelope)[:1] == bytes((envelopes.AUTHORED_VERSION,))
