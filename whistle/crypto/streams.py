"""Attachments: crypto_secretstream in fixed-size chunks, so memory stays flat and truncation shows."""
from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from nacl import bindings
from nacl import exceptions as nacl_exceptions

from . import envelopes
from .errors import CryptoError, DecryptionFailed
from .keys import KeyPair

# Layout (docs/crypto.md 5.3):
#   0      version (0x02; 0x01 before the author was bound)   1
#   1      type (0x03)         1
#   2      sealed file key     80   crypto_box_seal(file_key, public_key)
#   82     secretstream header 24
#   106    chunks: every chunk but the last is CHUNK_SIZE plaintext bytes with TAG_MESSAGE;
#          the last holds the rest (0..CHUNK_SIZE-1 bytes) padded to 256 with TAG_FINAL.
CHUNK_SIZE = 64 * 1024

_HEADER = envelopes.header(envelopes.TYPE_STREAM, envelopes.AUTHORED_VERSION)
_READS = (envelopes.AUTHORED_VERSION, envelopes.VERSION)
_SEALED_AT = envelopes.HEADER_LEN
_STREAM_HEADER_AT = _SEALED_AT + envelopes.SEALED_KEY_LEN
_HEADER_LEN = _STREAM_HEADER_AT + bindings.crypto_secretstream_xchacha20poly1305_HEADERBYTES
_CHUNK_OVERHEAD = bindings.crypto_secretstream_xchacha20poly1305_ABYTES  # 17
_CIPHER_CHUNK_SIZE = CHUNK_SIZE + _CHUNK_OVERHEAD
_TAG_MESSAGE = bindings.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
_TAG_FINAL = bindings.crypto_secretstream_xchacha20poly1305_TAG_FINAL


class StreamEncryptor:
    """Encrypt an attachment piece by piece: write `header`, then every `push()`, then `finish()`."""

    def __init__(self, public_key: bytes, *, case: str, author: str, kind: str = "attachment"):
        public_key = envelopes.check_public_key(public_key)
        context = envelopes.context(case, kind, author)
        file_key = bindings.randombytes(bindings.crypto_secretstream_xchacha20poly1305_KEYBYTES)
        self._state = bindings.crypto_secretstream_xchacha20poly1305_state()
        stream_header = bindings.crypto_secretstream_xchacha20poly1305_init_push(self._state, file_key)
        self.header = _HEADER + envelopes.seal_key(file_key, public_key) + stream_header
        # Every chunk carries the same associated data: the whole envelope header plus the
        # case, kind and author, so a stream moved to another case or kind, or credited to
        # someone else, fails on its first chunk.
        self._ad = self.header + context
        self._buffer = bytearray()
        self._finished = False

    def push(self, data: bytes) -> bytes:
        """Take any amount of plaintext; return the ciphertext of each chunk it completes."""
        if self._finished:
            raise CryptoError("stream already finished")
        # Only full chunks leave here; whatever remains (< CHUNK_SIZE) waits for more data
        # or for finish(), so the final chunk is the only short one. Full chunks are encrypted
        # straight from `data` (one copy of each into bytes, which the binding wants; none for a
        # piece that is one whole chunk), never through the buffer.
        view = memoryview(data)
        out = []
        if self._buffer:
            taken = CHUNK_SIZE - len(self._buffer)
            self._buffer += view[:taken]
            view = view[taken:]
            if len(self._buffer) < CHUNK_SIZE:
                return b""
            out.append(self._push(bytes(self._buffer), _TAG_MESSAGE))
            self._buffer.clear()
        while len(view) >= CHUNK_SIZE:
            whole = type(data) is bytes and len(view) == len(data) == CHUNK_SIZE
            out.append(self._push(data if whole else bytes(view[:CHUNK_SIZE]), _TAG_MESSAGE))
            view = view[CHUNK_SIZE:]
        self._buffer += view
        return b"".join(out)

    def finish(self) -> bytes:
        """Encrypt what is buffered (possibly nothing) as the final chunk, tagged TAG_FINAL."""
        if self._finished:
            raise CryptoError("stream already finished")
        self._finished = True
        # Padding the last chunk hides the exact file size to within 256 bytes.
        last = envelopes.pad(bytes(self._buffer))
        self._buffer.clear()
        return self._push(last, _TAG_FINAL)

    def _push(self, chunk: bytes, tag: int) -> bytes:
        return bindings.crypto_secretstream_xchacha20poly1305_push(self._state, chunk, self._ad, tag)


def _read_exact(source: BinaryIO, size: int) -> bytes:
    # Raw and socket-like streams may return fewer bytes than asked before EOF.
    parts = []
    remaining = size
    while remaining:
        part = source.read(remaining)
        if not part:
            break
        parts.append(part)
        remaining -= len(part)
    return b"".join(parts)


