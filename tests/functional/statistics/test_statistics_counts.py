"""The statistics over 10,000 generated cases match an independent count, and every count under 5
is suppressed in the figures, the CSV and the charts' SVG (parsed)."""
from __future__ import annotations

import csv
import io
import re
import time
import xml.etree.ElementTree as ET

import pytest

from tests.factories import html_login, make_staff
from tests.functional.statistics.generated import Expected, expected_counts, generate, insert_cases, make_channels
from whistle.intake_channels.models import Channel
from whistle.statistics import report, services
from whistle.statistics.services import Period
from whistle.statistics.suppression import too_small

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def world(dbsession, clock):
    """10,000 cases on three channels, the period (the last 12 months) and the independent count."""
    today = clock.today()
    period = Period.last_months(today)
    ids = make_channels(dbsession)
    cases = generate(today, period, ids)
    started = time.perf_counter()
    insert_cases(dbsession, cases, ids, today)
    print(f"inserted {len(cases)} cases in {time.perf_counter() - started:.2f} s")
    channels = [dbsession.get(Channel, channel_id) for channel_id in ids.values()]
    return {"today": today, "period": period, "cases": cases, "channels": channels}


def raw_figures(counts) -> tuple[dict, dict, dict]:
    tables = {table.measure: dict(table.rows) for table in counts.tables}
    medians = {measure: (base, value) for measure, base, value in counts.medians}
    shares = {measure: (numerator, base) for measure, numerator, base, _cell in counts.shares}
    return tables, medians, shares


def check_suppressed(figures, expected: Expected) -> dict[tuple[str, str], int | float | None]:
    """Every shown figure is the expected one; every count from 1 to 4 is suppressed."""
    shown = {(f.measure, f.group): f.value for f in figures}
    for measure, groups in expected.tables.items():
        for group, count in groups.items():
            value = shown[measure, group]
            assert value is None or value == count, (measure, group)
            if too_small(count):
                assert value is None, f"{measure} {group} = {count} is shown"
    for measure, (base, median) in expected.medians.items():
        assert shown[measure, "all"] == (median if base >= 5 else None), measure
    for measure, (numerator, base) in expected.shares.items():
        value = shown[measure, "all"]
        assert value is None or value == round(100 * numerator / base), measure
        if base < 5 or too_small(numerator) or too_small(base - numerator):
            assert value is None, measure
    return shown


def test_10000_cases_match_an_independent_count_and_small_counts_are_suppressed(dbsession, world):
    today, period, cases, channels = world["today"], world["period"], world["cases"], world["channels"]
    expected = expected_counts(cases, period, [c.slug for c in channels], today)
    # The generator made the small groups the test is about.
    assert expected.tables["cases_by_month"][period.first.strftime("%Y-%m")] == 2
    assert expected.tables["cases_by_label"]["fraud"] == 1 and expected.tables["cases_by_channel"]["stats-tiny"] == 3

    started = time.perf_counter()
    counts = services.count_cases(dbsession, period, channels, today)
    elapsed = time.perf_counter() - started
    print(f"statistics of {expected.tables['cases']['all']} cases in {elapsed:.3f} s")
    tables, medians, shares = raw_figures(counts)
    assert tables == expected.tables
    assert medians == expected.medians
    assert shares == expected.shares

    figures = services.statistics(dbsession, period, channels, today)
    shown = check_suppressed(figures, expected)
    assert sum(value is None for value in shown.values()) >= 5  # month, label, channel, tiny groups...

    # The CSV: one row per figure; a suppressed one is empty, so no count from 1 to 4 is in it.
    rows = list(csv.reader(io.StringIO(services.as_csv(figures, period, channels).decode())))
    assert rows[0] == ["measure", "group", "value"]
    by_cell = {(measure, group): value for measure, group, value in rows[1:]}
    for (measure, group), value in shown.items():
        assert by_cell[measure, group] == ("" if value is None else services._number(value))
    for measure, groups in expected.tables.items():
        for group, count in groups.items():
            if too_small(count):
                assert by_cell[measure, group] == ""

    # The charts' SVG, parsed: a small count has no bar and no number, only "suppressed".
    titles = {c.slug: c.title for c in channels}
    for section in report.sections(figures, channels):
        measure = section.id.replace("-", "_")
        svg = ET.fromstring(str(section.chart))
        assert svg.find(f"{SVG}title").text == section.heading
        bars = svg.findall(f"{SVG}g")
        group_of = {report.group_words(measure, group, titles): group for group in expected.tables[measure]}
        assert len(bars) == len(group_of)
        for bar in bars:
            group = group_of[bar.get("data-group")]
            count, value = expected.tables[measure][group], shown[measure, group]
            texts = [text.text for text in bar.findall(f"{SVG}text")]
            if value is None:
                assert bar.find(f"{SVG}rect") is None and texts[1:] == ["suppressed"], (measure, texts)
            else:
                assert texts[1:] == [f"{count:,}"] and not too_small(count)


