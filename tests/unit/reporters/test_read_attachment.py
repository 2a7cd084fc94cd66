"""Reading an attachment back for a download: what fails to verify is never passed on as the file.

A failure at the start is raised while the request can still answer; a failure further on ends
the body early (the client sees fewer bytes than the Content-Length) after calling on_cut.
"""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from whistle import crypto
from whistle.attachments.blobs import LocalBlobStore
from whistle.attachments.services import read_attachment
from whistle.cases.services import CaseKeys

KEYS = CaseKeys(case=crypto.KeyPair.generate(), team=None)
DATA = bytes(i % 251 for i in range(3 * crypto.CHUNK_SIZE + 100))
STREAM_HEADER = 106
CIPHER_CHUNK = crypto.CHUNK_SIZE + 17


@dataclass
class FakeCase:
    ref: str = "K7QMA-XHD4P"


@dataclass
class FakeAttachment:
    """A file whose blob holds its whole stream envelope (header included, as before the shred layer)."""

    blob_name: str
    header: bytes | None = None


def stored(tmp_path, data: bytes, *, change_at: int | None = None, cut_to: int | None = None) -> tuple[LocalBlobStore, str]:
    encryptor = crypto.StreamEncryptor(KEYS.case.public, case=FakeCase.ref, author="reporter")
    blob = bytearray(encryptor.header + encryptor.push(data) + encryptor.finish())
    if change_at is not None:
        blob[change_at] ^= 0x01
    store = LocalBlobStore(tmp_path)
    writer = store.writer()
    writer.write(bytes(blob[:cut_to]))
    writer.commit()
    return store, writer.name


def read(store, name, *, size, cuts: list) -> bytes:
    body = read_attachment(store, FakeCase(), KEYS, FakeAttachment(name), author="reporter", size=size,
                           on_cut=lambda: cuts.append(True))
    return b"".join(body)


def test_a_whole_file_is_read_and_nothing_is_cut(tmp_path):
    store, name = stored(tmp_path, DATA)
    cuts: list = []
    assert read(store, name, size=len(DATA), cuts=cuts) == DATA
    assert cuts == []


def test_a_chunk_changed_further_on_ends_the_body_early(tmp_path):
    store, name = stored(tmp_path, DATA, change_at=STREAM_HEADER + CIPHER_CHUNK + 500)  # in the second chunk
    cuts: list = []
    body = read(store, name, size=len(DATA), cuts=cuts)
    assert body == DATA[:crypto.CHUNK_SIZE], "only what was authenticated, and less than the Content-Length"
    assert cuts == [True]


def test_a_stream_cut_off_at_a_chunk_boundary_ends_the_body_early(tmp_path):
    store, name = stored(tmp_path, DATA, cut_to=STREAM_HEADER + 2 * CIPHER_CHUNK)
    cuts: list = []
    assert read(store, name, size=len(DATA), cuts=cuts) == DATA[:2 * crypto.CHUNK_SIZE]
    assert cuts == [True]


@pytest.mark.parametrize("size", [len(DATA) - 1, len(DATA) + 1])
def test_a_stream_of_another_size_than_its_details_is_cut(tmp_path, size):
    store, name = stored(tmp_path, DATA)
    cuts: list = []
    assert len(read(store, name, size=size, cuts=cuts)) < size
    assert cuts == [True]


def test_a_failure_in_the_first_chunk_is_raised_before_the_response_starts(tmp_path):
    store, name = stored(tmp_path, DATA, change_at=STREAM_HEADER + 10)
    with pytest.raises(crypto.DecryptionFailed):
        read_attachment(store, FakeCase(), KEYS, FakeAttachment(name), author="reporter", size=len(DATA), on_cut=pytest.fail)


def test_a_stream_credited_to_another_author_fails_before_the_response_starts(tmp_path):
    store, name = stored(tmp_path, DATA)
    with pytest.raises(crypto.DecryptionFailed):
        read_attachment(store, FakeCase(), KEYS, FakeAttachment(name), author="guardian:7", size=len(DATA), on_cut=pytest.fail)


@pytest.mark.parametrize("size", [9, 11])
def test_a_small_file_is_checked_whole_before_the_response_starts(tmp_path, size):
    store, name = stored(tmp_path, b"0123456789")
    with pytest.raises(crypto.DecryptionFailed):
        read_attachment(store, FakeCase(), KEYS, FakeAttachment(name), author="reporter", size=size, on_cut=pytest.fail)
