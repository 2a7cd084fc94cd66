"""The waitress runner (`use = egg:whistle#main`): waitress, but request bodies spool as ciphertext.

Why this exists (see docs/attachments.md): waitress reads a whole request body before it calls
the application. It keeps the body in an `OverflowableBuffer` (waitress/buffers.py), which holds
it in memory up to `inbuf_overflow` bytes (512 KiB by default) and then copies it into an
unlinked `tempfile.TemporaryFile` -- so an uploaded attachment, or a long disclosure, would sit
on disk in plaintext until the request ends (and in free disk blocks after). The parser
(waitress/parser.py, `HTTPRequestParser.parse_header`) makes that buffer for both
Content-Length and chunked bodies, and hands `buffer.getfile()` to the app as `wsgi.input`.

Here the parser's buffer is replaced by `EncryptedSpoolBuffer`: the same small in-memory stage,
but past the threshold it writes secretstream ciphertext under a random key held only by the
buffer object, and `getfile()` decrypts as the application reads. Nothing else in waitress
changes, and nothing is patched globally: the channel class is set on the servers this runner
makes.
"""
from __future__ import annotations

import io
import logging
import tempfile
from typing import BinaryIO

from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.server import BaseWSGIServer, create_server

from whistle import crypto


class EncryptedSpoolBuffer:
    """The input-buffer interface waitress's receivers use (append, len, getfile, close)."""

    def __init__(self, overflow: int) -> None:
        self.overflow = overflow
        self._memory = bytearray()
        self._length = 0
        self._file: BinaryIO | None = None
        self._spool: crypto.SpoolEncryptor | None = None
        self._reader: BinaryIO | None = None

    def __len__(self) -> int:
        return self._length

    def __bool__(self) -> bool:
        return self._length > 0

    @property
    def overflowed(self) -> bool:
        return self._spool is not None

    def append(self, data: bytes) -> None:
        self._length += len(data)
        if self._spool is not None:
            self._spool.write(data)
            return
        self._memory += data
        if len(self._memory) >= self.overflow:
            self._file = tempfile.TemporaryFile("w+b")  # noqa: SIM115 - open until close(), across many append() calls
            self._spool = crypto.SpoolEncryptor(self._file)
            self._spool.write(bytes(self._memory))
            self._memory = bytearray()

    def getfile(self):
        if self._reader is None:
            self._reader = self._spool.reader() if self._spool is not None else io.BytesIO(bytes(self._memory))
        return self._reader

    def close(self) -> None:
        for handle in (self._reader, self._file):
            if handle is not None:
                handle.close()
        self._memory = bytearray()


class EncryptingRequestParser(HTTPRequestParser):
    def parse_header(self, header_plus) -> None:
        super().parse_header(header_plus)
        # The receiver was just made with an empty OverflowableBuffer; swap in ours.
        if self.body_rcv is not None:
            # types-waitress names the concrete class; the receivers use only append, len, getfile and close.
            self.body_rcv.buf = EncryptedSpoolBuffer(self.adj.inbuf_overflow)  # type: ignore[assignment]


class EncryptingChannel(HTTPChannel):
    parser_class = EncryptingRequestParser


# Responses: waitress queues what the app writes in output buffers that also spill to a
# plaintext temporary file past `outbuf_overflow` (1 MiB by default) -- a slow client reading
# a decrypted attachment would leave it on disk. The app thread blocks once the queue passes
# `outbuf_high_watermark`, so with the overflow far above the watermark a buffer never spills
# (the app writes downloads in 64 KiB chunks). These are the defaults; a configuration that
# would let a buffer spill is refused.
OUTBUF_HIGH_WATERMARK = 4 * 1024 * 1024
OUTBUF_OVERFLOW = 64 * 1024 * 1024
SPILL_MARGIN = 16 * 1024 * 1024  # the largest single write that must still stay in memory


def response_buffering(kw: dict) -> dict:
    """`kw` with output-buffer settings under which no response is ever spooled to disk."""
    kw = dict(kw)
    high = int(kw.setdefault("outbuf_high_watermark", OUTBUF_HIGH_WATERMARK))
    overflow = int(kw.setdefault("outbuf_overflow", OUTBUF_OVERFLOW))
    if overflow < high + SPILL_MARGIN:
        raise ValueError(
            f"outbuf_overflow ({overflow}) must be at least outbuf_high_watermark + {SPILL_MARGIN}: "
            "otherwise waitress writes responses (decrypted attachments) to temporary files in plaintext"
        )
    return kw


def make_server(app, **kw):
    """waitress.create_server with request bodies spooled encrypted and responses never spooled."""
    kw = response_buffering(kw)
    dispatchers: dict = {}
    server = create_server(app, map=dispatchers, **kw)
    for dispatcher in list(dispatchers.values()):
        if isinstance(dispatcher, BaseWSGIServer):
            dispatcher.channel_class = EncryptingChannel
    return server


def serve(app, global_conf=None, **kw) -> int:
    """The paste server runner: `[server:main] use = egg:whistle#main` takes waitress's options."""
    logging.basicConfig()
    server = make_server(app, **kw)
    server.print_listen("Serving on http://{}:{}")
    server.run()
    return 0
