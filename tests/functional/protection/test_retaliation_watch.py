"""Retaliation watch end to end through the WSGI app: consent, protection, HR events, alerts, check-ins."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from tests.factories import api_login, html_login, make_channel, make_live_channel, make_staff, submit_api
from whistle.audit.models import AuditEvent
from whistle.cases.models import Case
from whistle.db import Base
from whistle.hooks import Hooks
from whistle.protection.models import Protection, ProtectionAlert
from whistle.deadlines import add_months
from whistle.protection.services import add_integration

NUMBER = "P-77123-XQ"


@pytest.fixture
def watched(app, monkeypatch):
    """The app with the bundled retaliation_watch plugin enabled."""
    monkeypatch.setattr(app.registry, "hooks", Hooks.from_names(["retaliation_watch"]))


@pytest.fixture
def hr(dbsession, settings, clock) -> dict:
    return {"Authorization": f"Bearer {add_integration(dbsession, settings, clock, 'hr-system')}"}


def reporter_login(testapp, receipt: str) -> dict:
    token = testapp.post_json("/api/v1/reporter/session", {"receipt": receipt}).json["token"]
    return {"Authorization": f"Bearer {token}"}


def event(kind="dismissal", effective=None, number=NUMBER) -> dict:
    return {"personnel_id": number, "type": kind, "effective": (effective or date.today()).isoformat()}


def protected_case(testapp, dbsession, settings, clock):
    """A case whose reporter consented, and whose guardian registered a protection from today."""
    make_channel(dbsession)
    guardian = make_staff(dbsession, settings, clock, channels=["staff"])
    sent = submit_api(testapp, identity_mode="confidential", identity={"name": "Sam", "personnel_id": NUMBER})
    reporter = reporter_login(testapp, sent["receipt"])
    testapp.post_json("/api/v1/reporter/protection-consent", {"consent": True}, headers=reporter)
    page = html_login(testapp, guardian, clock)
    page = testapp.get(f"/staff/cases/{sent['case']}")
    form = page.forms["protection-form"]
    assert form["personnel_id"].value == NUMBER, "prefilled from the identity the reporter gave"
    form["starts_on"] = clock.today().isoformat()
    form.submit().follow()
    case = dbsession.scalars(select(Case).where(Case.ref == sent["case"])).one()
    return case, guardian, reporter


def every_stored_value(dbsession) -> bytes:
    """Every column of every row of every table, as bytes: what a database dump would hold."""
    dbsession.flush()
    dump = []
    for table in Base.metadata.sorted_tables:
        for row in dbsession.execute(select(table)):
            dump.extend(value if isinstance(value, bytes) else str(value).encode() for value in row)
    return b"\n".join(dump)


def test_a_dismissal_of_a_protected_reporter_alerts_the_guardian(testapp, dbsession, settings, clock, watched, hr):
    case, guardian, _ = protected_case(testapp, dbsession, settings, clock)
    answer = testapp.post_json("/api/v1/personnel-events", event(effective=clock.today()), headers=hr, status=202)
    assert answer.json == {"status": "accepted"}
    alerts = dbsession.scalars(select(ProtectionAlert).where(ProtectionAlert.case_id == case.id)).all()
    assert [(a.event_type, a.rule) for a in alerts] == [("dismissal", "retaliation.adverse-event")]
    assert case.priority == "high"
    page = testapp.get(f"/staff/cases/{case.ref}")
    assert "Dismissal, effective" in page.text and "by the rule “adverse event”" in page.text
    assert "retaliation alert" in testapp.get("/staff/cases").text
    page.forms[[k for k, f in page.forms.items() if f.action.endswith("/protection-alerts")][0]].submit().follow()
    assert "retaliation alert" not in testapp.get("/staff/cases").text
    # The personnel number is nowhere at rest: not in protections, alerts, audit or anywhere else.
    dump = every_stored_value(dbsession)
    assert NUMBER.encode() not in dump and NUMBER.lower().encode() not in dump


def test_the_audit_log_cannot_link_an_hr_event_to_a_case(testapp, dbsession, settings, clock, watched, hr):
    """The organisation knows whom its HR event was about: nothing written while handling it may
    name the case, or an admin reading the audit log would learn which case that person reported."""
    case, _, _ = protected_case(testapp, dbsession, settings, clock)
    before = dbsession.scalar(select(func.max(AuditEvent.seq)))
    testapp.post_json("/api/v1/personnel-events", event(effective=clock.today()), headers=hr, status=202)
    written = dbsession.scalars(select(AuditEvent).where(AuditEvent.seq > before)).all()
    assert [e.action for e in written] == ["personnel_event.received"]
    assert written[0].case_id is None and written[0].detail == {"type": "dismissal"}
    assert dbsession.scalars(select(ProtectionAlert).where(ProtectionAlert.case_id == case.id)).all(), "alerted"


def test_events_that_must_raise_nothing(testapp, dbsession, settings, clock, watched, hr):
    case, _, _ = protected_case(testapp, dbsession, settings, clock)
    protection = dbsession.scalars(select(Protection).where(Protection.case_id == case.id)).one()
    end = add_months(protection.starts_on, protection.window_months)
    for body in (event(number="P-00001"),  # an unprotected person
                 event(kind="promotion"),  # not adverse
                 event(effective=end),  # the window has ended
                 event(effective=protection.starts_on - timedelta(days=1))):  # before it began
        testapp.post_json("/api/v1/personnel-events", body, headers=hr, status=202)
    assert dbsession.scalars(select(ProtectionAlert)).all() == []
    assert case.priority == "normal"
    assert b"P-00001" not in every_stored_value(dbsession)
    testapp.post_json("/api/v1/personnel-events", event(effective=end - timedelta(days=1)), headers=hr, status=202)
    assert len(dbsession.scalars(select(ProtectionAlert)).all()) == 1, "the window's last day still counts"


def test_who_may_post_events_and_what_an_integration_may_not_do(testapp, dbsession, settings, clock, hr):
    make_channel(dbsession)
    guardian = make_staff(dbsession, settings, clock, channels=["staff"])
    sent = submit_api(testapp)
    staff = api_login(testapp, guardian, clock)
    testapp.post_json("/api/v1/personnel-events", event(), headers=staff, status=403)
    testapp.post_json("/api/v1/personnel-events", event(), status=401)
    testapp.post_json("/api/v1/personnel-events", event(), headers={"Authorization": "Bearer nonsense"}, status=401)
    testapp.get("/api/v1/cases", headers=hr, status=403)
    testapp.get(f"/api/v1/cases/{sent['case']}", headers=hr, status=404)  # a case not yours does not exist
    testapp.get("/api/v1/reporter/case", headers=hr, status=403)


def test_bad_events_are_named_field_by_field(testapp, dbsession, hr):
    problem = testapp.post_json("/api/v1/personnel-events", {"personnel_id": "", "type": "fired", "effective": "soon",
                                                             "name": "Sam"}, headers=hr, status=422).json
    assert {e["field"] for e in problem["errors"]} == {"personnel_id", "type", "effective", "name"}


def test_a_protection_needs_the_reporters_consent_and_a_valid_form(testapp, dbsession, settings, clock):
    make_channel(dbsession)
    guardian = make_staff(dbsession, settings, clock, channels=["staff"])
    sent = submit_api(testapp, identity_mode="confidential", identity={"name": "Sam", "personnel_id": NUMBER})
    html_login(testapp, guardian, clock)
    page = testapp.get(f"/staff/cases/{sent['case']}")
    assert "protection-form" not in page.forms and "has not asked for retaliation watch" in page.text
    csrf = page.forms["reply-form"]["csrf_token"].value
    testapp.post(f"/staff/cases/{sent['case']}/protections", {"csrf_token": csrf, "personnel_id": NUMBER}, status=409)
    testapp.post_json("/api/v1/reporter/protection-consent", {"consent": True},
                      headers=reporter_login(testapp, sent["receipt"]))
    form = testapp.get(f"/staff/cases/{sent['case']}").forms["protection-form"]
    form["window_months"] = "forever"
    refused = form.submit(status=422)
    assert "A whole number of months" in refused.text
    assert refused.forms["protection-form"]["window_months"].value == "forever"
    assert dbsession.scalars(select(Protection)).all() == []


def test_checkins_come_due_by_date_and_a_yes_flags_the_case(testapp, dbsession, settings, clock, watched):
    make_channel(dbsession)
    guardian = make_staff(dbsession, settings, clock, channels=["staff"])
    sent = submit_api(testapp)
    case = dbsession.scalars(select(Case).where(Case.ref == sent["case"])).one()
    reporter = reporter_login(testapp, sent["receipt"])
    assert testapp.get("/api/v1/reporter/case", headers=reporter).json["checkins_due"] == []
    case.opened_on = add_months(clock.today(), -7)  # as if reported seven months ago, and since closed
    case.status = "closed"
    dbsession.flush()
    assert testapp.get("/api/v1/reporter/case", headers=reporter).json["checkins_due"] == [3, 6]
    problem = testapp.post_json("/api/v1/reporter/checkins", {"month": 12, "detriment": "yes"}, headers=reporter,
                                status=422).json
    assert {e["field"] for e in problem["errors"]} == {"month", "detriment"}
    answer = testapp.post_json("/api/v1/reporter/checkins", {"month": 6, "detriment": True}, headers=reporter).json
    assert answer == {"checkins_due": []}
    assert case.detriment is True and case.priority == "high"
    html_login(testapp, guardian, clock)
    assert "suffered detriment" in testapp.get(f"/staff/cases/{case.ref}").text
    assert "detriment reported" in testapp.get("/staff/cases").text


def test_the_mailbox_page_asks_without_javascript(testapp, dbsession, settings, clock):
    make_live_channel(dbsession, settings, clock)
    sent = submit_api(testapp)
    case = dbsession.scalars(select(Case).where(Case.ref == sent["case"])).one()
    case.opened_on = add_months(clock.today(), -3)
    dbsession.flush()
    form = testapp.get("/mailbox").forms[0]
    form["receipt"] = sent["receipt"]
    page = form.submit().follow()
    assert [tag.get("src") for tag in page.html.find_all("script")] == ["/static/js/session-timeout.js"]
    assert "has anything bad happened to you at work" in page.text
    refused = page.forms["checkin-form"].submit(status=422)
    assert "Choose yes or no." in refused.text
    checkin = refused.forms["checkin-form"]
    checkin["detriment"] = "no"
    page = checkin.submit().follow()
    assert "checkin-form" not in page.forms and case.detriment is False
    consent = page.forms["consent-form"]
    consent["consent"] = True
    page = consent.submit().follow()
    assert case.protection_consent is True and "consent-form" not in page.forms
