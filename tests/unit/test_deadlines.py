"""The EU Directive deadline profile: 7 days to acknowledge, 3 months to give feedback."""
from datetime import date

from whistle.deadlines import EU_DIRECTIVE, add_months, profile_named


def test_acknowledgement_is_due_seven_days_after_receipt():
    assert EU_DIRECTIVE.ack_due(date(2026, 12, 28)) == date(2027, 1, 4)


def test_feedback_is_due_three_months_after_acknowledgement():
    assert EU_DIRECTIVE.feedback_due(date(2026, 1, 1), date(2026, 1, 3)) == date(2026, 4, 3)


def test_feedback_runs_from_day_seven_when_never_acknowledged():
    assert EU_DIRECTIVE.feedback_due(date(2026, 1, 1), None) == date(2026, 4, 8)


def test_month_arithmetic_clamps_to_the_end_of_the_month():
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)
    assert add_months(date(2027, 11, 30), 3) == date(2028, 2, 29)
    assert add_months(date(2026, 10, 31), 1) == date(2026, 11, 30)


def test_unknown_profiles_fall_back_to_the_legal_minimum():
    assert profile_named("no-such-profile") is EU_DIRECTIVE
