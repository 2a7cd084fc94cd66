"""Attachments: chunked secretstream round trips, truncation, reordering, tamper."""
import io

import pytest

from whistle.crypto import (
    CHUNK_SIZE,
    CryptoError,
    DecryptionFailed,
    KeyPair,
    StreamEncryptor,
    UnsupportedVersion,
    decrypt_stream,
)

KEYPAIR = KeyPair.generate()
AUTHOR = "reporter"
HEADER_LEN = 106
FULL_CHUNK = CHUNK_SIZE + 17


def encrypt(data: bytes, *, case="c-1", kind="attachment", pieces=None) -> bytes:
    encryptor = StreamEncryptor(KEYPAIR.public, case=case, kind=kind, author=AUTHOR)
    out = [encryptor.header]
    step = pieces or max(len(data), 1)
    for start in range(0, len(data), step):
        out.append(encryptor.push(data[start : start + step]))
    out.append(encryptor.finish())
    return b"".join(out)


def decrypt(blob: bytes, *, case="c-1", kind="attachment", keypair=KEYPAIR, author=AUTHOR) -> bytes:
    return b"".join(decrypt_stream(keypair, io.BytesIO(blob), case=case, kind=kind, author=author))


def payload(size: int) -> bytes:
    return bytes(i % 251 for i in range(size))


def test_chunk_size_is_64_kib():
    assert CHUNK_SIZE == 65536


