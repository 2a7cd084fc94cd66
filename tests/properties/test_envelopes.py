"""Every envelope whistle.crypto reads, under arbitrary and mutated bytes.

For each reader: what it sealed opens again to the same plaintext; fully random bytes, and a real
envelope with bytes flipped, cut off, added, or replaced, raise only the reader's documented error
(whistle.crypto.errors) and never open. A reader that raised a bare ValueError, IndexError or a
nacl exception here would reach a view as a 500, or a client as a traceback.
"""
from __future__ import annotations

import base64
import binascii
import io
import os
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tests.properties.bounded import bounded
from whistle import crypto
from whistle.crypto import DecryptionFailed, Expired, KdfCost, KeyPair
from whistle.crypto.spool import SPOOL_CHUNK

KEYPAIR = KeyPair.generate()
OTHER = KeyPair.generate()
SESSION_KEY = os.urandom(32)
SHRED_KEY, HANDLE = os.urandom(32), os.urandom(16)
WRAP_KEY = os.urandom(32)
RECOVERY = crypto.new_recovery_key()
TOKEN = crypto.new_session_token()
NOW = datetime(2026, 3, 31, 12, tzinfo=UTC)
CHEAP = KdfCost.for_tests()


def _stream(plaintext: bytes, case: str = "AB12", author: str = "reporter") -> bytes:
    encryptor = crypto.StreamEncryptor(KEYPAIR.public, case=case, author=author)
    return encryptor.header + encryptor.push(plaintext) + encryptor.finish()


def _read_stream(envelope: bytes, case: str = "AB12", author: str = "reporter") -> bytes:
    return b"".join(crypto.decrypt_stream(KEYPAIR, io.BytesIO(envelope), case=case, author=author))


def _password_cost_is_cheap(envelope: bytes) -> bool:
    """Whether a (possibly mutated) password wrap names a cost this test can afford to run: a cost
    byte flipped into a legal 1 GiB Argon2id would take seconds and that memory per example. The
    reader's own bound on the cost is tested in tests/unit/crypto/test_passwords.py."""
    if len(envelope) < 30:
        return True
    opslimit, memlimit = int.from_bytes(envelope[18:22], "big"), int.from_bytes(envelope[22:30], "big")
    return not crypto.keys.is_acceptable_cost(opslimit, memlimit) or memlimit <= 64 * 1024


# Each reader: (seal(plaintext) -> envelope, open(envelope) -> plaintext, the errors it may raise).
# `open` reads the envelope as the place that stores it would: with the right key and context.
READERS = {
    "item": (lambda p: crypto.encrypt_item(KEYPAIR.public, p, case="AB12", kind="message", author="reporter"),
             lambda e: crypto.decrypt_item(KEYPAIR, e, case="AB12", kind="message", author="reporter"),
             DecryptionFailed),
    "sealed": (lambda p: crypto.seal(KEYPAIR.public, p), lambda e: crypto.unseal(KEYPAIR, e), DecryptionFailed),
    "stream": (_stream, _read_stream, DecryptionFailed),
    "session wrap": (lambda p: crypto.wrap_for_session(p, TOKEN, SESSION_KEY),
                     lambda e: crypto.unwrap_for_session(e, TOKEN, SESSION_KEY), DecryptionFailed),
    "shred wrap": (lambda p: crypto.shred_wrap(SHRED_KEY, HANDLE, "item", p),
                   lambda e: crypto.shred_unwrap(SHRED_KEY, HANDLE, "item", e), DecryptionFailed),
    "device wrap": (lambda p: crypto.wrap_for_device(p, WRAP_KEY), lambda e: crypto.unwrap_for_device(e, WRAP_KEY),
                    DecryptionFailed),
    "recovery wrap": (lambda p: crypto.wrap_with_recovery_key(p, RECOVERY),
                      lambda e: crypto.unwrap_with_recovery_key(e, RECOVERY), DecryptionFailed),
    "password wrap": (lambda p: crypto.wrap_with_password(p, "correct horse", CHEAP),
                      lambda e: crypto.unwrap_with_password(e, "correct horse"), DecryptionFailed),
    "server kept": (lambda p: crypto.keep_on_server(p, purpose="totp", owner="account:7", session_key=SESSION_KEY),
                    lambda e: crypto.read_kept_on_server(e, purpose="totp", owner="account:7", session_key=SESSION_KEY),
                    DecryptionFailed),
    # The carried value is text (a cookie); it is handled as its ASCII bytes here.
    "carried": (lambda p: crypto.seal_for_client(p[:2048], SESSION_KEY, purpose="receipt", now=NOW,
                                                 lifetime=timedelta(minutes=10)).encode("ascii"),
                lambda e: crypto.open_from_client(e.decode("latin-1"), SESSION_KEY, purpose="receipt", now=NOW),
                DecryptionFailed),
}

