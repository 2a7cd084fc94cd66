"""Whole numbers from input: ASCII digits only, and a bounded count of them."""
from __future__ import annotations

import pytest

from whistle.numbers import MAX_DIGITS, whole_number


@pytest.mark.parametrize("value, number", [("0", 0), ("24", 24), (" 7 ", 7), ("9" * MAX_DIGITS, int("9" * MAX_DIGITS))])
def test_ascii_digits_are_a_number(value, number):
    assert whole_number(value) == number


@pytest.mark.parametrize("value", ["", " ", "-1", "+1", "1.5", "1_000", "²", "١٢", "１２", "9" * (MAX_DIGITS + 1),
                                   "9" * 5000, None, 12, b"12"])
def test_anything_else_is_not(value):
    assert whole_number(value) is None


def test_the_bound_can_be_lower():
    assert whole_number("123", max_digits=3) == 123
    assert whole_number("1234", max_digits=3) is None
