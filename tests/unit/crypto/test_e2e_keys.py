"""Receipts of version 2, lookup ids, and the checks on a case's public keys."""
from __future__ import annotations

import re

import pytest

from whistle import crypto

COST = crypto.KdfCost.for_tests()
SALT = bytes(range(16))


def test_receipt_v2_shape_and_version():
    receipt = crypto.new_receipt_v2()
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){5}", receipt)
    assert crypto.receipt_version(receipt) == 2
    assert crypto.receipt_version(crypto.new_receipt()) == 1
    assert len({crypto.new_receipt_v2() for _ in range(200)}) == 200


def test_each_derivation_takes_only_its_own_version():
    with pytest.raises(crypto.InvalidReceipt):
        crypto.derive_reporter_keys_v2(crypto.new_receipt(), SALT, COST)
    with pytest.raises(crypto.InvalidReceipt):
        crypto.derive_reporter_keys(crypto.new_receipt_v2(), bytes(32), COST)
    with pytest.raises(ValueError, match="salt"):
        crypto.derive_reporter_keys_v2(crypto.new_receipt_v2(), SALT[:15], COST)


def test_salt_and_cost_change_everything():
    receipt = crypto.new_receipt_v2()
    base = crypto.derive_reporter_keys_v2(receipt, SALT, COST)
    other_salt = crypto.derive_reporter_keys_v2(receipt, bytes(16), COST)
    other_cost = crypto.derive_reporter_keys_v2(receipt, SALT, crypto.KdfCost(2, 8192))
    for other in (other_salt, other_cost):
        assert other.lookup_value != base.lookup_value and other.keypair.public != base.keypair.public
    # The lookup value and the key pair come from different halves: one does not give the other.
    assert base.lookup_value not in (base.keypair.public, base.keypair.private)


def test_lookup_id_needs_the_pepper():
    lookup_value = crypto.derive_reporter_keys_v2(crypto.new_receipt_v2(), SALT, COST).lookup_value
    assert crypto.lookup_id(lookup_value, bytes(32)) != crypto.lookup_id(lookup_value, bytes(range(32)))
    with pytest.raises(ValueError, match="lookup value"):
        crypto.lookup_id(lookup_value[:31], bytes(32))


def test_team_key_mac_vouches_for_one_team_key_under_one_case_key():
    case, team = crypto.KeyPair.generate(), crypto.KeyPair.generate()
    mac = crypto.team_key_mac(case.private, team.public)
    crypto.check_team_key_mac(case.private, team.public, mac)
    swapped_in = crypto.KeyPair.generate()
    with pytest.raises(crypto.KeyMismatch):
        crypto.check_team_key_mac(case.private, swapped_in.public, mac)
    # Whoever swaps the team key cannot make a MAC for it without the case private key.
    forged = crypto.team_key_mac(swapped_in.private, swapped_in.public)
    with pytest.raises(crypto.KeyMismatch):
        crypto.check_team_key_mac(case.private, swapped_in.public, forged)


def test_case_key_binding_tells_a_swapped_grant():
    reporter, case = crypto.KeyPair.generate(), crypto.KeyPair.generate()
    binding = crypto.case_key_binding(reporter.private, "CASE-1", case.public)
    # A database writer seals another case key to the reporter's (public) key: the reporter
    # opens it, derives its public key, and the binding no longer matches.
    attacker_case = crypto.KeyPair.generate()
    forged_grant = crypto.seal(reporter.public, attacker_case.private)
    opened = crypto.public_key_of(crypto.unseal(reporter, forged_grant))
    with pytest.raises(crypto.KeyMismatch):
        crypto.check_case_key_binding(reporter.private, "CASE-1", opened, binding)
    crypto.check_case_key_binding(reporter.private, "CASE-1", case.public, binding)


def test_public_key_of():
    pair = crypto.KeyPair.generate()
    assert crypto.public_key_of(pair.private) == pair.public
    with pytest.raises(ValueError, match="32 bytes"):
        crypto.public_key_of(pair.private[:31])
