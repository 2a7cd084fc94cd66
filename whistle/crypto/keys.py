"""Key pairs, sealed boxes, Argon2id cost and random secrets."""
from __future__ import annotations

import base64
import math
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from nacl import bindings
from nacl import exceptions as nacl_exceptions

from . import envelopes
from .errors import CryptoError, DecryptionFailed, KdfBusy

# Upper bounds on an Argon2id cost we are willing to run. The cost of an existing password
# wrap is read from the envelope, so without a bound a forged envelope could make one login
# allocate terabytes. 1 GiB and 16 passes are well above libsodium's SENSITIVE preset
# (1 GiB, 4 passes).
MAX_OPSLIMIT = 16
MAX_MEMLIMIT = bindings.crypto_pwhash_argon2id_MEMLIMIT_SENSITIVE


@dataclass(frozen=True)
class KdfCost:
    """Argon2id cost: `opslimit` passes over `memlimit` bytes of memory."""

    opslimit: int
    memlimit: int  # bytes

    def __post_init__(self) -> None:
        if not is_acceptable_cost(self.opslimit, self.memlimit):
            raise ValueError(
                f"Argon2id cost out of range: opslimit must be "
                f"{bindings.crypto_pwhash_argon2id_OPSLIMIT_MIN}..{MAX_OPSLIMIT}, memlimit "
                f"{bindings.crypto_pwhash_argon2id_MEMLIMIT_MIN}..{MAX_MEMLIMIT} bytes"
            )

    @classmethod
    def interactive(cls) -> KdfCost:
        return cls(
            bindings.crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE,
            bindings.crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE,
        )

    @classmethod
    def moderate(cls) -> KdfCost:
        return cls(
            bindings.crypto_pwhash_argon2id_OPSLIMIT_MODERATE,
            bindings.crypto_pwhash_argon2id_MEMLIMIT_MODERATE,
        )

    @classmethod
    def for_tests(cls) -> KdfCost:
        # libsodium's minimums: fast, and worthless against guessing. Tests only.
        return cls(
            bindings.crypto_pwhash_argon2id_OPSLIMIT_MIN,
            bindings.crypto_pwhash_argon2id_MEMLIMIT_MIN,
        )


def is_acceptable_cost(opslimit: object, memlimit: object) -> bool:
    return (
        type(opslimit) is int
        and type(memlimit) is int
        and bindings.crypto_pwhash_argon2id_OPSLIMIT_MIN <= opslimit <= MAX_OPSLIMIT
        and bindings.crypto_pwhash_argon2id_MEMLIMIT_MIN <= memlimit <= MAX_MEMLIMIT
    )


# --- Argon2id work, bounded: at most `concurrency` derivations at once in this process ----------
#
# Each derivation holds `memlimit` bytes for its duration, so a flood of sign-ins or reports could
# otherwise take as much memory as there are threads serving it. A derivation that finds every slot
# taken waits for one, at most `wait` seconds, and then raises KdfBusy, which the edge answers with
# 503 and Retry-After. At most `concurrency` more wait at a time: a waiting derivation holds a
# server thread, and the threads must stay free for everything else (a guardian's inbox), so one
# that would have to wait behind them is refused at once.


@dataclass(frozen=True)
class KdfBounds:
    concurrency: int
    wait: float | None  # seconds; None: wait as long as it takes


@dataclass(frozen=True)
class KdfCounts:
    """Derivations in this process that found every slot taken: waited for one, or were refused."""

    waits: int
    refusals: int


_counts_lock = threading.Lock()
_counts = {"waits": 0, "refusals": 0}


def _count(what: str) -> None:
    with _counts_lock:
        _counts[what] += 1


def argon2id_counts() -> KdfCounts:
    """Since the process started (for /metrics)."""
    with _counts_lock:
        return KdfCounts(**_counts)


class _Slots:
    def __init__(self, bounds: KdfBounds) -> None:
        if bounds.concurrency < 1:
            raise ValueError("at least one Argon2id derivation must be allowed at a time")
        self.bounds = bounds
        self.running = threading.BoundedSemaphore(bounds.concurrency)
        self.waiting = threading.BoundedSemaphore(bounds.concurrency)

    def busy(self) -> KdfBusy:
        # About when a slot frees up again: each waiting derivation gives up after `wait` seconds.
        _count("refusals")
        return KdfBusy(retry_after=max(1, math.ceil(self.bounds.wait or 1)))

    def take(self) -> None:
        if self.running.acquire(blocking=False):
            return
        if not self.waiting.acquire(blocking=False):
            raise self.busy()
        _count("waits")
        try:
            if not self.running.acquire(timeout=self.bounds.wait):
                raise self.busy()
        finally:
            self.waiting.release()


_slots = _Slots(KdfBounds(concurrency=os.cpu_count() or 1, wait=None))


