"""Guardian key wrapping: under a password (Argon2id) and under a recovery key."""
import re

import pytest

from whistle.crypto import (
    DecryptionFailed,
    KdfCost,
    UnsupportedVersion,
    new_recovery_key,
    unwrap_with_password,
    unwrap_with_recovery_key,
    wrap_with_password,
    wrap_with_recovery_key,
)

COST = KdfCost.for_tests()
SECRET = bytes(range(32))


def test_password_round_trip():
    envelope = wrap_with_password(SECRET, "correct horse battery staple", COST)
    assert envelope[:2] == b"\x01\x04"
    assert len(envelope) == 54 + 32 + 16
    assert unwrap_with_password(envelope, "correct horse battery staple") == SECRET


def test_password_wrap_is_salted():
    assert wrap_with_password(SECRET, "pw", COST)[2:18] != wrap_with_password(SECRET, "pw", COST)[2:18]


def test_wrong_password_fails():
    envelope = wrap_with_password(SECRET, "correct horse battery staple", COST)
    for wrong in ("Correct horse battery staple", "correct horse battery staple ", ""):
        with pytest.raises(DecryptionFailed):
            unwrap_with_password(envelope, wrong)


def test_password_is_nfc_normalised():
    composed, decomposed = "caf\u00e9", "cafe\u0301"
    assert unwrap_with_password(wrap_with_password(SECRET, composed, COST), decomposed) == SECRET


def test_unencodable_password_fails_typed():
    envelope = wrap_with_password(SECRET, "pw", COST)
    with pytest.raises(DecryptionFailed):
        unwrap_with_password(envelope, "\ud800")


def test_cost_is_stored_and_read_back():
    cost = KdfCost(opslimit=2, memlimit=16384)
    envelope = wrap_with_password(SECRET, "pw", cost)
    assert envelope[18:22] == (2).to_bytes(4, "big")
    assert envelope[22:30] == (16384).to_bytes(8, "big")
    assert unwrap_with_password(envelope, "pw") == SECRET


@pytest.mark.parametrize("opslimit, memlimit", [(0, 8192), (17, 8192), (1, 4096), (1, 2**40)])
def test_unacceptable_cost_in_envelope_fails_before_hashing(opslimit, memlimit):
    envelope = bytearray(wrap_with_password(SECRET, "pw", COST))
    envelope[18:22] = opslimit.to_bytes(4, "big")
    envelope[22:30] = memlimit.to_bytes(8, "big")
    with pytest.raises(DecryptionFailed):
        unwrap_with_password(bytes(envelope), "pw")


def test_password_every_byte_flip_fails():
    envelope = wrap_with_password(b"k", "pw", COST)
    for position in range(len(envelope)):
        for mask in (0x01, 0x80):
            tampered = bytearray(envelope)
            tampered[position] ^= mask
            with pytest.raises(DecryptionFailed):
                unwrap_with_password(bytes(tampered), "pw")


def test_password_every_truncation_fails():
    envelope = wrap_with_password(b"k", "pw", COST)
    for length in range(len(envelope)):
        with pytest.raises(DecryptionFailed):
            unwrap_with_password(envelope[:length], "pw")


def test_password_unknown_version_is_unsupported():
    envelope = wrap_with_password(b"k", "pw", COST)
    with pytest.raises(UnsupportedVersion):
        unwrap_with_password(b"\x00" + envelope[1:], "pw")


RECOVERY_FORMAT = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){6}$")


def test_recovery_key_format_and_entropy():
    keys = {new_recovery_key() for _ in range(200)}
    assert len(keys) == 200
    for key in keys:
        # 28 characters of a 32-letter alphabet: 140 bits, more than the 128 required.
        assert RECOVERY_FORMAT.match(key), key


def test_recovery_key_characters_are_all_used():
    seen = set("".join(new_recovery_key() for _ in range(200)).replace("-", ""))
    assert seen == set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")


def test_recovery_round_trip_with_messy_input():
    key = new_recovery_key()
    envelope = wrap_with_recovery_key(SECRET, key)
    assert envelope[:2] == b"\x01\x05"
    assert len(envelope) == 26 + 32 + 16
    messy = "  " + key.lower().replace("-", " ").replace("0", "o").replace("1", "l") + "\n"
    assert unwrap_with_recovery_key(envelope, messy) == SECRET
    assert unwrap_with_recovery_key(envelope, key.replace("-", "")) == SECRET


def test_wrong_recovery_key_fails():
    envelope = wrap_with_recovery_key(SECRET, new_recovery_key())
    with pytest.raises(DecryptionFailed):
        unwrap_with_recovery_key(envelope, new_recovery_key())


@pytest.mark.parametrize("bad", ["", "not a key", "0123-4567-89AB-CDEF-GHJK-MNPQ-RST", "U" * 28])
def test_malformed_recovery_key_fails_typed(bad):
    envelope = wrap_with_recovery_key(SECRET, new_recovery_key())
    with pytest.raises(DecryptionFailed):
        unwrap_with_recovery_key(envelope, bad)
    with pytest.raises(ValueError):
        wrap_with_recovery_key(SECRET, bad)


def test_recovery_every_byte_flip_and_truncation_fails():
    key = new_recovery_key()
    envelope = wrap_with_recovery_key(b"k", key)
    for position in range(len(envelope)):
        for mask in (0x01, 0x80):
            tampered = bytearray(envelope)
            tampered[position] ^= mask
            with pytest.raises(DecryptionFailed):
                unwrap_with_recovery_key(bytes(tampered), key)
    for length in range(len(envelope)):
        with pytest.raises(DecryptionFailed):
            unwrap_with_recovery_key(envelope[:length], key)
