"""Proof of work (docs/crypto.md 6.15): the challenge's MAC, the solution's check, the known answer."""
from __future__ import annotations

import hashlib

import pytest

from whistle import crypto
from whistle.crypto import work

KEY = crypto.work_key(bytes(range(32)))
NOW = 1_764_936_000
LIFETIME = 3600


def _proof(bits: int = 8, issued: int = NOW) -> tuple[str, int]:
    challenge = crypto.new_challenge(KEY, bits=bits, issued=issued)
    return challenge, crypto.solve(challenge, bits)


def _check(challenge: object, solution: object, *, bits: int = 8, now: int = NOW, key: bytes = KEY):
    return crypto.check_proof(challenge, solution, key, bits=bits, now=now, lifetime=LIFETIME)


def test_a_solved_challenge_is_a_proof():
    challenge, solution = _proof()
    checked = _check(challenge, solution)
    assert checked is not None
    assert (checked.bits, checked.issued, len(checked.nonce)) == (8, NOW, 16)


def test_a_wrong_solution_is_not():
    challenge, solution = _proof(bits=12)
    wrong = next(n for n in range(solution + 1, solution + 100_000) if not crypto.solves(challenge, n, 12))
    assert _check(challenge, wrong, bits=12) is None
    for garbage in (None, "1", 1.0, True, -1, 2**53, [solution]):
        assert _check(challenge, garbage, bits=12) is None


def test_an_expired_challenge_is_not_and_neither_is_one_from_the_future():
    challenge, solution = _proof()
    assert _check(challenge, solution, now=NOW + LIFETIME) is not None
    assert _check(challenge, solution, now=NOW + LIFETIME + 1) is None
    assert _check(challenge, solution, now=NOW - 61) is None  # issued more than a minute ahead


def test_a_challenge_of_another_difficulty_is_not():
    easy, solution = _proof(bits=4)
    # Solved at 4 bits, checked at the configured 8: refused even if its hash happens to have 8 zeros.
    assert _check(easy, solution, bits=8) is None
    assert _check(easy, solution, bits=4) is not None


def test_a_challenge_is_only_taken_with_this_deployments_mac():
    challenge, solution = _proof()
    other = crypto.work_key(bytes(32))
    assert _check(challenge, solution, key=other) is None
    body, _, mac = challenge.rpartition(".")
    forged_bits = challenge.replace("w1.8.", "w1.1.", 1)  # an easier difficulty, same MAC
    assert _check(forged_bits, solution, bits=1) is None
    for garbage in (None, 7, "", "w1", body, body + ".", "x" * 500, challenge + ".x", challenge.replace("w1", "w2"),
                    "w1.8.1.%%%%.%%%%", "w1.é.1.a.b"):
        assert crypto.check_proof(garbage, solution, KEY, bits=8, now=NOW, lifetime=LIFETIME) is None


def test_every_challenge_is_new():
    assert len({crypto.new_challenge(KEY, bits=8, issued=NOW) for _ in range(50)}) == 50


def test_bits_out_of_range_are_refused():
    for bits in (0, 33):
        with pytest.raises(ValueError):
            crypto.new_challenge(KEY, bits=bits, issued=NOW)


def test_known_answer():
    # docs/crypto.md 6.15: session key bytes 0..31, nonce bytes 0..15.
    assert KEY.hex() == "530848cde39c7602d9dcff37d90b0ba2414629d4cb96663a019f39460e1512f9"
    challenge = "w1.8.1764936000.AAECAwQFBgcICQoLDA0ODw.0PTeM1ABeb6aw0DuPWt-6g"
    assert crypto.solve(challenge, 8) == 203
    digest = hashlib.blake2b(challenge.encode() + (203).to_bytes(8, "little"), digest_size=32).hexdigest()
    assert digest.startswith("00543866") and digest.endswith("202486dc")
    assert not any(crypto.solves(challenge, n, 8) for n in range(203))
    assert _check(challenge, 203) is not None


def test_the_search_agrees_with_the_check():
    for bits in (1, 7, 8, 9, 16):
        challenge, solution = _proof(bits=bits)
        assert crypto.solves(challenge, solution, bits)
        assert work._leading_zero_bits(work._digest(challenge, solution)) >= bits
