"""The learning report's tables that add up to the cases closed in the period (by channel, and the
answers to "substantiated"): a count under 5 in one of them cannot be worked out by subtracting the
shown counts from the total the page shows."""
from __future__ import annotations

import re

from tests.factories import api_login, html_login
from tests.functional.workspace.test_learning import _table, close, other  # noqa: F401 - the fixture


def _worked_out(total: int, rows: list[tuple[str, str]]) -> int | None:
    """What subtraction gives for the one row not shown as a number, if exactly one is not."""
    hidden = [count for _, count in rows if not count.isdigit()]
    if len(hidden) != 1:
        return None
    return total - sum(int(count) for _, count in rows if count.isdigit())


def test_a_small_count_in_a_table_that_adds_up_to_the_total_is_not_given_back(testapp, clock, guardian, other,
                                                                              headers):
    for _ in range(8):
        close(testapp, headers)
    close(testapp, headers, substantiated="no")
    close(testapp, api_login(testapp, other, clock), channel="ideas")
    html_login(testapp, guardian, clock)
    page = testapp.get("/staff/learning/report")
    total = int(re.search(r"(\d+) cases closed in this period", page.text).group(1))
    assert total == 10
    for caption in ("By channel", "Substantiated"):
        rows = _table(page, caption)
        worked_out = _worked_out(total, rows)
        assert worked_out is None or not 0 < worked_out < 5, f"{caption}: {rows} give {worked_out} back"