# One way to break an envelope: flip bits of one byte, cut it short, add bytes, or overwrite a run.
MUTATIONS = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 10**6), st.integers(1, 255)),
    st.tuples(st.just("truncate"), st.integers(0, 10**6)),
    st.tuples(st.just("extend"), st.binary(min_size=1, max_size=300)),
    st.tuples(st.just("overwrite"), st.integers(0, 10**6), st.binary(min_size=1, max_size=40)),
    st.tuples(st.just("insert"), st.integers(0, 10**6), st.binary(min_size=1, max_size=40)),
)


def mutate(envelope: bytes, mutation) -> bytes:
    kind, *args = mutation
    if kind == "flip":
        at = args[0] % len(envelope)
        return envelope[:at] + bytes([envelope[at] ^ args[1]]) + envelope[at + 1:]
    if kind == "truncate":
        return envelope[:args[0] % len(envelope)]
    if kind == "extend":
        return envelope + args[0]
    at = args[0] % (len(envelope) + 1)
    if kind == "overwrite":
        return envelope[:at] + args[1] + envelope[at + len(args[1]):]
    return envelope[:at] + args[1] + envelope[at:]  # insert


PLAINTEXTS = st.binary(max_size=600) | st.sampled_from([b"", b"x" * 255, b"x" * 256, os.urandom(crypto.CHUNK_SIZE + 3)])


@pytest.mark.parametrize("name", sorted(READERS))
@bounded(40)
@given(plaintext=PLAINTEXTS)
def test_what_is_sealed_opens_to_the_same_bytes(name, plaintext):
    seal, open_, _ = READERS[name]
    if name == "carried":
        plaintext = plaintext[:2048]
    assert open_(seal(plaintext)) == plaintext


@pytest.mark.parametrize("name", sorted(READERS))
@bounded(120)
@given(plaintext=st.binary(max_size=300), mutation=MUTATIONS)
def test_a_mutated_envelope_never_opens_and_raises_only_the_documented_error(name, plaintext, mutation):
    seal, open_, errors = READERS[name]
    envelope = seal(plaintext)
    broken = mutate(envelope, mutation)
    assume(broken != envelope)
    if name == "password wrap":
        assume(_password_cost_is_cheap(broken))
    if name == "carried":
        # Base64 without padding: bits past the last whole byte are not read, so a flip there (or
        # dropping the one character that carried only them) reads the same bytes: the same value.
        assume(not _same_base64_bytes(broken, envelope))
    with pytest.raises(errors):
        open_(broken)


def _same_base64_bytes(text: bytes, original: bytes) -> bool:
    def decoded(value: bytes) -> bytes | None:
        try:
            return base64.urlsafe_b64decode(value + b"=" * (-len(value) % 4))
        except (binascii.Error, ValueError):
            return None

    return decoded(text) is not None and decoded(text) == decoded(original)


@pytest.mark.parametrize("name", sorted(READERS))
@bounded(120)
@given(data=st.binary(max_size=700), header=st.sampled_from([b"", b"\x01", b"\x02"]) | st.binary(min_size=2, max_size=2))
def test_random_bytes_never_open(name, data, header):
    _, open_, errors = READERS[name]
    envelope = header + data
    if name == "password wrap":
        assume(_password_cost_is_cheap(envelope))
    with pytest.raises(errors):
        open_(envelope)


@bounded(150)
@given(text=st.text(st.characters(codec=None, exclude_categories=())) | st.text(max_size=3000))
def test_any_cookie_text_is_refused_as_a_carried_value(text):
    with pytest.raises(DecryptionFailed):
        crypto.open_from_client(text, SESSION_KEY, purpose="receipt", now=NOW)


@bounded(30)
@given(plaintext=st.binary(max_size=200), minutes=st.integers(-10, 10))
def test_a_carried_value_opens_only_before_it_expires(plaintext, minutes):
    sealed = crypto.seal_for_client(plaintext, SESSION_KEY, purpose="receipt", now=NOW - timedelta(minutes=minutes),
                                    lifetime=timedelta(minutes=5, seconds=30))
    if minutes <= 5:
        assert crypto.open_from_client(sealed, SESSION_KEY, purpose="receipt", now=NOW) == plaintext
    else:
        with pytest.raises(Expired):
            crypto.open_from_client(sealed, SESSION_KEY, purpose="receipt", now=NOW)
    with pytest.raises(DecryptionFailed):  # another purpose's key
        crypto.open_from_client(sealed, SESSION_KEY, purpose="other", now=NOW)


@bounded(60)
@given(plaintext=st.binary(max_size=300), case=st.sampled_from(["AB12", "AB13"]),
       kind=st.sampled_from(["message", "note"]), author=st.sampled_from(["reporter", "guardian:1"]),
       other_key=st.booleans())
def test_an_item_opens_only_in_its_own_context_and_with_its_key(plaintext, case, kind, author, other_key):
    envelope = crypto.encrypt_item(KEYPAIR.public, plaintext, case="AB12", kind="message", author="reporter")
    reader = OTHER if other_key else KEYPAIR
    if (case, kind, author, other_key) == ("AB12", "message", "reporter", False):
        assert crypto.decrypt_item(reader, envelope, case=case, kind=kind, author=author) == plaintext
    else:
        with pytest.raises(DecryptionFailed):
            crypto.decrypt_item(reader, envelope, case=case, kind=kind, author=author)


