"""Working-day arithmetic on the England and Wales calendar."""
from __future__ import annotations

import logging
from datetime import date, timedelta

from whistle_uk_childrens_complaints.bank_holidays import ENGLAND_AND_WALES, FIRST_YEAR, LAST_YEAR

log = logging.getLogger(__name__)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in ENGLAND_AND_WALES


def add_working_days(start: date, count: int) -> date:
    """The `count`-th working day after `start` (the start day itself is day 0, whatever it is).

    Outside the years the holiday data covers only weekends are skipped: that can make a
    deadline a day or two early, never late, which is the safe side for a statutory timescale.
    """
    if count < 0:
        raise ValueError("count must not be negative")
    day = start
    remaining = count
    while remaining:
        day += timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        log.warning("bank holidays are known only for %s-%s: %s counted on weekends alone",
                    FIRST_YEAR, LAST_YEAR, day.year)
    return day


def subtract_working_days(end: date, count: int) -> date:
    """The working day `count` working days before `end` (the reminder date for a deadline)."""
    if count < 0:
        raise ValueError("count must not be negative")
    day = end
    remaining = count
    while remaining:
        day -= timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return day
