"""The statistics pages in a real Chromium with JavaScript off, at a phone's and a desktop's width:
the charts are drawn, the filters (a GET form) work, a refused filter is named, the CSV downloads,
nothing scrolls sideways; a guardian sees their own channels. The server has 10,000 generated
cases (tests/functional/statistics/generated.py) written into its database before it is used.
Screenshots: statistics-*.png where the harness prints."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from babel.numbers import format_decimal
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

import whistle.models  # noqa: F401 -- every mapper, so the models' relationships resolve
from tests.browser.conftest import WIDTHS
from tests.browser.pages import credentials, sign_in
from tests.browser.test_staff_pages import OVERFLOW
from tests.e2e.server import Server
from tests.functional.statistics.generated import Generated, expected_counts, generate, insert_cases, make_channels
from whistle.accounts.models import Account
from whistle.deadlines import add_months
from whistle.intake_channels.models import ChannelGuardian
from whistle.statistics.services import Period

pytestmark = pytest.mark.browser

GUARDIANS_CHANNELS = ("stats-youth", "stats-tiny")


@dataclass
class Site:
    server: Server
    admin: dict  # Playwright storage state of a signed-in demo.admin
    guardian: dict  # ... of demo.guardian
    cases: list[Generated]


@pytest.fixture(scope="module")
def stats_site(tmp_path_factory, chromium):
    """A server of its own (the shared one's pages count their cases), with 10,000 generated cases
    on three channels, two of them demo.guardian's."""
    server = Server(tmp_path_factory.mktemp("statistics-site"))
    server.start()
    try:
        today = datetime.now(UTC).date()  # the server's clock
        engine = create_engine(f"sqlite:///{server.directory / 'var' / 'whistle.sqlite'}")
        with Session(engine) as session:
            ids = make_channels(session)
            guardian = session.scalar(select(Account.id).where(Account.username == "demo.guardian"))
            session.add_all([ChannelGuardian(channel_id=ids[slug], account_id=guardian) for slug in GUARDIANS_CHANNELS])
            cases = generate(today, Period.last_months(today), ids)
            insert_cases(session, cases, ids, today)
            session.commit()
        engine.dispose()
        yield Site(server, admin=sign_in(chromium, server, credentials(server, "admin"), 0),
                   guardian=sign_in(chromium, server, credentials(server, "guardian"), 1), cases=cases)
    finally:
        server.stop()


def open_as(chromium, site: Site, state: dict, width: int):
    context = chromium.new_context(viewport={"width": width, "height": 900}, java_script_enabled=False,
                                   base_url=f"http://127.0.0.1:{site.server.port}", storage_state=state,
                                   accept_downloads=True)
    return context.new_page()


def summary(page) -> dict[str, str]:
    rows = page.locator(".statistics-summary tr")
    return {rows.nth(i).locator("th").inner_text(): rows.nth(i).locator("td").inner_text() for i in range(rows.count())}


def fits(page) -> None:
    # A form's answer may still be loading its stylesheet after the click returns; measured before
    # it applies, each chart is its unstyled width attribute (408 px) and overflows a phone.
    page.wait_for_load_state("load")
    measured = page.evaluate(OVERFLOW)
    assert measured["scroll"] <= measured["width"], measured


@pytest.mark.parametrize("width", WIDTHS)
def test_the_admin_statistics_page_works_without_javascript(chromium, stats_site, screenshots, width):
    page = open_as(chromium, stats_site, stats_site.admin, width)
    page.goto("/admin/statistics")
    # No script but the warning before the idle limit (session-timeout.js), which the charts do not need.
    scripts = page.locator("script").evaluate_all("(nodes) => nodes.map((node) => node.getAttribute('src'))")
    assert scripts == ["/static/js/session-timeout.js"]
    charts = page.locator("svg.chart")
    assert charts.count() == 8 and all(charts.nth(i).is_visible() for i in range(8))
    assert page.locator("svg.chart[role=img] title").first.text_content() == "Cases by month opened"
    # The month of 2 cases, and the next smallest month, so the 2 cannot be worked out from the total.
    assert page.locator("#chart-cases-by-month text[data-suppressed]").count() == 2
    fits(page)
    screenshots(page, "statistics-admin")

    # The filters: one channel, the last six months. The form is a GET: the URL says what is shown.
    today = datetime.now(UTC).date()
    period = Period(add_months(today.replace(day=1), -5), today.replace(day=1))
    page.fill("#statistics-from", period.first.strftime("%Y-%m"))
    page.select_option("#statistics-channel", "stats-staff")
    page.get_by_role("button", name="Show").click()
    assert f"from={period.first:%Y-%m}" in page.url and "channel=stats-staff" in page.url
    expected = expected_counts(stats_site.cases, period, ["stats-staff"], today)
    assert summary(page)["Cases opened"] == f"{expected.tables['cases']['all']:,}"
    assert page.locator("#chart-cases-by-month g.bar").count() == 6
    assert "on the channel Staff concerns" in " ".join(page.locator(".statistics-period").inner_text().split())
    fits(page)
    screenshots(page, "statistics-admin-filtered")

    # The CSV of what is shown.
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    rows = list(csv.reader(io.StringIO(download.value.path().read_text())))
    by_cell = {(measure, group): value for measure, group, value in rows[1:]}
    assert by_cell["cases", "all"] == str(expected.tables["cases"]["all"])
    assert by_cell["channel", "stats-staff"] == "included" and ("channel", "stats-youth") not in by_cell

    # A refused filter is named, and what was typed stays.
    page.fill("#statistics-from", today.strftime("%Y-%m"))
    page.fill("#statistics-to", period.first.strftime("%Y-%m"))
    page.get_by_role("button", name="Show").click()
    page.wait_for_load_state("load")
    assert page.locator("#statistics-errors").is_visible()
    assert "To: choose a month on or after the first month." in page.locator("#statistics-errors").inner_text()
    assert page.input_value("#statistics-to") == period.first.strftime("%Y-%m")
    fits(page)
    screenshots(page, "statistics-admin-refused")
    page.context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_a_guardian_sees_the_statistics_of_their_channels(chromium, stats_site, screenshots, width):
    page = open_as(chromium, stats_site, stats_site.guardian, width)
    page.goto("/staff/cases")
    page.get_by_role("link", name="Statistics").click()
    assert page.url.endswith("/staff/statistics")
    options = page.locator("#statistics-channel option")
    # Theirs only, by title (the demo's "Raise a concern" too); never "Staff concerns".
    assert [options.nth(i).get_attribute("value") for i in range(options.count())] == [
        "", "stats-tiny", "raise-a-concern", "stats-youth"]
    today = datetime.now(UTC).date()
    expected = expected_counts(stats_site.cases, Period.last_months(today), list(GUARDIANS_CHANNELS), today)
    assert summary(page)["Cases opened"] == f"{expected.tables['cases']['all']:,}"
    fits(page)
    screenshots(page, "statistics-guardian")

    page.select_option("#statistics-channel", "stats-tiny")  # 3 cases: nothing but 0 may show
    page.get_by_role("button", name="Show").click()
    assert set(summary(page).values()) == {"suppressed"}
    numbers = page.locator("svg.chart text[data-value]").all_text_contents()
    assert set(numbers) <= {"0"}
    fits(page)
    screenshots(page, "statistics-guardian-small-channel")
    page.context.close()


# Where each chart's texts and bars sit, against the chart's own box, as the browser laid them out.
CHART_BOXES = """() => [...document.querySelectorAll('svg.chart')].map((svg) => {
  const box = svg.getBoundingClientRect();
  const inside = (node) => { const r = node.getBoundingClientRect();
    return { left: r.left - box.left, right: box.right - r.right }; };
  return { texts: [...svg.querySelectorAll('text')].map(inside), bars: [...svg.querySelectorAll('rect')].map(inside) };
})"""


@pytest.mark.parametrize("width", WIDTHS)
def test_in_arabic_the_charts_are_mirrored_and_in_polish_the_numbers_are_polish(chromium, stats_site, screenshots,
                                                                                  width):
    page = open_as(chromium, stats_site, stats_site.admin, width)
    page.goto("/ar/admin/statistics")
    charts = page.evaluate(CHART_BOXES)
    assert len(charts) == 8
    for chart in charts:
        # Every word and number is drawn inside the chart (text starting at x=0 in a right-to-left
        # page would run off its left edge), and every bar grows from the right edge.
        assert all(text["left"] >= -1 and text["right"] >= -1 for text in chart["texts"]), chart
        assert chart["bars"] and all(abs(bar["right"]) <= 1 for bar in chart["bars"]), chart
    fits(page)
    screenshots(page, "statistics-admin-ar")

    page.goto("/admin/statistics")
    opened = int(summary(page)["Cases opened"].replace(",", ""))
    assert opened >= 1000, "enough cases for the number to be grouped"
    page.goto("/pl/admin/statistics")
    cells = page.locator(".statistics-summary td").all_inner_texts()
    assert format_decimal(opened, locale="pl_PL") in cells and f"{opened:,}" not in cells  # "1 234", never "1,234"
    page.context.close()
