"""The admin statistics page: exports enabled plugins offer, built from metadata, audited."""
from __future__ import annotations

import csv
import io

from sqlalchemy import select

from tests.factories import html_login, make_live_channel, make_staff
from whistle.accounts.models import Account
from whistle.audit.models import AuditEvent
from whistle.cases.models import Case, CaseLabel


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
    assert rows["period_start"] == quarter and int(rows["patient_safety"]) >= 1 and int(rows["cases_raised"]) >= 1
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