def bound_argon2id(concurrency: int, wait: float | None) -> None:
    """Allow at most `concurrency` Argon2id derivations at once in this process, and as many more
    waiting, each at most `wait` seconds, for their turn. A derivation under way keeps its slot."""
    global _slots
    _slots = _Slots(KdfBounds(concurrency, wait))


def argon2id_bounds() -> KdfBounds:
    return _slots.bounds


@contextmanager
def kdf_slot() -> Iterator[None]:
    """Hold one Argon2id slot (what every derivation does), or raise KdfBusy."""
    slots = _slots  # released to the semaphore it was taken from, even if the bounds change meanwhile
    slots.take()
    try:
        yield
    finally:
        slots.running.release()


def argon2id(password: bytes, salt: bytes, cost: KdfCost, size: int) -> bytes:
    """crypto_pwhash with ALG_ARGON2ID13; `size` output bytes. Every Argon2id in whistle runs here,
    in a slot (kdf_slot), or raises KdfBusy."""
    with kdf_slot():
        try:
            return bindings.crypto_pwhash_alg(
                size, password, salt, cost.opslimit, cost.memlimit, bindings.crypto_pwhash_ALG_ARGON2ID13
            )
        except nacl_exceptions.CryptoError as error:
            # Not a wrong password (Argon2id accepts any input): out of memory, most likely.
            raise CryptoError("Argon2id failed") from error


@dataclass(frozen=True)
class KeyPair:
    """An X25519 key pair; the private half is kept out of repr() so it never reaches a log."""

    public: bytes
    private: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not (isinstance(self.public, bytes) and isinstance(self.private, bytes)):
            raise TypeError("KeyPair keys must be bytes")
        if len(self.public) != envelopes.KEY_LEN or len(self.private) != envelopes.KEY_LEN:
            raise ValueError("KeyPair keys must be 32 bytes each")
        # Catches swapped or mismatched halves here, instead of as a baffling
        # DecryptionFailed much later.
        if bindings.crypto_scalarmult_base(self.private) != self.public:
            raise ValueError("public key does not belong to private key")

    @classmethod
    def generate(cls) -> KeyPair:
        public, private = bindings.crypto_box_keypair()
        return cls(public, private)

    @classmethod
    def from_private(cls, private: bytes) -> KeyPair:
        private = envelopes.as_bytes(private)
        if len(private) != envelopes.KEY_LEN:
            raise ValueError("private key must be 32 bytes")
        # The public half is computed from the private one here, so the pair cannot be mismatched:
        # __post_init__'s check would only compute the same X25519 scalar multiplication again.
        pair = object.__new__(cls)
        object.__setattr__(pair, "public", bindings.crypto_scalarmult_base(private))
        object.__setattr__(pair, "private", private)
        return pair


# Sealed envelope: version, type, crypto_box_seal(data). A sealed box has no associated data,
# so the two header bytes are not authenticated; they have exactly one valid value each, so
# changing them only turns the envelope into one nobody reads.
_SEALED_HEADER = envelopes.header(envelopes.TYPE_SEALED)


def seal(recipient_public: bytes, data: bytes) -> bytes:
    """Encrypt `data` (typically a private key) so only the holder of the key pair can read it."""
    recipient_public = envelopes.check_public_key(recipient_public)
    return _SEALED_HEADER + envelopes.seal_key(envelopes.as_bytes(data), recipient_public)


# The length of a 32-byte key in a sealed envelope (docs/crypto.md 5.1): 2 + 32 + 48 = 82.
SEALED_KEY_SIZE = envelopes.HEADER_LEN + envelopes.SEALED_KEY_LEN


def is_sealed_key(envelope: bytes) -> bool:
    """Whether `envelope` has the shape of a sealed 32-byte key: the header and the length. Only
    its holder can tell more (a sealed box says nothing about who sealed it or to whom)."""
    return len(envelope) == SEALED_KEY_SIZE and envelope[:envelopes.HEADER_LEN] == _SEALED_HEADER


def unseal(recipient: KeyPair, envelope: bytes) -> bytes:
    envelope = envelopes.as_bytes(envelope)
    envelopes.check_header(envelope, envelopes.TYPE_SEALED)
    body = envelope[envelopes.HEADER_LEN :]
    if len(body) < bindings.crypto_box_SEALBYTES:
        raise DecryptionFailed("sealed envelope too short")
    return envelopes.unseal_key(body, recipient.public, recipient.private)


def random_bytes(n: int) -> bytes:
    if n < 0:
        raise ValueError("n must not be negative")
    return bindings.randombytes(n)


def new_secret_key() -> bytes:
    """32 random bytes for a key file (lookup pepper, session key)."""
    return bindings.randombytes(32)


def random_token(nbytes: int = 16) -> str:
    """`nbytes` random bytes as urlsafe base64 without padding."""
    return base64.urlsafe_b64encode(random_bytes(nbytes)).rstrip(b"=").decode("ascii")
