"""A malformed receipt costs the same Argon2id work as an unknown one, so timing tells them apart no more
than the answer does."""
from __future__ import annotations

import dataclasses
import time

import pytest

from whistle.crypto import KdfCost
from whistle.reporters.services import ReceiptRejected, login


def timed_rejection(dbsession, settings, clock, receipt) -> float:
    start = time.perf_counter()
    with pytest.raises(ReceiptRejected):
        login(dbsession, settings, clock, receipt)
    return time.perf_counter() - start


def test_malformed_and_unknown_receipts_take_similar_time(dbsession, settings, clock):
    # A real cost (32 MiB), so the Argon2id work dominates everything else in the call.
    costly = dataclasses.replace(settings, receipt_kdf=KdfCost(opslimit=2, memlimit=32 * 1024 * 1024),
                                 receipt_failures_per_minute=1000)
    unknown, malformed = [], []
    for _ in range(5):  # interleaved, and the fastest of each kept: robust to a busy machine
        unknown.append(timed_rejection(dbsession, costly, clock, "ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ"))
        malformed.append(timed_rejection(dbsession, costly, clock, "not a receipt"))
    ratio = min(malformed) / min(unknown)
    # Without the decoy derivation the ratio is about 0.001: the bounds are wide on purpose.
    assert 1 / 3 < ratio < 3, f"malformed/unknown time ratio {ratio:.2f}"


def test_unknown_receipts_of_either_version_and_malformed_ones_take_similar_time(dbsession, settings, clock):
    costly = dataclasses.replace(settings, receipt_kdf=KdfCost(opslimit=2, memlimit=32 * 1024 * 1024),
                                 receipt_failures_per_minute=1000)
    version_1, version_2, malformed = [], [], []
    for _ in range(5):
        version_1.append(timed_rejection(dbsession, costly, clock, "ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ"))
        version_2.append(timed_rejection(dbsession, costly, clock, "ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ"))
        malformed.append(timed_rejection(dbsession, costly, clock, "ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZ"))
    for times in (version_2, malformed):
        ratio = min(times) / min(version_1)
        assert 1 / 3 < ratio < 3, f"time ratio {ratio:.2f} against an unknown receipt of version 1"
