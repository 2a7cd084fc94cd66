"""Spooling a request body to a temporary file as ciphertext under a key that never leaves memory.

Not a storage format: the key is random per spool and dies with the request, so what reaches
the disk is unreadable the moment the request ends (and even while it runs, without the key).
"""
from __future__ import annotations

import io
from typing import BinaryIO

from nacl import bindings
from nacl import exceptions as nacl_exceptions

from .errors import CryptoError, DecryptionFailed

SPOOL_CHUNK = 64 * 1024
_ABYTES = bindings.crypto_secretstream_xchacha20poly1305_ABYTES
_HEADER_BYTES = bindings.crypto_secretstream_xchacha20poly1305_HEADERBYTES
_TAG_MESSAGE = bindings.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
_TAG_FINAL = bindings.crypto_secretstream_xchacha20poly1305_TAG_FINAL


class SpoolEncryptor:
    """Write plaintext of any length to `sink` as secretstream chunks; `reader()` reads it back.

    Every chunk but the last holds SPOOL_CHUNK plaintext bytes; the last (possibly empty) is
    tagged FINAL, so a truncated or reordered spool fails to read instead of reading short.
    """

    def __init__(self, sink: BinaryIO) -> None:
        self._sink = sink
        self._key = bindings.randombytes(bindings.crypto_secretstream_xchacha20poly1305_KEYBYTES)
        self._state = bindings.crypto_secretstream_xchacha20poly1305_state()
        sink.write(bindings.crypto_secretstream_xchacha20poly1305_init_push(self._state, self._key))
        self._buffer = bytearray()
        self._finished = False

    def write(self, data: bytes) -> None:
        if self._finished:
            raise CryptoError("spool already finished")
        self._buffer += data
        offset = 0
        while len(self._buffer) - offset >= SPOOL_CHUNK:
            self._push(bytes(self._buffer[offset : offset + SPOOL_CHUNK]), _TAG_MESSAGE)
            offset += SPOOL_CHUNK
        del self._buffer[:offset]

    def finish(self) -> None:
        if not self._finished:
            self._push(bytes(self._buffer), _TAG_FINAL)
            self._buffer.clear()
            self._finished = True

    def _push(self, chunk: bytes, tag: int) -> None:
        self._sink.write(bindings.crypto_secretstream_xchacha20poly1305_push(self._state, chunk, None, tag))

    def reader(self) -> io.BufferedReader:
        """Finish writing and return a buffered reader of the plaintext from the spool's start."""
        self.finish()
        self._sink.flush()
        self._sink.seek(0)
        return io.BufferedReader(SpoolDecryptor(self._sink, self._key), buffer_size=SPOOL_CHUNK)


class SpoolDecryptor(io.RawIOBase):
    """The plaintext of a spool, read sequentially, one authenticated chunk at a time."""

    def __init__(self, source: BinaryIO, key: bytes) -> None:
        self._source = source
        self._state = bindings.crypto_secretstream_xchacha20poly1305_state()
        header = source.read(_HEADER_BYTES)
        try:
            bindings.crypto_secretstream_xchacha20poly1305_init_pull(self._state, header, key)
        except (nacl_exceptions.CryptoError, ValueError):
            raise DecryptionFailed("bad spool header") from None
        self._pending = b""
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, target) -> int:
        while not self._pending and not self._done:
            chunk = self._source.read(SPOOL_CHUNK + _ABYTES)
            if not chunk:
                raise DecryptionFailed("spool truncated")
            try:
                plaintext, tag = bindings.crypto_secretstream_xchacha20poly1305_pull(self._state, chunk, None)
            except nacl_exceptions.CryptoError:
                raise DecryptionFailed("spool chunk failed authentication") from None
            self._pending = plaintext
            self._done = tag == _TAG_FINAL
        size = min(len(target), len(self._pending))
        target[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size

    def close(self) -> None:
        try:
            self._source.close()
        finally:
            super().close()
