"""Bank holidays in England and Wales, 2024 to 2028: the calendar working days are counted on.

Source: the official list at gov.uk/bank-holidays (England and Wales), as published for
2024-2026, extended to 2027-2028 by the same rules (New Year's Day, Good Friday, Easter Monday,
first and last Monday of May, last Monday of August, Christmas Day, Boxing Day; a holiday on a
weekend moves to the next free weekday). Easter dates: 31 Mar 2024, 20 Apr 2025, 5 Apr 2026,
28 Mar 2027, 16 Apr 2028 (checked against the Gregorian computus in the tests). A one-off
holiday proclaimed later (a coronation, a funeral) must be added here by hand. Update this file
before the end of 2028: outside these years only weekends are skipped (see `working_days.py`).
"""
from __future__ import annotations

from datetime import date

FIRST_YEAR, LAST_YEAR = 2024, 2028

_DATES = """
2024-01-01 2024-03-29 2024-04-01 2024-05-06 2024-05-27 2024-08-26 2024-12-25 2024-12-26
2025-01-01 2025-04-18 2025-04-21 2025-05-05 2025-05-26 2025-08-25 2025-12-25 2025-12-26
2026-01-01 2026-04-03 2026-04-06 2026-05-04 2026-05-25 2026-08-31 2026-12-25 2026-12-28
2027-01-01 2027-03-26 2027-03-29 2027-05-03 2027-05-31 2027-08-30 2027-12-27 2027-12-28
2028-01-03 2028-04-14 2028-04-17 2028-05-01 2028-05-29 2028-08-28 2028-12-25 2028-12-26
"""
# 2026-12-28: Boxing Day falls on a Saturday. 2027-12-27/28: Christmas on a Saturday, Boxing Day
# on a Sunday. 2028-01-03: New Year's Day falls on a Saturday.

ENGLAND_AND_WALES: frozenset[date] = frozenset(date.fromisoformat(day) for day in _DATES.split())
