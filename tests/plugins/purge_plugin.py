"""A plugin that records the cases core purged (for tests of whistle_case_purged)."""
from whistle import hookimpl

PURGED: list[tuple[str, str]] = []


@hookimpl
def whistle_case_purged(ref, channel):
    PURGED.append((ref, channel))
