"""docs/crypto.md matches the code: parse and decrypt envelopes using only nacl.bindings.

Nothing here goes through whistle.crypto's helpers on the decrypting side: offsets,
associated data and padding are re-implemented from the document. If the code and the
document drift apart, these tests fail.
"""
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nacl import bindings

from whistle.crypto import (
    CHUNK_SIZE,
    DecryptionFailed,
    KdfCost,
    KeyPair,
    StreamEncryptor,
    UnsupportedVersion,
    decrypt_item,
    decrypt_stream,
    encrypt_item,
    new_recovery_key,
    new_session_token,
    seal,
    unseal,
    unwrap_for_session,
    unwrap_with_password,
    unwrap_with_recovery_key,
    wrap_for_session,
    wrap_with_password,
    wrap_with_recovery_key,
)


def doc_context(case: str, kind: str) -> bytes:
    # docs/crypto.md 5.2: u16(len(case)) || case || u16(len(kind)) || kind, UTF-8, big-endian.
    c, k = case.encode("utf-8"), kind.encode("utf-8")
    return len(c).to_bytes(2, "big") + c + len(k).to_bytes(2, "big") + k


def doc_decrypt_item(pk: bytes, sk: bytes, envelope: bytes, case: str, kind: str) -> bytes:
    assert envelope[0] == 0x01 and envelope[1] == 0x02
    item_key = bindings.crypto_box_seal_open(envelope[2:82], pk, sk)
    nonce = envelope[82:106]
    ad = envelope[0:106] + doc_context(case, kind)
    padded = bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(envelope[106:], ad, nonce, item_key)
    return bindings.sodium_unpad(padded, 256)


def doc_decrypt_stream(pk: bytes, sk: bytes, blob: bytes, case: str, kind: str) -> bytes:
    source = io.BytesIO(blob)
    head = source.read(106)
    assert head[0] == 0x01 and head[1] == 0x03
    file_key = bindings.crypto_box_seal_open(head[2:82], pk, sk)
    state = bindings.crypto_secretstream_xchacha20poly1305_state()
    bindings.crypto_secretstream_xchacha20poly1305_init_pull(state, head[82:106], file_key)
    ad = head + doc_context(case, kind)
    out = []
    while True:
        chunk = source.read(65536 + 17)
        assert chunk, "truncated"
        message, tag = bindings.crypto_secretstream_xchacha20poly1305_pull(state, chunk, ad)
        if tag == 0x03:  # TAG_FINAL
            assert source.read(1) == b""
            out.append(bindings.sodium_unpad(message, 256))
            return b"".join(out)
        assert tag == 0x00 and len(message) == 65536
        out.append(message)


