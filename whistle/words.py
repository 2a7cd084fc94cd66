"""Numbers and dates in words people read: file sizes and limits in decimal kB, MB and GB, as
phones and computers show them (never KiB or MiB), and days as "4 March 2027"."""
from __future__ import annotations

import math
from datetime import date

_UNITS = (("GB", 10**9), ("MB", 10**6), ("kB", 10**3))


def size_words(size: int, *, limit: bool = False) -> str:
    """'2.5 MB', '1 GB', '512 bytes'. One decimal below 10 of a unit, none above. A `limit` is
    rounded down, so the page never promises more than the server takes (1 GiB is "1 GB")."""
    for unit, scale in _UNITS:
        amount = size / scale
        factor = 10 if amount < 10 else 1
        amount = (math.floor(amount * factor) if limit else round(amount * factor)) / factor
        if amount >= 1:
            return f"{amount:g} {unit}"
    return "1 byte" if size == 1 else f"{size} bytes"


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")


def day_words(day: date) -> str:
    """'4 March 2027': a day, never a time, and no locale to get wrong."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"