@bounded(25)
@given(size=st.sampled_from([0, 1, SPOOL_CHUNK - 1, SPOOL_CHUNK, SPOOL_CHUNK + 1]) | st.integers(0, 3 * SPOOL_CHUNK),
       mutation=MUTATIONS)
def test_a_spool_reads_back_what_was_written_and_never_other_bytes(size, mutation):
    data = os.urandom(size)
    sink = io.BytesIO()
    spool = crypto.SpoolEncryptor(sink)
    spool.write(data)
    spool.finish()
    key, written = spool._key, sink.getvalue()
    assert spool.reader().read() == data
    broken = mutate(written, mutation)
    assume(broken != written)
    try:
        read = io.BufferedReader(crypto.SpoolDecryptor(io.BytesIO(broken), key)).read()
    except DecryptionFailed:
        return
    # Bytes after the final chunk are not read (the spool is the server's own file, read once by the
    # request that wrote it); whatever reads, reads exactly what was written.
    assert mutation[0] == "extend" and read == data


@bounded(200)
@given(size=st.integers(0, 10 * crypto.CHUNK_SIZE))
def test_the_stream_arithmetic_agrees_with_itself(size):
    chunks, total = crypto.stream_chunk_count(size), crypto.stream_ciphertext_size(size)
    smallest, largest = crypto.stream_plaintext_range(chunks, total)
    assert smallest <= size <= largest and largest - smallest == 255
    assert sum(crypto.stream_chunk_bytes(i, chunks, total) for i in range(chunks)) == total
    assert all(crypto.stream_chunk_offset(i) + crypto.stream_chunk_bytes(i, chunks, total)
               == (crypto.stream_chunk_offset(i + 1) if i + 1 < chunks else total) for i in range(chunks))


@bounded(40)
@given(size=st.integers(0, 2 * crypto.CHUNK_SIZE + 10))
def test_a_real_stream_has_the_size_the_arithmetic_says(size):
    assert len(_stream(b"\x00" * size)) == crypto.stream_ciphertext_size(size)


@bounded(300)
@given(chunks=st.integers(-5, 10**6), total=st.integers(-5, 10**12))
def test_any_claimed_stream_size_is_answered_without_error(chunks, total):
    found = crypto.stream_plaintext_range(chunks, total)
    if found is not None:
        assert crypto.stream_ciphertext_size(found[0]) == total and crypto.stream_chunk_count(found[0]) == chunks


@bounded(300)
@given(data=st.binary(max_size=400))
def test_the_shape_checks_take_any_bytes(data):
    assert isinstance(crypto.is_item_of_size(data, 10_000), bool)
    assert isinstance(crypto.is_sealed_key(data), bool)
    assert isinstance(crypto.is_device_wrapped_key(data), bool)
    assert isinstance(crypto.is_authored_stream_header(data), bool)
    assert len(crypto.upload_chunk_digest(data)) == crypto.UPLOAD_CHUNK_DIGEST_BYTES


@bounded(60)
@given(plaintext=st.binary(max_size=2000))
def test_an_item_has_the_size_and_shape_the_server_checks(plaintext):
    envelope = crypto.encrypt_item(KEYPAIR.public, plaintext, case="AB12", kind="message", author="reporter")
    assert len(envelope) == crypto.item_size(len(plaintext))
    assert crypto.is_item_of_size(envelope, len(plaintext)) and crypto.item_author_sealed(envelope)
    assert crypto.is_sealed_key(crypto.seal(KEYPAIR.public, os.urandom(32)))


@bounded(200)
@given(token=st.text(st.characters(codec=None, exclude_categories=())), other=st.text())
def test_any_cookie_text_gives_a_session_id_and_csrf_token_without_error(token, other):
    assert len(crypto.session_token_id(token, SESSION_KEY)) == 32
    key = crypto.csrf_key(SESSION_KEY)
    assert crypto.csrf_token_for_session(token, key) != crypto.csrf_token_for_browser(token, key)
    if other != token:
        assert crypto.session_token_id(other, SESSION_KEY) != crypto.session_token_id(token, SESSION_KEY)


@bounded(100)
@given(mac=st.binary(max_size=40), team_public=st.binary(min_size=32, max_size=32))
def test_a_mac_that_is_not_the_one_computed_is_a_key_mismatch(mac, team_public):
    case_private = os.urandom(32)
    good = crypto.team_key_mac(case_private, team_public)
    assume(mac != good)
    with pytest.raises(crypto.KeyMismatch):
        crypto.check_team_key_mac(case_private, team_public, mac)
    binding = crypto.case_key_binding(case_private, "AB12", team_public)
    crypto.check_case_key_binding(case_private, "AB12", team_public, binding)
    assume(mac != binding)
    with pytest.raises(crypto.KeyMismatch):
        crypto.check_case_key_binding(case_private, "AB12", team_public, mac)