def decrypt_stream(
    keypair: KeyPair, source: BinaryIO, *, case: str, author: str, kind: str = "attachment"
) -> Iterator[bytes]:
    """Yield the plaintext of the stream in `source`, one chunk at a time.

    Every chunk is authenticated before it is yielded, but whether the stream is complete is
    known only at the end: a caller that acts on the plaintext (rather than just relaying it)
    must consume the whole iterator before trusting any of it. `author` is checked as in
    decrypt_item (not for a version-1 stream, written before authors were bound).
    """
    head = _read_exact(source, _HEADER_LEN)
    version = envelopes.check_header(head, envelopes.TYPE_STREAM, _READS)
    context = envelopes.context(case, kind, author if version == envelopes.AUTHORED_VERSION else None)
    if len(head) < _HEADER_LEN:
        raise DecryptionFailed("stream envelope too short")
    file_key = envelopes.unseal_key(head[_SEALED_AT:_STREAM_HEADER_AT], keypair.public, keypair.private)
    state = bindings.crypto_secretstream_xchacha20poly1305_state()
    try:
        bindings.crypto_secretstream_xchacha20poly1305_init_pull(state, head[_STREAM_HEADER_AT:], file_key)
    except nacl_exceptions.CryptoError:
        raise DecryptionFailed("bad stream header") from None
    ad = head + context

    while True:
        chunk = _read_exact(source, _CIPHER_CHUNK_SIZE)
        if not chunk:
            raise DecryptionFailed("stream truncated: no final chunk")
        try:
            plaintext, tag = bindings.crypto_secretstream_xchacha20poly1305_pull(state, chunk, ad)
        except nacl_exceptions.CryptoError:
            raise DecryptionFailed("stream chunk failed authentication") from None
        if tag == _TAG_FINAL:
            if source.read(1):
                raise DecryptionFailed("data after the final chunk")
            last = envelopes.unpad(plaintext)
            if last:
                yield last
            return
        # We only ever write MESSAGE and FINAL tags, and only full-size MESSAGE chunks.
        if tag != _TAG_MESSAGE or len(plaintext) != CHUNK_SIZE:
            raise DecryptionFailed("unexpected stream chunk")
        yield plaintext


# --- a stream's size, chunk by chunk (docs/crypto.md 7.2: files uploaded in chunks) ---------------
# A client that encrypts a file itself uploads the stream in the pieces it already has: the header
# (upload chunk 0), each full secretstream chunk, and the final one. These give the server the
# arithmetic to check such an upload without any key.
STREAM_HEADER_BYTES = _HEADER_LEN  # 106
STREAM_CHUNK_BYTES = _CIPHER_CHUNK_SIZE  # 65553: 65536 plaintext bytes + 17
FINAL_CHUNK_MIN_BYTES = envelopes.PAD_BLOCK + _CHUNK_OVERHEAD  # 273: an empty rest, padded


def stream_chunk_count(size: int) -> int:
    """Upload chunks of the stream of a `size`-byte file: the header, one per full 64 KiB block,
    and the final chunk (`streamChunkCount` in whistle/static/js/crypto.js)."""
    return 2 + size // CHUNK_SIZE


def stream_ciphertext_size(size: int) -> int:
    """Bytes of the stream envelope of a `size`-byte file (`streamCiphertextSize`)."""
    full, rest = divmod(size, CHUNK_SIZE)
    return (STREAM_HEADER_BYTES + full * STREAM_CHUNK_BYTES
            + envelopes.PAD_BLOCK * (rest // envelopes.PAD_BLOCK + 1) + _CHUNK_OVERHEAD)


def stream_plaintext_range(chunks: int, total: int) -> tuple[int, int] | None:
    """The smallest and largest file size whose stream has `chunks` upload chunks and `total`
    bytes (the padding hides the rest to within 256 bytes), or None when no file has both."""
    if chunks < 2:
        return None
    last = total - STREAM_HEADER_BYTES - (chunks - 2) * STREAM_CHUNK_BYTES
    if not FINAL_CHUNK_MIN_BYTES <= last <= STREAM_CHUNK_BYTES or (last - _CHUNK_OVERHEAD) % envelopes.PAD_BLOCK:
        return None
    smallest = (chunks - 2) * CHUNK_SIZE + (last - _CHUNK_OVERHEAD - envelopes.PAD_BLOCK)
    return smallest, smallest + envelopes.PAD_BLOCK - 1


def stream_chunk_bytes(index: int, chunks: int, total: int) -> int:
    """The length upload chunk `index` of a consistent (`chunks`, `total`) must have."""
    if not 0 <= index < chunks:
        raise ValueError("no such chunk")
    if index == 0:
        return STREAM_HEADER_BYTES
    if index < chunks - 1:
        return STREAM_CHUNK_BYTES
    return total - STREAM_HEADER_BYTES - (chunks - 2) * STREAM_CHUNK_BYTES


def stream_chunk_offset(index: int) -> int:
    """Where upload chunk `index` starts in the stream envelope."""
    return 0 if index == 0 else STREAM_HEADER_BYTES + (index - 1) * STREAM_CHUNK_BYTES


_PERSON_UPLOAD_CHUNK = b"whistle-upchunk"
UPLOAD_CHUNK_DIGEST_BYTES = 32


def upload_chunk_digest(chunk: bytes) -> bytes:
    """BLAKE2b-256 of an upload chunk's ciphertext (docs/crypto.md 7.2), which the server records with
    the chunk: a resend is compared with it, and the staged file is checked against it at the end.
    Not secret and not a MAC: it finds bytes lost or changed on the server's disk, not forgeries."""
    return envelopes.blake2b(chunk, size=UPLOAD_CHUNK_DIGEST_BYTES, person=_PERSON_UPLOAD_CHUNK)


def is_authored_stream_header(head: bytes) -> bool:
    """Whether `head` starts like a stream envelope of version 2 (5.3): the one check the server can
    make of a client's stream without its key."""
    return head[:envelopes.HEADER_LEN] == _HEADER

