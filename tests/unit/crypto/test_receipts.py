"""Reporter receipts: format, entropy, forgiving normalisation, derived keys."""
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from whistle.crypto import InvalidReceipt, KdfCost, derive_reporter_keys, new_receipt, normalise_receipt

COST = KdfCost.for_tests()
PEPPER = bytes(range(32))
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RECEIPT_FORMAT = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){4}$")


def test_receipt_format():
    receipt = new_receipt()
    assert RECEIPT_FORMAT.match(receipt), receipt
    assert len(receipt.replace("-", "")) == 20


def test_receipt_entropy_is_at_least_80_bits():
    receipts = [new_receipt().replace("-", "") for _ in range(500)]
    assert len(set(receipts)) == 500
    # Every position draws from the whole 32-character alphabet: 5 bits each, 100 in all.
    for position in range(20):
        assert len({r[position] for r in receipts}) > 24
    assert set("".join(receipts)) == set(ALPHABET)


def test_normalise_is_idempotent_on_fresh_receipts():
    receipt = new_receipt()
    assert normalise_receipt(receipt) == receipt
    assert normalise_receipt(normalise_receipt(receipt)) == receipt


@pytest.mark.parametrize(
    "messy",
    [
        "  abcd-efgh ijkl-mnpq rstv  ",
        "ABCDEFGH1JK1MNPQRSTV",
        "abcd efgh jklm npqr stvw",
        "A B C D E F G H I J K L M N P Q R S T V",
        "abcd\u2013efgh\u2013ijkl\u2013mnpq\u2013rstv",  # en dashes from a word processor
        "\uff41\uff42\uff43\uff44-efgh-ijkl-mnpq-rstv",  # full-width
        "\tabcd-efgh-IJKL-mnpq-rstv\n",
    ],
)
def test_normalise_messy_input(messy):
    expected = {"ABCD-EFGH-1JK1-MNPQ-RSTV", "ABCD-EFGH-JK1M-NPQR-STVW"}
    assert normalise_receipt(messy) in expected


def test_o_i_l_map_to_digits():
    assert normalise_receipt("oooo-iiii-llll-OOOO-ILIL") == "0000-1111-1111-0000-1111"


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "ABCD-EFGH-JKMN-PQRS",  # 16 characters
        "ABCD-EFGH-JKMN-PQRS-TVWXY",  # 21
        "ABCD-EFGH-JKMN-PQRS-TVWU",  # U is not in the alphabet
        "ABCD-EFGH-JKMN-PQRS-TVW!",
        "ABCD_EFGH_JKMN_PQRS_TVWX",
        "ÄBCD-EFGH-JKMN-PQRS-TVWX",
    ],
)
def test_invalid_receipts_raise(bad):
    with pytest.raises(InvalidReceipt):
        normalise_receipt(bad)
    with pytest.raises(InvalidReceipt):
        derive_reporter_keys(bad, PEPPER, COST)


def test_invalid_receipt_message_does_not_echo_input():
    with pytest.raises(InvalidReceipt) as raised:
        normalise_receipt("ABCD-EFGH-JKMN-PQRS-TVWU")
    assert "TVWU" not in str(raised.value)


def test_messy_input_derives_the_same_keys():
    receipt = "ABCD-EFGH-1JK1-MNPQ-RST0"
    clean = derive_reporter_keys(receipt, PEPPER, COST)
    messy = derive_reporter_keys("  abcd-efgh ijkl-mnpq rsto  ", PEPPER, COST)
    assert messy == clean


def test_derive_is_deterministic_and_separates_inputs():
    one = derive_reporter_keys("ABCD-EFGH-JKMN-PQRS-TVWX", PEPPER, COST)
    assert derive_reporter_keys("ABCD-EFGH-JKMN-PQRS-TVWX", PEPPER, COST) == one
    assert len(one.lookup_id) == 32
    other_receipt = derive_reporter_keys("ABCD-EFGH-JKMN-PQRS-TVWZ", PEPPER, COST)
    other_pepper = derive_reporter_keys("ABCD-EFGH-JKMN-PQRS-TVWX", bytes(32), COST)
    other_cost = derive_reporter_keys("ABCD-EFGH-JKMN-PQRS-TVWX", PEPPER, KdfCost(2, 8192))
    for other in (other_receipt, other_pepper, other_cost):
        assert other.lookup_id != one.lookup_id
        assert other.keypair.public != one.keypair.public


def test_lookup_id_and_public_key_are_unrelated():
    keys = derive_reporter_keys(new_receipt(), PEPPER, COST)
    assert keys.lookup_id != keys.keypair.public
    assert keys.keypair.private.hex() not in repr(keys)


def test_short_pepper_is_rejected():
    with pytest.raises(ValueError):
        derive_reporter_keys(new_receipt(), b"short", COST)


def mess_up(receipt: str, data) -> str:
    out = []
    for char in receipt.replace("-", ""):
        if char == "0":
            char = data.draw(st.sampled_from("0oO"))
        elif char == "1":
            char = data.draw(st.sampled_from("1iIlL"))
        elif data.draw(st.booleans()):
            char = char.lower()
        out.append(char + data.draw(st.sampled_from(["", "", " ", "-", "  "])))
    return data.draw(st.sampled_from(["", " ", "\t"])) + "".join(out)


@settings(max_examples=100, deadline=None)
@given(chars=st.text(alphabet=ALPHABET, min_size=20, max_size=20), data=st.data())
def test_normalisation_property(chars, data):
    receipt = "-".join(chars[i : i + 4] for i in range(0, 20, 4))
    assert normalise_receipt(mess_up(receipt, data)) == receipt