def test_one_small_channel_shows_nothing_that_singles_anyone_out(dbsession, world, testapp, settings, clock):
    """The channel with 3 cases: its total and everything in it is suppressed, on the page too."""
    today, period, cases = world["today"], world["period"], world["cases"]
    tiny = [c for c in world["channels"] if c.slug == "stats-tiny"]
    expected = expected_counts(cases, period, ["stats-tiny"], today)
    assert expected.tables["cases"]["all"] == 3
    figures = services.statistics(dbsession, period, tiny, today)
    shown = check_suppressed(figures, expected)
    assert all(value in (None, 0) for value in shown.values())

    admin = make_staff(dbsession, settings, clock, "stats.admin", admin=True, guardian=False)
    html_login(testapp, admin, clock)
    page = testapp.get("/admin/statistics", {"channel": "stats-tiny"})
    svgs = re.findall(r"<svg .*?</svg>", page.text, re.DOTALL)
    assert len(svgs) == len(report.SECTIONS)
    for svg in svgs:
        numbers = [text.text for text in ET.fromstring(svg).iter(f"{SVG}text") if text.get("data-value")]
        assert set(numbers) <= {"0"}
    download = testapp.get(page.html.find("a", string=re.compile("Download CSV"))["href"])
    values = {value for _measure, _group, value in csv.reader(io.StringIO(download.text))
              if _measure not in ("measure", "period", "channel")}
    assert values <= {"", "0"}


def test_the_statistics_of_several_channels_read_in_every_language(dbsession, world, testapp, settings, clock):
    guardian = make_staff(dbsession, settings, clock, "stats.many", channels=["stats-youth", "stats-tiny"])
    html_login(testapp, guardian, clock)
    said = {code: testapp.get(f"/{code}/staff/statistics").html.select_one(".statistics-period").get_text(" ", strip=True)
            for code in ("cy", "pl", "ar")}
    assert "on 2 channels" in testapp.get("/staff/statistics").html.select_one(".statistics-period").get_text(" ")
    assert all("2" in words and "channels" not in words for words in said.values()), said


def test_a_guardian_sees_only_their_channels(dbsession, world, testapp, settings, clock):
    guardian = make_staff(dbsession, settings, clock, "stats.guardian", channels=["stats-youth"])
    html_login(testapp, guardian, clock)
    page = testapp.get("/staff/statistics")
    options = [option["value"] for option in page.html.select("#statistics-channel option")]
    assert options == ["", "stats-youth"]
    expected = expected_counts(world["cases"], world["period"], ["stats-youth"], world["today"])
    total = page.html.select_one(".statistics-summary td").text
    assert total == f"{expected.tables['cases']['all']:,}"
    testapp.get("/staff/statistics", {"channel": "stats-staff"}, status=400)  # not theirs: refused, named
    download = testapp.get("/staff/statistics.csv", {"channel": "stats-staff"}, status=400)
    assert "Channel: choose one of the channels listed." in download.text


@pytest.mark.slow
def test_100000_cases_are_counted_in_a_few_seconds_at_most(dbsession, clock):
    """Six passes over the cases, whatever their number: about 1.9 s for 100,000 on SQLite and 1.4 s
    on PostgreSQL here, measured while other test runs kept both cores busy (load 5)."""
    today = clock.today()
    period = Period.last_months(today)
    ids = make_channels(dbsession)
    insert_cases(dbsession, generate(today, period, ids, total=100_000, seed=100), ids, today)
    channels = [dbsession.get(Channel, channel_id) for channel_id in ids.values()]
    started = time.perf_counter()
    services.statistics(dbsession, period, channels, today)
    elapsed = time.perf_counter() - started
    print(f"statistics of 100,000 cases in {elapsed:.2f} s")
    assert elapsed < 6


@pytest.mark.parametrize("query", [
    {"from": "9999-12", "to": "9999-12"}, {"from": "2026-00"}, {"from": "2026-1"},
    {"to": "\uff12\uff10\uff12\uff16-\uff10\uff11"},  # 2026-01 in full-width digits
    {"from": "2027-01", "to": "2026-01"}, {"from": "1900-01", "to": "2026-01"}, {"channel": "no-such-channel"},
])
def test_filters_that_cannot_be_shown_are_named_not_a_500(testapp, dbsession, settings, clock, query):
    make_channels(dbsession)
    admin = make_staff(dbsession, settings, clock, "stats.filters", admin=True, guardian=False)
    html_login(testapp, admin, clock)
    page = testapp.get("/admin/statistics", query, status=400)
    assert page.html.select_one("#statistics-errors") is not None
    testapp.get("/admin/statistics.csv", query, status=400)


def test_the_csv_link_of_a_refused_filter_downloads_what_is_shown(testapp, dbsession, settings, clock):
    make_channels(dbsession)
    admin = make_staff(dbsession, settings, clock, "stats.link", admin=True, guardian=False)
    html_login(testapp, admin, clock)
    page = testapp.get("/admin/statistics", {"from": "2026-13", "channel": "stats-youth"}, status=400)
    assert "These are the figures of the last 12 months on that channel" in page.text
    default = Period.last_months(clock.today())
    link = page.html.find("a", string=re.compile("Download CSV"))["href"]
    assert f"from={default.first:%Y-%m}" in link and "channel=stats-youth" in link
    rows = list(csv.reader(io.StringIO(testapp.get(link).text)))
    assert ["period", "from", default.start.isoformat()] in rows and ["channel", "stats-youth", "included"] in rows
