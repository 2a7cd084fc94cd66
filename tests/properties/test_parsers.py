"""The text and document parsers whistle.crypto (and its neighbours) read from outside: canonical
JSON, the key directory, key files, receipts, recovery keys and fingerprints, whole numbers, base64.

Whatever arrives, each raises only its documented error, and what it accepts it reads back the way
it was written.
"""
from __future__ import annotations

import base64
import json
import os
import string
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tests.properties.bounded import bounded
from whistle import crypto
from whistle.crypto import codes
from whistle.crypto.directory import FORMAT
from whistle.intake import receipts as intake_receipts
from whistle.jsonapi import decode_base64
from whistle.key_directory.services import DirectoryError, read_published
from whistle.numbers import whole_number

# Every code point, lone surrogates included: a JSON body's "\ud800" arrives as one.
ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=200)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20)
NOW = datetime(2026, 3, 31, 12, tzinfo=UTC)
ORG = crypto.SigningKey.generate()


# --- canonical JSON -------------------------------------------------------------------------------

@bounded(300)
@given(value=JSON_VALUES)
def test_canonical_json_reads_back_what_it_wrote(value):
    data = crypto.canonical_json(value)
    assert crypto.parse_canonical_json(data) == value
    assert crypto.canonical_json(crypto.parse_canonical_json(data)) == data


@bounded(300)
@given(data=st.binary(max_size=300) | JSON_VALUES.map(lambda v: json.dumps(v, indent=1).encode()))
def test_canonical_json_refuses_anything_else_with_a_value_error(data):
    try:
        value = crypto.parse_canonical_json(data)
    except ValueError:
        return
    assert crypto.canonical_json(value) == data


@bounded(200)
@given(value=st.recursive(st.none() | st.floats() | st.integers() | ANY_TEXT | st.binary(max_size=4),
                          lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
                              st.integers() | ANY_TEXT, inner, max_size=3), max_leaves=10))
def test_canonical_json_writes_or_refuses_with_type_or_value_error(value):
    try:
        data = crypto.canonical_json(value)
    except (TypeError, ValueError):
        return
    assert crypto.parse_canonical_json(data) == value


# --- the key directory ----------------------------------------------------------------------------

def _document(version: int = 3, expires: datetime = NOW + timedelta(days=30)) -> dict:
    key = base64.b64encode(os.urandom(32)).decode()
    return {"format": FORMAT, "version": version, "issued_at": "2026-03-01T00:00:00Z",
            "expires_at": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "receipt": {"salt": base64.b64encode(os.urandom(16)).decode(), "opslimit": 1, "memlimit": 8192},
            "escrow": None, "guardians": {"7": {"username": "ada", "public_key": key}},
            "channels": {"staff": {"first_tier": [7], "second_tier": []}}}


def _published(document: dict) -> dict:
    data = crypto.canonical_json(document)
    return {"document": data.decode(), "signature": base64.b64encode(crypto.sign_directory(data, ORG)).decode()}


DIRECTORY_ERRORS = (crypto.BadSignature, crypto.DirectoryRefused)


@bounded(200)
@given(member=st.sampled_from(sorted(_document())), value=JSON_VALUES | ANY_TEXT)
def test_a_signed_directory_with_any_member_changed_parses_or_is_refused(member, value):
    document = _document()
    document[member] = value
    try:
        data = crypto.canonical_json(document)
    except (TypeError, ValueError):
        return
    try:
        parsed = crypto.parse_directory(data)
    except (TypeError, ValueError):
        parsed = None
    try:
        opened = crypto.open_directory(_published(document), ORG.public_key, now=NOW)
    except crypto.DirectoryRefused:
        assert parsed is None or parsed.expires_at <= NOW
        return
    assert opened == parsed


@bounded(300)
@given(data=st.binary(max_size=400))
def test_any_bytes_as_a_directory_raise_value_or_type_error(data):
    with pytest.raises((ValueError, TypeError)):
        crypto.parse_directory(data)


