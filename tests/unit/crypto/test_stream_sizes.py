"""The stream's size arithmetic (docs/crypto.md 7.2) against what StreamEncryptor writes."""
from __future__ import annotations

import hashlib

import pytest

from whistle import crypto

SIZES = [0, 1, 255, 256, 257, 65279, 65280, 65535, 65536, 65537, 2 * 65536 - 1, 2 * 65536, 3 * 65536 + 4000]


def upload_chunks(size: int) -> list[bytes]:
    """The stream of a `size`-byte file in its upload chunks: header, each full chunk, the final one."""
    encryptor = crypto.StreamEncryptor(crypto.KeyPair.generate().public, case="C-1", author="reporter")
    chunks = [encryptor.header]
    for _ in range(size // crypto.CHUNK_SIZE):
        chunks.append(encryptor.push(b"x" * crypto.CHUNK_SIZE))
    chunks.append(encryptor.push(b"x" * (size % crypto.CHUNK_SIZE)) + encryptor.finish())
    return chunks


@pytest.mark.parametrize("size", SIZES)
def test_count_size_offsets_and_lengths_are_those_of_the_encryptor(size):
    chunks = upload_chunks(size)
    count, total = crypto.stream_chunk_count(size), crypto.stream_ciphertext_size(size)
    assert (count, total) == (len(chunks), sum(map(len, chunks)))
    assert [crypto.stream_chunk_bytes(i, count, total) for i in range(count)] == [len(c) for c in chunks]
    assert [crypto.stream_chunk_offset(i) for i in range(count)] == [sum(map(len, chunks[:i])) for i in range(count)]
    smallest, largest = crypto.stream_plaintext_range(count, total)
    assert smallest <= size <= largest and largest - smallest == 255 and smallest % 256 == 0
    assert crypto.is_authored_stream_header(chunks[0])


def test_shapes_no_file_has_are_refused():
    empty = crypto.stream_ciphertext_size(0)
    assert crypto.stream_plaintext_range(2, empty) == (0, 255)
    for chunks, total in [(1, empty), (0, 0), (2, empty - 1), (2, empty + 1), (2, empty + 65536), (3, empty),
                          (2, 106 + 65553 + 256), (-5, -1)]:
        assert crypto.stream_plaintext_range(chunks, total) is None, (chunks, total)
    with pytest.raises(ValueError):
        crypto.stream_chunk_bytes(2, 2, empty)


def test_the_item_shape_check():
    public = crypto.KeyPair.generate().public
    item = crypto.encrypt_item(public, b"x" * 300, case="C-1", kind="attachment-meta", author="reporter")
    assert len(item) == crypto.item_size(300)
    assert crypto.is_item_of_size(item, 300)
    assert crypto.is_item_of_size(item, 511)
    assert not crypto.is_item_of_size(item, 255), "longer than that plaintext allows"
    assert not crypto.is_item_of_size(item[:-1], 4096), "not a length the layout gives"
    assert not crypto.is_item_of_size(b"\x01" + item[1:], 4096), "version 1: author unbound"
    assert not crypto.is_item_of_size(item[:300], 4096)


def test_an_upload_chunk_s_digest_is_the_documented_blake2b():
    chunk = upload_chunks(1000)[1]
    # docs/crypto.md 7.2: BLAKE2b-256, no key, person "whistle-upchunk" (zero-padded to 16 bytes).
    documented = hashlib.blake2b(chunk, digest_size=32, person=b"whistle-upchunk").digest()
    assert crypto.upload_chunk_digest(chunk) == documented
    assert crypto.upload_chunk_digest(chunk) != crypto.upload_chunk_digest(chunk[:-1] + bytes([chunk[-1] ^ 1]))
