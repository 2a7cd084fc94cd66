"""The hypothesis settings every property test here runs under: bounded, so the whole directory
takes about a minute, and deterministic, so CI fails (or passes) the same way every run.

`derandomize=True` draws the examples from a seed fixed by each test's source, and `database=None`
keeps no examples between runs (a failure found once would otherwise be replayed only on the
machine that found it). For a longer, random run by hand: WHISTLE_TEST_PROPERTY_EXAMPLES=5000 and
WHISTLE_TEST_PROPERTY_RANDOM=1.
"""
from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

SCALE = int(os.environ.get("WHISTLE_TEST_PROPERTY_EXAMPLES", "0"))
RANDOM = os.environ.get("WHISTLE_TEST_PROPERTY_RANDOM") == "1"


def bounded(examples: int) -> settings:
    """`examples` examples (or WHISTLE_TEST_PROPERTY_EXAMPLES), no deadline (CI machines are shared),
    fixed seed, no example database."""
    return settings(max_examples=SCALE or examples, deadline=None, derandomize=not RANDOM, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large, HealthCheck.filter_too_much])
