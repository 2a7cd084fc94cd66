"""The date arithmetic, input checks and setting behind retaliation watch."""
from __future__ import annotations

from datetime import date

import pytest

from whistle.protection.forms import validate_event, validate_protection
from whistle.deadlines import add_months
from whistle.protection.services import ADVERSE_EVENT_TYPES, EVENT_TYPES
from whistle.settings import ConfigurationError, load_settings
from tests.conftest import app_settings


@pytest.mark.parametrize("start, months, end", [
    (date(2026, 1, 31), 1, date(2026, 2, 28)),
    (date(2024, 1, 31), 1, date(2024, 2, 29)),
    (date(2026, 3, 15), 24, date(2028, 3, 15)),
    (date(2026, 11, 30), 3, date(2027, 2, 28)),
    (date(2026, 5, 1), -7, date(2025, 10, 1)),
])
def test_add_months_keeps_the_day_or_takes_the_months_last(start, months, end):
    assert add_months(start, months) == end


def test_event_types_cover_the_article_19_detriments_and_nothing_twice():
    assert len(set(EVENT_TYPES)) == len(EVENT_TYPES)
    for slug in ("dismissal", "suspension", "demotion", "promotion_withheld", "duties_transferred", "pay_cut",
                 "hours_changed", "training_withheld", "negative_appraisal", "disciplinary", "contract_not_renewed"):
        assert slug in ADVERSE_EVENT_TYPES
    assert "promotion" not in ADVERSE_EVENT_TYPES and "promotion" in EVENT_TYPES


def test_event_validation_names_each_bad_field():
    clean, errors = validate_event({"personnel_id": " 123 ", "type": "dismissal", "effective": "2026-05-01"})
    assert errors == {} and clean == {"personnel_id": "123", "type": "dismissal", "effective": date(2026, 5, 1)}
    _, errors = validate_event({"personnel_id": 123, "type": "sacked", "effective": "01/05/2026"})
    assert set(errors) == {"personnel_id", "type", "effective"}
    _, errors = validate_event({"personnel_id": "x" * 65, "type": "dismissal", "effective": "2026-05-01"})
    assert set(errors) == {"personnel_id"}


def test_protection_form_defaults_and_limits():
    today = date(2026, 6, 1)
    clean, errors = validate_protection({"personnel_id": "A1"}, today)
    assert errors == {} and clean == {"personnel_id": "A1", "starts_on": today, "window_months": 24}
    _, errors = validate_protection({"personnel_id": "", "starts_on": "tomorrow", "window_months": "0"}, today)
    assert set(errors) == {"personnel_id", "starts_on", "window_months"}


def test_checkin_months_setting(tmp_path):
    raw = app_settings(tmp_path, "sqlite://")
    assert load_settings(raw, environ={}).checkin_months == (3, 6, 12)
    assert load_settings(dict(raw, **{"whistle.retaliation.checkin_months": "12, 1 6 6"}),
                         environ={}).checkin_months == (1, 6, 12)
    with pytest.raises(ConfigurationError, match="whistle.retaliation.checkin_months"):
        load_settings(dict(raw, **{"whistle.retaliation.checkin_months": "0 3"}), environ={})
