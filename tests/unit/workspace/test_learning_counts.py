"""The learning report's counts as pages show them, and the learning filters read from a query."""
from __future__ import annotations

from datetime import date

import pytest
from webob.multidict import MultiDict

from whistle.cases.learning import LearningFilters, ranked, shown
from whistle.errors import Problem


def test_counts_from_1_to_4_are_fewer_than_5_and_0_and_5_are_shown():
    assert [shown(n) for n in (0, 1, 4, 5, 12)] == ["0", "fewer than 5", "fewer than 5", "5", "12"]


def test_ranked_puts_shown_counts_first_then_the_suppressed_by_name_then_the_zeros():
    counts = {"a": 0, "b": 4, "c": 9, "d": 1, "e": 5, "f": 0}
    assert ranked(counts, str.upper) == [("C", "9"), ("E", "5"), ("B", "fewer than 5"), ("D", "fewer than 5"),
                                         ("A", "0"), ("F", "0")]
    # The order of the suppressed ones does not depend on their counts.
    assert [name for name, _ in ranked({"b": 1, "d": 4}, str)] == [name for name, _ in ranked({"b": 4, "d": 1}, str)]


def test_filters_from_a_query_and_back():
    params = MultiDict([("factors", "communication"), ("factors", "record_keeping"), ("factors", "communication"),
                        ("changes", "process"), ("substantiated", "partly"), ("channel", "staff"),
                        ("from", "2026-01-01"), ("to", "2026-03-31")])
    filters = LearningFilters.from_params(params)
    assert filters == LearningFilters(factors=("communication", "record_keeping"), changes=("process",),
                                      substantiated="partly", channel="staff", since=date(2026, 1, 1),
                                      until=date(2026, 3, 31))
    assert LearningFilters.from_params(MultiDict(filters.query_args())) == filters
    assert filters.period(date(2026, 12, 1)) == (date(2026, 1, 1), date(2026, 3, 31))
    assert LearningFilters().period(date(2026, 12, 1)) == (date(2025, 12, 1), date(2026, 12, 1))


@pytest.mark.parametrize(("params", "fields"), [
    ([("factors", "weather")], {"factors"}),
    ([("changes", "everything")], {"changes"}),
    ([("substantiated", "maybe")], {"substantiated"}),
    ([("from", "1/2/2026"), ("to", "\uff12\uff10\uff12\uff16-01-01")], {"from", "to"}),  # full-width digits
    ([("from", "2026-02-30")], {"from"}),
    ([("from", "2026-03-01"), ("to", "2026-02-01")], {"to"}),
])
def test_a_faulty_filter_is_named(params, fields):
    with pytest.raises(Problem) as refused:
        LearningFilters.from_params(MultiDict(params))
    assert {error["field"] for error in refused.value.errors} == fields
