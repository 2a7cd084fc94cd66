"""The suppression rules: small counts, what would give them back by subtraction, small shares and medians."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date

import pytest

from whistle.statistics.charts import bar_chart
from whistle.statistics.services import Period, median_of
from whistle.statistics.suppression import Counts, Table, hide_cells, suppress


def hidden(rows, total=None) -> set[str]:
    return hide_cells(Table("t", list(rows.items()), total))


def test_counts_from_1_to_4_are_hidden_and_zero_is_shown():
    assert hidden({"a": 0, "b": 1, "c": 4, "d": 5, "e": 120}) == {"b", "c"}


def test_a_single_small_cell_next_to_a_shown_total_takes_the_next_smallest_with_it():
    # 40 - 30 - 7 would give 3 back: 7 is hidden too, and every hidden cell looks the same.
    assert hidden({"a": 3, "b": 7, "c": 30, "d": 0}, total=40) == {"a", "b"}


def test_hidden_cells_whose_sum_would_pin_them_take_more():
    # Two 1s: 2 hidden cells adding up to 2 must both be 1. So must two cells adding up to 4? No,
    # but their sum is under 5, itself a small count: the next smallest goes too.
    assert hidden({"a": 1, "b": 1, "c": 9, "d": 50}, total=61) == {"a", "b", "c"}
    assert hidden({"a": 2, "b": 3, "c": 9}, total=14) == {"a", "b"}


def test_without_a_shown_total_only_the_small_cells_go():
    assert hidden({"a": 3, "b": 7, "c": 30}) == {"a"}  # labels: they do not add up


def test_a_small_total_hides_itself_and_needs_nothing_more():
    assert hidden({"a": 3, "b": 0}, total=3) == {"a"}


@pytest.mark.parametrize(("numerator", "base", "shown"), [
    (0, 4, False),  # base under 5
    (3, 50, False), (47, 50, False),  # 3 counted, or 3 not counted
    (0, 50, True), (50, 50, True), (25, 50, True),
])
def test_shares(numerator, base, shown):
    (figure,) = suppress(Counts(shares=[("s", numerator, base, ())]))
    assert (figure.value is not None) is shown


MODES = (("modes", "anonymous"), ("modes", "confidential"), ("modes", "open"))


def test_a_share_of_a_hidden_cell_is_hidden():
    counts = Counts(tables=[Table("modes", [("anonymous", 7), ("open", 3), ("confidential", 40), ("unknown", 0)], 50)],
                    shares=[("share_anonymous", 7, 50, MODES)])
    figures = {(f.measure, f.group): f.value for f in suppress(counts)}
    assert figures["modes", "anonymous"] is None  # the next smallest, hidden with "open"
    assert figures["share_anonymous", "all"] is None  # 14% of 50 would give the 7 back


def test_a_share_whose_base_has_a_hidden_cell_is_hidden():
    # 10 anonymous of 17 known (59%) would give the base, and with it the 3 "unknown", back.
    counts = Counts(tables=[Table("modes", [("anonymous", 10), ("open", 0), ("confidential", 7), ("unknown", 3)], 20)],
                    shares=[("share_anonymous", 10, 17, MODES)])
    figures = {(f.measure, f.group): f.value for f in suppress(counts)}
    assert figures["modes", "anonymous"] == 10 and figures["modes", "confidential"] is None
    assert figures["share_anonymous", "all"] is None


def test_medians_of_fewer_than_5_cases_are_hidden():
    figures = suppress(Counts(medians=[("m4", 4, 3.0), ("m5", 5, 3.0)]))
    assert [f.value for f in figures] == [None, 3.0]


def test_median_of_a_histogram():
    assert median_of({}) is None
    assert median_of({3: 1}) == 3
    assert median_of({1: 1, 2: 1}) == 1.5
    assert median_of({0: 2, 7: 1, 10: 2}) == 7


def test_periods_are_whole_months():
    period = Period.last_months(date(2026, 3, 31))
    assert (period.start, period.end) == (date(2025, 4, 1), date(2026, 3, 31))
    assert len(period.months()) == 12


def test_the_chart_escapes_its_words_and_draws_no_bar_for_a_hidden_cell():
    svg = bar_chart("c", 'Labels <script>"&', [('<b onload="x">', 12), ("small", None)])
    tree = ET.fromstring(str(svg))  # well-formed: the words were escaped
    ns = "{http://www.w3.org/2000/svg}"
    assert tree.find(f"{ns}title").text == 'Labels <script>"&'
    first, second = tree.findall(f"{ns}g")
    assert first.find(f"{ns}rect") is not None and [t.text for t in first.findall(f"{ns}text")] == [
        '<b onload="x">', "12"]
    assert second.find(f"{ns}rect") is None and [t.text for t in second.findall(f"{ns}text")] == [
        "small", "suppressed"]
    assert "<script>" not in str(svg) and tree.get("role") == "img" and tree.get("aria-labelledby") == "c-title c-desc"