def test_item_decrypts_from_the_documented_layout():
    keypair = KeyPair.generate()
    for plaintext in (b"", b"Concern: the rota is unsafe.", bytes(range(256)) * 3):
        envelope = encrypt_item(keypair.public, plaintext, case="CASE-7Q2M", kind="disclosure")
        assert len(envelope) == 122 + 256 * (len(plaintext) // 256 + 1)
        decrypted = doc_decrypt_item(keypair.public, keypair.private, envelope, "CASE-7Q2M", "disclosure")
        assert decrypted == plaintext


def test_item_written_from_the_documented_layout_decrypts_in_the_code():
    keypair = KeyPair.generate()
    item_key = bindings.randombytes(32)
    nonce = bindings.randombytes(24)
    head = b"\x01\x02" + bindings.crypto_box_seal(item_key, keypair.public) + nonce
    ad = head + doc_context("case-é", "message")
    padded = bindings.sodium_pad(b"hi", 256)
    body = bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(padded, ad, nonce, item_key)
    assert decrypt_item(keypair, head + body, case="case-é", kind="message") == b"hi"


@pytest.mark.parametrize("size", [0, 10, CHUNK_SIZE, 2 * CHUNK_SIZE + 300])
def test_stream_decrypts_from_the_documented_layout(size):
    keypair = KeyPair.generate()
    data = bytes(i % 253 for i in range(size))
    encryptor = StreamEncryptor(keypair.public, case="CASE-7Q2M")
    blob = encryptor.header + encryptor.push(data) + encryptor.finish()
    assert doc_decrypt_stream(keypair.public, keypair.private, blob, "CASE-7Q2M", "attachment") == data


def test_stream_written_from_the_documented_layout_decrypts_in_the_code():
    keypair = KeyPair.generate()
    file_key = bindings.randombytes(32)
    state = bindings.crypto_secretstream_xchacha20poly1305_state()
    stream_header = bindings.crypto_secretstream_xchacha20poly1305_init_push(state, file_key)
    head = b"\x01\x03" + bindings.crypto_box_seal(file_key, keypair.public) + stream_header
    ad = head + doc_context("c", "attachment")
    data = b"a" * CHUNK_SIZE + b"tail"
    push = bindings.crypto_secretstream_xchacha20poly1305_push
    first = push(state, data[:CHUNK_SIZE], ad, 0x00)  # TAG_MESSAGE
    last = push(state, bindings.sodium_pad(b"tail", 256), ad, 0x03)  # TAG_FINAL
    blob = head + first + last
    assert b"".join(decrypt_stream(keypair, io.BytesIO(blob), case="c")) == data


def test_sealed_password_recovery_and_session_layouts():
    keypair = KeyPair.generate()
    opened = bindings.crypto_box_seal_open(seal(keypair.public, b"sk")[2:], keypair.public, keypair.private)
    assert opened == b"sk"
    decrypt = bindings.crypto_aead_xchacha20poly1305_ietf_decrypt

    envelope = wrap_with_password(b"secret", "pässword", KdfCost(opslimit=1, memlimit=16384))
    salt = envelope[2:18]
    opslimit = int.from_bytes(envelope[18:22], "big")
    memlimit = int.from_bytes(envelope[22:30], "big")
    assert (opslimit, memlimit) == (1, 16384)
    key = bindings.crypto_pwhash_alg(
        32, "pässword".encode("utf-8"), salt, opslimit, memlimit, bindings.crypto_pwhash_ALG_ARGON2ID13
    )
    assert decrypt(envelope[54:], envelope[:54], envelope[30:54], key) == b"secret"

    recovery_key = new_recovery_key()
    envelope = wrap_with_recovery_key(b"secret", recovery_key.lower().replace("-", ""))
    key = bindings.crypto_generichash_blake2b_salt_personal(
        b"", digest_size=32, key=recovery_key.encode("ascii"), person=b"whistle-recovery"
    )
    assert decrypt(envelope[26:], envelope[:26], envelope[2:26], key) == b"secret"

    token, session_key = new_session_token(), bindings.randombytes(32)
    envelope = wrap_for_session(b"secret", token, session_key)
    key = bindings.crypto_generichash_blake2b_salt_personal(
        token.encode("ascii"), digest_size=32, key=session_key, person=b"whistle-sess-key"
    )
    assert decrypt(envelope[26:], envelope[:26], envelope[2:26], key) == b"secret"


def test_no_envelope_is_read_as_another_type():
    keypair = KeyPair.generate()
    recovery_key, token, session_key = new_recovery_key(), new_session_token(), bindings.randombytes(32)
    encryptor = StreamEncryptor(keypair.public, case="c", kind="k")
    envelopes = {
        0x01: seal(keypair.public, b"x"),
        0x02: encrypt_item(keypair.public, b"x", case="c", kind="k"),
        0x03: encryptor.header + encryptor.push(b"x") + encryptor.finish(),
        0x04: wrap_with_password(b"x", "pw", KdfCost.for_tests()),
        0x05: wrap_with_recovery_key(b"x", recovery_key),
        0x06: wrap_for_session(b"x", token, session_key),
    }
    readers = {
        0x01: lambda e: unseal(keypair, e),
        0x02: lambda e: decrypt_item(keypair, e, case="c", kind="k"),
        0x03: lambda e: b"".join(decrypt_stream(keypair, io.BytesIO(e), case="c", kind="k")),
        0x04: lambda e: unwrap_with_password(e, "pw"),
        0x05: lambda e: unwrap_with_recovery_key(e, recovery_key),
        0x06: lambda e: unwrap_for_session(e, token, session_key),
    }
    for written, envelope in envelopes.items():
        assert envelope[:2] == bytes((0x01, written))
        for read, reader in readers.items():
            if read == written:
                assert reader(envelope) == b"x"
            else:
                with pytest.raises(UnsupportedVersion):
                    reader(envelope)


@settings(max_examples=300, deadline=None)
@given(body=st.binary(max_size=400), type_tag=st.integers(0, 7))
def test_garbage_after_any_header_raises_only_decryption_failed(body, type_tag):
    keypair = KeyPair.generate()
    envelope = bytes((0x01, type_tag)) + body
    if type_tag == 0x04 and len(envelope) >= 30:
        # Keep the Argon2id cost it reads small: random cost bytes are rejected anyway,
        # but an unlucky draw of a legal 1 GiB cost would make this test slow.
        envelope = envelope[:18] + (1).to_bytes(4, "big") + (8192).to_bytes(8, "big") + envelope[30:]
    token, session_key = new_session_token(), bindings.randombytes(32)
    readers = [
        lambda e: unseal(keypair, e),
        lambda e: decrypt_item(keypair, e, case="c", kind="k"),
        lambda e: b"".join(decrypt_stream(keypair, io.BytesIO(e), case="c", kind="k")),
        lambda e: unwrap_with_password(e, "pw"),
        lambda e: unwrap_with_recovery_key(e, new_recovery_key()),
        lambda e: unwrap_for_session(e, token, session_key),
    ]
    for reader in readers:
        with pytest.raises(DecryptionFailed):
            reader(envelope)
