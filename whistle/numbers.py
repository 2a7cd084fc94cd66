"""Whole numbers typed by people or sent in forms and query strings, read without surprises.

`str.isdigit()` and `int()` take more than ASCII digits: superscripts ("²") pass `isdigit()` and
fail `int()`, other scripts' digits pass both, and 5,000 digits fail `int()` (or overflow a
database column). Input is read here instead: ASCII digits only, and a bound on their number.
"""
from __future__ import annotations

import re

# 18 digits fit a signed 64-bit column (2**63 - 1 has 19), so a number read here never overflows one.
MAX_DIGITS = 18
_DIGITS = re.compile(r"[0-9]+")


def whole_number(value: object, *, max_digits: int = MAX_DIGITS) -> int | None:
    """`value` as a non-negative whole number if it is a string of 1 to `max_digits` ASCII digits
    (spaces around it allowed); otherwise None."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not 0 < len(value) <= max_digits or _DIGITS.fullmatch(value) is None:
        return None
    return int(value)
