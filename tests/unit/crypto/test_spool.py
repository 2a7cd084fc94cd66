"""The request-body spool: ciphertext on disk under a key that lives only in memory."""
from __future__ import annotations

import io
import os
import tempfile

import pytest

from whistle.crypto import DecryptionFailed, SpoolDecryptor, SpoolEncryptor
from whistle.crypto.spool import SPOOL_CHUNK


@pytest.mark.parametrize("size", [0, 1, SPOOL_CHUNK - 1, SPOOL_CHUNK, SPOOL_CHUNK + 1, 3 * SPOOL_CHUNK + 17])
def test_round_trip_in_odd_pieces(size):
    data = os.urandom(size)
    sink = io.BytesIO()
    spool = SpoolEncryptor(sink)
    for start in range(0, size, 1000):
        spool.write(data[start:start + 1000])
    reader = spool.reader()
    assert reader.read() == data


def test_the_file_holds_no_plaintext_and_readline_works():
    marker = b"PLAINTEXT-MARKER-" * 10000
    with tempfile.TemporaryFile() as sink:
        spool = SpoolEncryptor(sink)
        spool.write(b"first line\n" + marker)
        sink.flush()
        sink.seek(0)
        assert b"PLAINTEXT-MARKER" not in sink.read()
        reader = spool.reader()
        assert reader.readline() == b"first line\n"
        assert reader.read() == marker


def test_tampering_and_truncation_are_detected():
    sink = io.BytesIO()
    spool = SpoolEncryptor(sink)
    spool.write(os.urandom(2 * SPOOL_CHUNK))
    spool.finish()
    good = sink.getvalue()
    key = spool._key

    assert len(io.BufferedReader(SpoolDecryptor(io.BytesIO(good), key)).read()) == 2 * SPOOL_CHUNK
    tampered = bytearray(good)
    tampered[100] ^= 1
    for broken in (bytes(tampered), good[:-20], good[: 24 + SPOOL_CHUNK + 17]):
        with pytest.raises(DecryptionFailed):
            io.BufferedReader(SpoolDecryptor(io.BytesIO(broken), key)).read()
    with pytest.raises(DecryptionFailed):  # another spool's key
        io.BufferedReader(SpoolDecryptor(io.BytesIO(good), os.urandom(32))).read()
