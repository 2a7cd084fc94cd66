"""What the fuzz keeps between its parts: the tally of answers for the closing summary line, and
the environ key under which its app notes that an exception view answered a request."""
from __future__ import annotations

from collections import Counter

RAISED = "whistle.fuzz.raised"
TALLY: Counter = Counter()  # "requests", and one key per status class: "2xx", "3xx", "4xx", "5xx"


def summary() -> str:
    classes = ", ".join(f"{TALLY[k]} × {k}" for k in ("2xx", "3xx", "4xx") if TALLY[k])
    return f"fuzz: {TALLY['requests']} requests, {TALLY['5xx']} × 5xx ({classes})"
