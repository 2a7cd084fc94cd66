"""Proof of work for the report form (docs/crypto.md 6.15): a challenge the server MACs and then
forgets, and the hash a client searches for to solve it.

A challenge is the text `w1.<bits>.<issued>.<nonce>.<mac>`: the difficulty in bits, the issue time
in whole seconds since the epoch, 16 random bytes and a 16-byte MAC over the rest (keyed BLAKE2b
under a subkey of the session key file, so every node of a deployment checks every other's
challenges and nothing about them is stored). A solution is a whole number `n` (0 <= n < 2**53)
such that BLAKE2b-256 (libsodium's crypto_generichash, no key) of the challenge's ASCII bytes
followed by `n` as 8 little-endian bytes begins with at least `bits` zero bits.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass

from nacl import bindings

from . import envelopes

VERSION = "w1"
NONCE_BYTES = 16
MIN_BITS, MAX_BITS = 1, 32
MAX_SOLUTION = 2**53 - 1  # a whole number JSON carries exactly
_MAC_BYTES = 16
_PERSON_KEY = b"whistle-work-key"
_PERSON_MAC = b"whistle-work-mac"


def _text(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _bytes(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def work_key(session_key: bytes) -> bytes:
    """The MAC key of challenges: BLAKE2b-256 keyed with the session key, personalised for this."""
    session_key = envelopes.check_secret_key(session_key, "session key")
    return envelopes.blake2b(b"", size=envelopes.KEY_LEN, key=session_key, person=_PERSON_KEY)


@dataclass(frozen=True)
class Challenge:
    """A challenge whose MAC checked: its text, difficulty, issue time and nonce."""

    text: str
    bits: int
    issued: int  # seconds since the epoch
    nonce: bytes


def _mac(body: str, key: bytes) -> bytes:
    return envelopes.blake2b(body.encode("ascii"), size=_MAC_BYTES, key=key, person=_PERSON_MAC)


def new_challenge(key: bytes, *, bits: int, issued: int) -> str:
    """A fresh challenge of `bits` difficulty, issued at `issued` (seconds since the epoch)."""
    if not MIN_BITS <= bits <= MAX_BITS:
        raise ValueError(f"bits must be {MIN_BITS} to {MAX_BITS}")
    key = envelopes.check_secret_key(key, "work key")
    body = f"{VERSION}.{bits}.{int(issued)}.{_text(bindings.randombytes(NONCE_BYTES))}"
    return f"{body}.{_text(_mac(body, key))}"


def read_challenge(text: object, key: bytes) -> Challenge | None:
    """The challenge `text` if this deployment issued it (its MAC checks), else None. Never raises
    on what a client sent."""
    if not isinstance(text, str) or len(text) > 128 or not text.isascii():
        return None
    parts = text.split(".")
    if len(parts) != 5 or parts[0] != VERSION or not parts[1].isdigit() or not parts[2].isdigit():
        return None
    try:
        nonce, mac = _bytes(parts[3]), _bytes(parts[4])
    except (binascii.Error, ValueError):
        return None
    body = text.rpartition(".")[0]
    key = envelopes.check_secret_key(key, "work key")
    if len(nonce) != NONCE_BYTES or not hmac.compare_digest(mac, _mac(body, key)):
        return None
    return Challenge(text=text, bits=int(parts[1]), issued=int(parts[2]), nonce=nonce)


def _digest(challenge: str, solution: int) -> bytes:
    message = challenge.encode("ascii") + solution.to_bytes(8, "little")
    return envelopes.blake2b(message, size=32, person=b"")


def _leading_zero_bits(digest: bytes) -> int:
    value = int.from_bytes(digest, "big")
    return len(digest) * 8 - value.bit_length()


def solves(challenge: str, solution: object, bits: int) -> bool:
    """Whether `solution` solves `challenge` at `bits` difficulty."""
    if type(solution) is not int or not 0 <= solution <= MAX_SOLUTION:
        return False
    return _leading_zero_bits(_digest(challenge, solution)) >= bits


def solve(challenge: str, bits: int) -> int:
    """The first solution of `challenge` (what a client does; about 2**bits hashes)."""
    # hashlib's BLAKE2b-256 without a key is crypto_generichash; its state after the challenge is
    # copied for each try, which makes this several times faster than hashing the whole message.
    prefix = hashlib.blake2b(challenge.encode("ascii"), digest_size=32)
    whole, rest = divmod(bits, 8)
    mask = (0xFF << (8 - rest)) & 0xFF
    for solution in range(MAX_SOLUTION + 1):
        attempt = prefix.copy()
        attempt.update(solution.to_bytes(8, "little"))
        digest = attempt.digest()
        if not any(digest[:whole]) and not (rest and digest[whole] & mask):
            return solution
    raise AssertionError("unreachable")  # pragma: no cover - 2**53 tries find one for any bits <= 32


def check_proof(challenge: object, solution: object, key: bytes, *, bits: int, now: int,
                lifetime: int) -> Challenge | None:
    """The challenge, if `solution` is a valid proof of work on it: issued here, at `bits`
    difficulty, not in the future (a minute's clock skew between nodes allowed), at most `lifetime`
    seconds old, and solved. None otherwise. Whether it was used before is for the caller to know."""
    read = read_challenge(challenge, key)
    if read is None or read.bits != bits:
        return None
    if read.issued > now + 60 or now - read.issued > lifetime:
        return None
    return read if solves(read.text, solution, bits) else None