@bounded(300)
@given(published=st.one_of(
    JSON_VALUES, ANY_TEXT,
    st.fixed_dictionaries({"document": ANY_TEXT, "signature": ANY_TEXT}),
    st.fixed_dictionaries({"document": ANY_TEXT, "signature": st.binary(max_size=70).map(
        lambda b: base64.b64encode(b).decode())}),
    st.fixed_dictionaries({"document": st.just(_published(_document())["document"]), "signature": ANY_TEXT}),
))
def test_anything_a_server_sends_as_its_directory_is_refused_by_type(published):
    """What the reporter's client and the desk open (whistle.client.trust, whistle.desk.pin): a
    hostile server may send any JSON, so anything but a directory the organisation signed is a
    BadSignature or DirectoryRefused, which they turn into a refusal in words."""
    with pytest.raises(DIRECTORY_ERRORS):
        crypto.open_directory(published, ORG.public_key, now=NOW)


@bounded(100)
@given(flip=st.integers(0, 10**6), bit=st.integers(0, 7), which=st.sampled_from(["document", "signature"]))
def test_a_published_directory_with_one_bit_changed_is_refused(flip, bit, which):
    published = _published(_document())
    raw = bytearray(published[which].encode())
    raw[flip % len(raw)] ^= 1 << bit
    try:
        published[which] = raw.decode()
    except UnicodeDecodeError:
        published[which] = raw.decode("latin-1")
    with pytest.raises(DIRECTORY_ERRORS):
        crypto.open_directory(published, ORG.public_key, now=NOW)


@bounded(200)
@given(data=st.binary(max_size=300) | JSON_VALUES.map(lambda v: json.dumps(v).encode())
       | st.fixed_dictionaries({"document": ANY_TEXT, "signature": ANY_TEXT}).map(
           lambda v: json.dumps(v).encode()))
def test_a_published_directory_file_reads_or_is_a_directory_error(data):
    """`whistle keys directory publish FILE` reads the signed form an operator hands it."""
    try:
        document, signature = read_published(data)
    except DirectoryError:
        return
    assert isinstance(document, bytes) and len(signature) == 64


# --- key files and fingerprints ---------------------------------------------------------------------

@bounded(200)
@given(text=ANY_TEXT | st.sampled_from(["ed25519-seed: AAAA", "ed25519-public-key: " + "A" * 44]))
def test_any_key_file_text_reads_or_raises_value_error(text):
    for read in (crypto.read_public_key_text, crypto.SigningKey.from_file_text):
        try:
            read(text)
        except ValueError:
            pass


@bounded(50)
@given(comment=st.text(string.ascii_letters + string.digits + string.punctuation + " ", max_size=40))
def test_key_files_read_back_what_was_written(comment):
    key = crypto.SigningKey.generate()
    assert crypto.SigningKey.from_file_text(f"# {comment}\n" + key.file_text()) == key
    assert crypto.read_public_key_text(crypto.public_key_file_text(key.public_key)) == key.public_key


# --- receipts, recovery keys and fingerprints: codes people copy ------------------------------------

CROCKFORD = st.text(st.sampled_from(codes.ALPHABET), min_size=20, max_size=20)
SEPARATORS = st.sampled_from([" ", "-", "\u2010", "\u2011", "\u2012", "\u2013", "\u2014", "\u2015", "\u2212",
                              "\t", "\n", "\u00a0", "\u3000", "\u2003", ""])


@st.composite
def spelt(draw, canonical: str) -> str:
    """`canonical` as a person might copy it: any case, Crockford's O for 0 and I or L for 1,
    separators of any kind between any characters, full-width letters and spaces around."""
    out = [draw(st.sampled_from(["", " ", "\t", "  ", "\n"]))]
    for char in canonical:
        if char == "-":
            continue
        choices = [char, char.lower()]
        if char == "0":
            choices += ["O", "o"]
        if char == "1":
            choices += ["I", "i", "L", "l"]
        written = draw(st.sampled_from(choices))
        if draw(st.integers(0, 9)) == 0:  # full width, as an East Asian input method writes
            written = chr(ord(written) + 0xFEE0) if "!" <= written <= "~" else written
        out.append(written + draw(SEPARATORS))
    return "".join(out) + draw(st.sampled_from(["", " ", "\n"]))


