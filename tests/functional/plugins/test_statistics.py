"""The admin statistics page: exports enabled plugins offer, built from metadata (the FTSU return
from the statistics, with their suppression), audited."""
from __future__ import annotations

import csv
import io
from datetime import date

from sqlalchemy import select

from tests.factories import html_login, make_live_channel, make_staff
from tests.functional.statistics.generated import expected_counts, generate, insert_cases, make_channels
from whistle.accounts.models import Account
from whistle.admin.services import recent_quarters
from whistle.audit.models import AuditEvent
from whistle.cases.models import Case, CaseLabel
from whistle.statistics import services as statistics_services
from whistle.statistics.services import Period


def test_the_ftsu_return_downloads_a_quarter_of_metadata_and_is_audited(plugin_app, dbsession, settings, clock):
    admin = make_staff(dbsession, settings, clock, "stats.admin", admin=True, guardian=False)
    make_live_channel(dbsession, settings, clock, "stats-staff")
    app = plugin_app(["ftsu_return"])
    ref = app.post_json("/api/v1/disclosures", {"channel": "stats-staff", "text": "Secret words.",
                                                "answers": {"ongoing": "yes"}}, status=201).json["case"]
    case = dbsession.scalars(select(Case).where(Case.ref == ref)).one()
    dbsession.add(CaseLabel(case_id=case.id, label="patient-safety"))
    html_login(app, admin, clock)

    page = app.get("/admin/statistics")
    assert "Freedom to Speak Up quarterly return" in page.text
    form = page.forms["export-ftsu-quarterly"]
    quarter = form["quarter"].value  # the current quarter is listed first
    download = form.submit()
    assert download.content_type == "text/csv"
    assert f'filename="ftsu-quarterly-{quarter}.csv"' in download.headers["Content-Disposition"]
    rows = dict(csv.reader(io.StringIO(download.text)))
    # One case: its count is under 5, so it is suppressed in the return as on the statistics page.
    assert rows["period_start"] == quarter and rows["patient_safety"] == "" and rows["cases_raised"] == ""
    assert "Secret words" not in download.text
    event = dbsession.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
    assert event.action == "export" and event.detail["export"] == "ftsu-quarterly"

    assert app.get("/admin/statistics/ftsu-quarterly", {"quarter": "1999-01-01"}, status=422)
    assert app.get("/admin/statistics/no-such-export", {"quarter": quarter}, status=404)


def test_without_plugins_the_page_says_there_is_nothing_to_export(plugin_app, dbsession, settings, clock):
    admin = make_staff(dbsession, settings, clock, "stats.none", admin=True, guardian=False)
    app = plugin_app([])
    html_login(app, admin, clock)
    assert "No enabled plugin offers a statistics export." in app.get("/admin/statistics").text


def test_a_guardian_cannot_export_statistics(plugin_app, dbsession, settings, clock):
    guardian = make_staff(dbsession, settings, clock, "stats.guardian")
    app = plugin_app(["ftsu_return"])
    html_login(app, guardian, clock)
    app.get("/admin/statistics", status=(403, 404))


def test_the_overview_counts_cases_nobody_can_read(plugin_app, dbsession, settings, clock):
    admin = make_staff(dbsession, settings, clock, "stats.overview", admin=True, guardian=False)
    make_live_channel(dbsession, settings, clock, "nobody-holds")
    app = plugin_app([])
    before = app.get("/api/v1/admin/overview", headers=_bearer(app, admin, clock)).json["unassigned"]
    app.post_json("/api/v1/disclosures", {"channel": "nobody-holds", "text": "x", "answers": {"ongoing": "yes"}},
                  status=201)
    keeper = dbsession.scalars(select(Account).where(Account.username == "nobody-holds.keeper")).one()
    keeper.disabled = True  # its only holder: nobody can read it now
    dbsession.flush()
    assert app.get("/api/v1/admin/overview", headers=_bearer(app, admin, clock)).json["unassigned"] == before + 1


def _bearer(app, staff, clock):
    from tests.factories import api_login

    return api_login(app, staff, clock)


def test_the_ftsu_return_has_the_statistics_counts_and_their_suppression(plugin_app, dbsession, settings, clock):
    """10,000 generated cases: the return's figures are the statistics' figures for the quarter's
    months, and a count under 5 (a rare label) is an empty cell in both."""
    today = clock.today()
    admin = make_staff(dbsession, settings, clock, "stats.ftsu", admin=True, guardian=False)
    ids = make_channels(dbsession)
    cases = generate(today, Period.last_months(today), ids)
    quarter_start, _ = recent_quarters(today)[0]  # the form offers the current quarter first
    in_quarter = [case for case in cases if case.opened_on >= quarter_start]
    for case in in_quarter[:2]:
        case.labels.append("group-porters")  # a professional group of 2
    for case in in_quarter[2:9]:
        case.labels.append("group-estates-ancillary")  # and one of 7
    insert_cases(dbsession, cases, ids, today)
    app = plugin_app(["ftsu_return"])
    html_login(app, admin, clock)
    form = app.get("/admin/statistics").forms["export-ftsu-quarterly"]
    rows = dict(csv.reader(io.StringIO(form.submit().text)))

    start, end = date.fromisoformat(rows["period_start"]), date.fromisoformat(rows["period_end"])
    period = Period(start, end.replace(day=1))
    expected = expected_counts(cases, period, list(ids), today)
    figures = {(f.measure, f.group): f.value for f in statistics_services.statistics(
        dbsession, period, statistics_services.channels_for(dbsession), today)}

    def same(measure, group, expected_count):
        value = figures[measure, group]
        assert value == (None if 0 < expected_count < 5 else expected_count)
        return "" if value is None else str(value)

    assert rows["cases_raised"] == same("cases", "all", expected.tables["cases"]["all"])
    assert rows["anonymous"] == same("cases_by_identity_mode", "anonymous",
                                     expected.tables["cases_by_identity_mode"]["anonymous"])
    assert rows["patient_safety"] == same("cases_by_label", "patient-safety",
                                          expected.tables["cases_by_label"]["patient-safety"])
    assert rows["detriment"] == same("detriment", "reported", expected.tables["detriment"]["reported"])
    assert expected.tables["cases_by_label"]["group-porters"] == 2
    assert rows["professional_group:porters"] == same("cases_by_label", "group-porters", 2) == ""
    assert rows["professional_group:estates-ancillary"] == same("cases_by_label", "group-estates-ancillary", 7) == "7"
    for answer, name in (("yes", "yes"), ("no", "no"), ("not_sure", "maybe")):
        assert rows[f"speak_up_again:{name}"] == same("speak_up_again", answer,
                                                      expected.tables["speak_up_again"][answer])
