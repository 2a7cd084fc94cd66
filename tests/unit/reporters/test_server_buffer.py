"""The whistle waitress runner's input buffer: small bodies in memory, large ones encrypted on disk."""
from __future__ import annotations

import os

from whistle.server import EncryptedSpoolBuffer, EncryptingChannel, EncryptingRequestParser, make_server


def test_a_small_body_stays_in_memory():
    buffer = EncryptedSpoolBuffer(overflow=1024)
    buffer.append(b"hello ")
    buffer.append(b"world")
    assert len(buffer) == 11 and not buffer.overflowed
    assert buffer.getfile().read() == b"hello world"


def test_a_large_body_spills_as_ciphertext_and_reads_back():
    buffer = EncryptedSpoolBuffer(overflow=1024)
    data = b"SECRET-UPLOAD-" * 50000 + os.urandom(1000)
    for start in range(0, len(data), 8192):
        buffer.append(data[start:start + 8192])
    assert buffer.overflowed and len(buffer) == len(data)
    spooled = buffer._file
    spooled.flush()
    position = spooled.tell()
    spooled.seek(0)
    assert b"SECRET-UPLOAD-" not in spooled.read()
    spooled.seek(position)
    assert buffer.getfile().read() == data
    buffer.close()


def test_the_runner_swaps_the_parser_buffer_and_channel():
    class Adjust:
        inbuf_overflow = 10
        url_scheme = "http"
        max_request_header_size = 10000
        max_request_body_size = 10**9
        url_prefix = ""

    parser = EncryptingRequestParser(Adjust())
    data = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\n\r\n" + b"b" * 40
    while data and not parser.completed:
        data = data[parser.received(data):]
    assert parser.completed
    assert isinstance(parser.body_rcv.buf, EncryptedSpoolBuffer)
    assert parser.get_body_stream().read() == b"b" * 40

    server = make_server(lambda environ, start_response: [], listen="127.0.0.1:0", _start=False)
    try:
        assert server.channel_class is EncryptingChannel
    finally:
        server.close()


def test_response_buffers_are_set_so_they_never_spill_to_disk():
    from whistle.server import response_buffering

    settings = response_buffering({})
    assert int(settings["outbuf_overflow"]) >= int(settings["outbuf_high_watermark"]) + 16 * 1024 * 1024
    assert response_buffering({"outbuf_overflow": "134217728"})["outbuf_overflow"] == "134217728"


def test_a_configuration_that_would_spill_responses_is_refused():
    import pytest

    from whistle.server import response_buffering

    with pytest.raises(ValueError, match="plaintext"):
        response_buffering({"outbuf_overflow": "1048576"})