@pytest.mark.parametrize(
    "size", [0, 1, 255, 256, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 2 * CHUNK_SIZE, 2 * CHUNK_SIZE + 5]
)
def test_round_trip_sizes(size):
    data = payload(size)
    blob = encrypt(data)
    assert blob[:2] == b"\x02\x03"  # version 2: the author is bound
    assert decrypt(blob) == data
    full_chunks = size // CHUNK_SIZE
    last = 256 * ((size % CHUNK_SIZE) // 256 + 1)
    assert len(blob) == HEADER_LEN + full_chunks * FULL_CHUNK + last + 17


@pytest.mark.parametrize("pieces", [1, 7, 1000, CHUNK_SIZE - 3, CHUNK_SIZE, CHUNK_SIZE + 3, 3 * CHUNK_SIZE + 1])
def test_push_in_pieces_of_any_size(pieces):
    data = payload(2 * CHUNK_SIZE + 100) if pieces > 1 else payload(3000)
    assert decrypt(encrypt(data, pieces=pieces)) == data


def test_push_emits_whole_chunks_only():
    encryptor = StreamEncryptor(KEYPAIR.public, case="c", author=AUTHOR)
    assert encryptor.push(b"x" * (CHUNK_SIZE - 1)) == b""
    assert len(encryptor.push(b"xx")) == FULL_CHUNK
    assert len(encryptor.push(b"x" * (2 * CHUNK_SIZE))) == 2 * FULL_CHUNK
    assert len(encryptor.finish()) == 256 + 17


def test_decrypt_yields_chunk_by_chunk():
    # Flat memory: nothing bigger than a chunk is ever produced at once.
    chunks = list(decrypt_stream(KEYPAIR, io.BytesIO(encrypt(payload(3 * CHUNK_SIZE + 10))), case="c-1", author=AUTHOR))
    assert [len(c) for c in chunks] == [CHUNK_SIZE, CHUNK_SIZE, CHUNK_SIZE, 10]


def test_push_after_finish_is_an_error():
    encryptor = StreamEncryptor(KEYPAIR.public, case="c", author=AUTHOR)
    encryptor.finish()
    with pytest.raises(CryptoError):
        encryptor.push(b"x")
    with pytest.raises(CryptoError):
        encryptor.finish()


def test_wrong_key_fails():
    with pytest.raises(DecryptionFailed):
        decrypt(encrypt(b"data"), keypair=KeyPair.generate())


def test_wrong_case_fails():
    with pytest.raises(DecryptionFailed):
        decrypt(encrypt(b"data", case="case-1"), case="case-2")


def test_wrong_kind_fails():
    with pytest.raises(DecryptionFailed):
        decrypt(encrypt(b"data", kind="attachment"), kind="evidence")


def test_unknown_version_is_unsupported():
    blob = encrypt(b"data")
    with pytest.raises(UnsupportedVersion):
        decrypt(b"\x09" + blob[1:])


def test_small_stream_every_byte_flip_fails():
    blob = encrypt(b"tiny")
    for position in range(len(blob)):
        for mask in (0x01, 0x80):
            tampered = bytearray(blob)
            tampered[position] ^= mask
            with pytest.raises(DecryptionFailed):
                decrypt(bytes(tampered))


def test_small_stream_every_truncation_fails():
    blob = encrypt(b"tiny")
    for length in range(len(blob)):
        with pytest.raises(DecryptionFailed):
            decrypt(blob[:length])


def split(blob: bytes) -> tuple[bytes, list[bytes]]:
    body = blob[HEADER_LEN:]
    return blob[:HEADER_LEN], [body[i : i + FULL_CHUNK] for i in range(0, len(body), FULL_CHUNK)]


MULTI = encrypt(payload(3 * CHUNK_SIZE + 1000))


def test_multi_chunk_dropping_the_last_chunk_fails():
    header, chunks = split(MULTI)
    assert len(chunks) == 4
    with pytest.raises(DecryptionFailed):
        decrypt(header + b"".join(chunks[:-1]))


def test_multi_chunk_dropping_a_middle_chunk_fails():
    header, chunks = split(MULTI)
    with pytest.raises(DecryptionFailed):
        decrypt(header + chunks[0] + b"".join(chunks[2:]))


def test_multi_chunk_reordering_fails():
    header, chunks = split(MULTI)
    with pytest.raises(DecryptionFailed):
        decrypt(header + chunks[1] + chunks[0] + b"".join(chunks[2:]))


def test_multi_chunk_duplicating_a_chunk_fails():
    header, chunks = split(MULTI)
    with pytest.raises(DecryptionFailed):
        decrypt(header + chunks[0] + b"".join(chunks))


@pytest.mark.parametrize("extra", [b"\x00", b"x" * 17, b"x" * FULL_CHUNK])
def test_appending_data_fails(extra):
    with pytest.raises(DecryptionFailed):
        decrypt(MULTI + extra)
    with pytest.raises(DecryptionFailed):
        decrypt(encrypt(b"tiny") + extra)


def test_appending_a_chunk_of_another_stream_fails():
    other_header, other_chunks = split(encrypt(payload(10)))
    with pytest.raises(DecryptionFailed):
        decrypt(MULTI + other_chunks[-1])


def test_splicing_chunks_between_streams_fails():
    header, chunks = split(MULTI)
    _, other_chunks = split(encrypt(payload(3 * CHUNK_SIZE + 1000)))
    with pytest.raises(DecryptionFailed):
        decrypt(header + chunks[0] + other_chunks[1] + b"".join(chunks[2:]))


def test_multi_chunk_truncation_near_every_boundary_fails():
    # Every length would be ~200k decryptions; the boundaries, their neighbours and a
    # stride through the rest cover every distinct code path.
    lengths = set(range(0, len(MULTI), 4099))
    for boundary in [HEADER_LEN + n * FULL_CHUNK for n in range(5)] + [len(MULTI)]:
        lengths.update(range(boundary - 18, boundary + 18))
    for length in sorted(x for x in lengths if 0 <= x < len(MULTI)):
        with pytest.raises(DecryptionFailed):
            decrypt(MULTI[:length])


def test_multi_chunk_byte_flips_fail():
    positions = set(range(0, len(MULTI), 1031))
    for boundary in [HEADER_LEN + n * FULL_CHUNK for n in range(4)] + [len(MULTI)]:
        positions.update(range(boundary - 18, boundary + 18))
    for position in sorted(p for p in positions if 0 <= p < len(MULTI)):
        tampered = bytearray(MULTI)
        tampered[position] ^= 0x01
        with pytest.raises(DecryptionFailed):
            decrypt(bytes(tampered))


class Trickle(io.RawIOBase):
    """A source that returns at most 1000 bytes per read, like a socket."""

    def __init__(self, data: bytes):
        self._data = io.BytesIO(data)

    def readable(self):
        return True

    def read(self, size=-1):
        return self._data.read(min(size, 1000) if size >= 0 else 1000)


def test_short_reads_from_the_source_are_handled():
    data = payload(2 * CHUNK_SIZE + 7)
    plaintext = b"".join(decrypt_stream(KEYPAIR, Trickle(encrypt(data)), case="c-1", author=AUTHOR))
    assert plaintext == data


# --- the author, bound since version 2 -------------------------------------------------------------

def test_another_author_fails_on_the_first_chunk():
    blob = encrypt(payload(3 * CHUNK_SIZE))
    chunks = decrypt_stream(KEYPAIR, io.BytesIO(blob), case="c-1", author="guardian:7")
    with pytest.raises(DecryptionFailed):
        next(chunks)


def test_a_version_2_stream_relabelled_as_version_1_fails():
    blob = encrypt(payload(100))
    for author in (AUTHOR, "guardian:7"):
        with pytest.raises(DecryptionFailed):
            decrypt(b"\x01" + blob[1:], author=author)


def test_a_version_1_stream_still_decrypts():
    """As written before the author was bound: docs/crypto.md 5.3, version 1."""
    from nacl import bindings

    data = payload(CHUNK_SIZE + 10)
    file_key = bindings.randombytes(32)
    state = bindings.crypto_secretstream_xchacha20poly1305_state()
    head = b"\x01\x03" + bindings.crypto_box_seal(file_key, KEYPAIR.public) + \
        bindings.crypto_secretstream_xchacha20poly1305_init_push(state, file_key)
    ad = head + b"\x00\x03c-1\x00\x0aattachment"
    push = bindings.crypto_secretstream_xchacha20poly1305_push
    blob = head + push(state, data[:CHUNK_SIZE], ad, 0x00) + push(state, bindings.sodium_pad(data[CHUNK_SIZE:], 256), ad, 0x03)
    for author in ("reporter", "guardian:7"):
        assert decrypt(blob, author=author) == data
