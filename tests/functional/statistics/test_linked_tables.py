"""A table whose total is a cell of another table: its shown cells must not add up to that cell
when the other table suppresses it (the outcomes of closed cases add up to "closed" by status)."""
from __future__ import annotations

from datetime import timedelta

from tests.functional.statistics.generated import Generated, insert_cases, make_channels
from whistle.intake_channels.models import Channel
from whistle.statistics import services
from whistle.statistics.services import Period


def test_outcomes_do_not_give_back_a_suppressed_closed_count(dbsession, clock):
    today = clock.today()
    period = Period.last_months(today)
    ids = make_channels(dbsession)
    opened = period.first + timedelta(days=3)
    cases = [Generated(id=n, channel="stats-staff", opened_on=opened, status="received") for n in range(20)]
    # Two cases being assessed: a count the page must not show, nor let anyone work out.
    cases += [Generated(id=20 + n, channel="stats-staff", opened_on=opened, status="assessing",
                        acknowledged_on=opened) for n in range(2)]
    cases += [Generated(id=22 + n, channel="stats-staff", opened_on=opened, status="closed", acknowledged_on=opened,
                        closed_on=opened + timedelta(days=5), substantiated="yes") for n in range(7)]
    for case in cases:  # insert_cases writes labels and audit events in bulk: give it some
        case.mode, case.labels = "confidential", ["staffing"]
    insert_cases(dbsession, cases, ids, today)
    channels = [dbsession.get(Channel, ids["stats-staff"])]

    shown = {(f.measure, f.group): f.value for f in services.statistics(dbsession, period, channels, today)}

    assert shown["cases_by_status", "assessing"] is None
    assert shown["cases", "all"] == 29
    statuses = {group: value for (measure, group), value in shown.items() if measure == "cases_by_status"}
    outcomes = {group: value for (measure, group), value in shown.items() if measure == "outcomes"}
    # What a reader can add up: the total, the shown statuses, and (if every outcome is shown)
    # the closed cases as the sum of their outcomes.
    if statuses["closed"] is None and None not in outcomes.values():
        closed = sum(outcomes.values())
        hidden = [group for group, value in statuses.items() if value is None and group != "closed"]
        worked_out = shown["cases", "all"] - sum(v for v in statuses.values() if v is not None) - closed
        assert not (len(hidden) == 1 and 0 < worked_out < 5), (
            f"{hidden[0]} = {worked_out} can be worked out from the outcomes' sum ({closed} closed)")


def test_a_label_on_fewer_than_5_cases_is_not_named_where_people_see_the_figures(dbsession, clock):
    today = clock.today()
    period = Period.last_months(today)
    ids = make_channels(dbsession)
    opened = period.first + timedelta(days=3)
    cases = [Generated(id=n, channel="stats-staff", opened_on=opened, status="received") for n in range(8)]
    for n, case in enumerate(cases):
        case.mode = "anonymous"
        case.labels = ["staffing"] + (["dr-jones-ward-9"] if n < 2 else []) + (["night-rota"] if n < 3 else [])
    insert_cases(dbsession, cases, ids, today)
    channels = [dbsession.get(Channel, ids["stats-staff"])]
    figures = services.statistics(dbsession, period, channels, today)
    # Plugins' exports still get each label's own (suppressed) cell.
    assert {(f.group, f.value) for f in figures if f.measure == "cases_by_label"} == {
        ("staffing", 8), ("dr-jones-ward-9", None), ("night-rota", None)}

    shown = services.for_people(figures)
    assert [(f.group, f.value) for f in shown if f.measure == "cases_by_label"] == [
        ("staffing", 8), (services.RARE_LABELS, None)]
    csv = services.as_csv(shown, period, channels).decode()
    assert "dr-jones" not in csv and "night-rota" not in csv and services.RARE_LABELS in csv
