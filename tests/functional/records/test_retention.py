"""The one rule for when a case is deleted, kept in step as the case moves, and shown to guardians."""
from __future__ import annotations

import tomllib
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from tests.factories import html_login
from tests.functional.workspace.test_lifecycle import OUTCOME, move
from whistle.cases.models import Case
from whistle.intake_channels.services import ChannelConfigError, channel_by_slug, load_channels
from whistle.records.services import due_for_deletion

CHANNEL = SimpleNamespace(retention_days=100, retention_untaken_days=10, retention_withdrawn_days=3)
CLOSED_ON = date(2027, 1, 10)


def _case(**fields):
    values = {"status": "closed", "closed_on": CLOSED_ON, "acknowledged_on": date(2027, 1, 2), "withdrawn_on": None,
              "hold_since": None}
    return SimpleNamespace(**{**values, **fields})


@pytest.mark.parametrize(("fields", "due"), [
    ({}, CLOSED_ON + timedelta(days=100)),
    ({"acknowledged_on": None}, CLOSED_ON + timedelta(days=10)),
    ({"withdrawn_on": date(2027, 1, 8)}, date(2027, 1, 11)),
    ({"withdrawn_on": date(2027, 1, 8), "acknowledged_on": None}, date(2027, 1, 11)),
    ({"hold_since": date(2027, 2, 1)}, None),
    ({"status": "assessing", "closed_on": None}, None),
    ({"status": "feedback_given", "closed_on": None, "withdrawn_on": date(2027, 1, 8)}, None),
])
def test_the_rule(fields, due):
    assert due_for_deletion(_case(**fields), CHANNEL) == due


def test_a_withdrawn_case_with_no_days_is_due_the_day_it_was_withdrawn():
    rule = SimpleNamespace(**{**vars(CHANNEL), "retention_withdrawn_days": 0})
    assert due_for_deletion(_case(withdrawn_on=CLOSED_ON), rule) == CLOSED_ON


def _row(dbsession, ref) -> Case:
    case = dbsession.scalars(select(Case).where(Case.ref == ref)).one()
    dbsession.refresh(case)
    return case


def test_closing_sets_the_day_and_reopening_clears_it(testapp, dbsession, headers, submitted, channel, clock):
    ref = submitted["case"]
    for to in ("acknowledged", "assessing"):
        move(testapp, headers, ref, to)
    assert _row(dbsession, ref).delete_on is None
    closed = move(testapp, headers, ref, "closed", **OUTCOME).json
    assert closed["delete_on"] == (clock.today() + timedelta(days=channel.retention_days)).isoformat()
    assert _row(dbsession, ref).delete_on == clock.today() + timedelta(days=channel.retention_days)
    reopened = move(testapp, headers, ref, "assessing", reason="A second report on the same ward.").json
    assert reopened["delete_on"] is None and _row(dbsession, ref).delete_on is None


def test_the_case_page_and_the_inbox_say_when_a_case_is_deleted(testapp, dbsession, guardian, submitted, channel,
                                                                clock):
    ref = submitted["case"]
    html_login(testapp, guardian, clock)
    page = testapp.get(f"/staff/cases/{ref}")
    assert "Kept while open." in page.html.find(id="keeping").text
    case = _row(dbsession, ref)
    case.status, case.closed_on, case.acknowledged_on = "closed", date(2027, 3, 1), date(2027, 2, 20)
    case.delete_on = date(2029, 3, 1)
    dbsession.flush()
    page = testapp.get(f"/staff/cases/{ref}")
    assert "To be deleted on 1 March 2029." in page.html.find(id="keeping").text
    row = testapp.get("/staff/cases").html.find("a", string=ref).find_parent("tr")
    assert "to be deleted on 1 March 2029" in row.text
    case.hold_since, case.delete_on = date(2027, 4, 2), None
    dbsession.flush()
    assert "On legal hold since 2 April 2027." in testapp.get(f"/staff/cases/{ref}").html.find(id="keeping").text
    assert "on legal hold since 2 April 2027" in testapp.get("/staff/cases").html.find(
        "a", string=ref).find_parent("tr").text


SPEC = {"slug": "kept", "title": "Kept"}


def test_channels_load_the_three_periods(dbsession):
    load_channels(dbsession, [{**SPEC, "retention_days": 400, "retention_untaken_days": 60,
                               "retention_withdrawn_days": 0}])
    load_channels(dbsession, [{**SPEC, "slug": "defaults"}])
    kept, defaults = channel_by_slug(dbsession, "kept"), channel_by_slug(dbsession, "defaults")
    assert (kept.retention_days, kept.retention_untaken_days, kept.retention_withdrawn_days) == (400, 60, 0)
    assert (defaults.retention_days, defaults.retention_untaken_days, defaults.retention_withdrawn_days) == (
        1825, 365, 30)


@pytest.mark.parametrize(("key", "value"), [
    ("retention_untaken_days", 0), ("retention_untaken_days", "365"), ("retention_withdrawn_days", -1),
    ("retention_withdrawn_days", True), ("retention_days", 10**9),
])
def test_a_bad_period_is_refused_naming_it(dbsession, key, value):
    with pytest.raises(ChannelConfigError, match=key):
        load_channels(dbsession, [{**SPEC, key: value}])


def test_the_admin_channel_page_shows_the_three_periods(testapp, dbsession, admin, channel, clock):
    channel.retention_days, channel.retention_untaken_days, channel.retention_withdrawn_days = 400, 60, 0
    dbsession.flush()
    html_login(testapp, admin, clock)
    cell = testapp.get("/admin/channels").html.find("td", attrs={"data-label": "Kept for"}).text
    assert cell == "400 days after closure; 60 days if never taken up; deleted at once if the reporter withdraws"


def test_the_shipped_channels_say_all_three_periods():
    shipped = tomllib.loads((Path(__file__).resolve().parents[3] / "config" / "channels.toml").read_text())
    for channel in shipped["channel"]:
        assert {"retention_days", "retention_untaken_days", "retention_withdrawn_days"} <= set(channel), channel["slug"]