@bounded(300)
@given(text=ANY_TEXT | st.text(st.sampled_from(codes.ALPHABET + "oOiIlL- \u2013"), max_size=40))
def test_the_receipt_normaliser_takes_any_text_and_is_idempotent(text):
    try:
        normal = crypto.normalise_receipt(text)
    except crypto.InvalidReceipt:
        with pytest.raises(crypto.InvalidReceipt):
            crypto.receipt_version(text) if len(text.strip()) < 22 else crypto.normalise_receipt(text)
        return
    assert crypto.normalise_receipt(normal) == normal
    assert len(normal) == 24 and all(c in codes.ALPHABET for c in normal.replace("-", ""))
    assert crypto.receipt_version(text) == 1


@bounded(300)
@given(data=st.data(), chars=CROCKFORD)
def test_every_spelling_of_a_receipt_is_the_same_receipt(data, chars):
    receipt = codes.group(chars)
    assert crypto.normalise_receipt(receipt) == receipt
    assert crypto.normalise_receipt(data.draw(spelt(receipt))) == receipt


@bounded(100)
@given(data=st.data(), chars=st.text(st.sampled_from(codes.ALPHABET), min_size=24, max_size=24))
def test_every_spelling_of_a_version_2_receipt_and_a_fingerprint_is_the_same(data, chars):
    receipt = codes.group(chars)
    assert crypto.normalise_receipt_v2(data.draw(spelt(receipt))) == receipt
    assert crypto.receipt_version(data.draw(spelt(receipt))) == 2
    print_ = crypto.fingerprint(ORG.public_key)
    assert crypto.normalise_fingerprint(data.draw(spelt(print_))) == print_


@bounded(150)
@given(chars=CROCKFORD, at=st.integers(0, 19), other=st.sampled_from(codes.ALPHABET))
def test_a_receipt_with_one_character_changed_is_another_receipt(chars, at, other):
    assume(chars[at] != other)
    changed = chars[:at] + other + chars[at + 1:]
    assert crypto.normalise_receipt(changed) != crypto.normalise_receipt(chars)


@bounded(300)
@given(text=ANY_TEXT, length=st.sampled_from([20, 24, 28, 32]))
def test_codes_normalise_to_their_length_or_to_none(text, length):
    normal = codes.normalise_code(text, length)
    assert normal is None or (codes.normalise_code(normal, length) == normal
                              and len(normal.replace("-", "")) == length)


@bounded(100)
@given(text=ANY_TEXT)
def test_a_recovery_key_typed_wrongly_is_a_decryption_failure_not_a_crash(text):
    envelope = crypto.wrap_with_recovery_key(b"k" * 32, crypto.new_recovery_key())
    with pytest.raises(DecryptionFailed_or_ValueError):
        crypto.unwrap_with_recovery_key(envelope, text)


DecryptionFailed_or_ValueError = (crypto.DecryptionFailed, ValueError)


# --- numbers and base64 from forms and JSON ---------------------------------------------------------

@bounded(300)
@given(value=ANY_TEXT | st.integers() | st.none() | st.integers(0, 10**18 - 1).map(str))
def test_whole_numbers_are_ascii_digits_read_back_exactly(value):
    number = whole_number(value)
    if number is not None:
        assert 0 <= number < 10**18 and int(str(value).strip()) == number and str(value).strip().isascii()


@bounded(300)
@given(value=ANY_TEXT | st.binary(max_size=60).map(lambda b: base64.b64encode(b).decode()) | JSON_VALUES)
def test_base64_from_json_is_bytes_or_none(value):
    decoded = decode_base64(value)
    assert decoded is None or base64.b64encode(decoded).decode() == value


# --- the receipt page's cookie (whistle.intake.receipts) -------------------------------------------

@bounded(150)
@given(cookie=ANY_TEXT | st.text(string.ascii_letters + string.digits + "-_", max_size=400),
       slug=st.sampled_from(["staff", "young"]))
def test_any_receipt_cookie_is_the_receipt_sealed_for_that_channel_or_none(settings, clock, cookie, slug):
    assert intake_receipts.unseal(settings, clock, cookie, slug) is None
    sealed = intake_receipts.seal(settings, clock, receipt="ABCD-EFGH-JKMN-PQRS-TVWX", case_ref="ABCDE-FGHJK",
                                  slug="staff")
    carried = intake_receipts.unseal(settings, clock, sealed, slug)
    assert carried is None if slug != "staff" else carried.receipt == "ABCD-EFGH-JKMN-PQRS-TVWX"
