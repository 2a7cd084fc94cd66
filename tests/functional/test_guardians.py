"""Guardians log in with password + TOTP and read only the cases granted to them."""
from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from tests.factories import api_login, fresh_code, html_login, make_channel, make_staff, submit_api
from whistle.audit.models import AuditEvent


@pytest.fixture
def channel(dbsession):
    return make_channel(dbsession, "staff", title="Raise a concern")


@pytest.fixture
def guardian(dbsession, settings, clock, channel):
    return make_staff(dbsession, settings, clock, "guardian", channels=["staff"])


def last_event(dbsession) -> AuditEvent:
    return dbsession.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()


def test_guardian_reads_a_disclosure_in_html(testapp, guardian, clock):
    case = submit_api(testapp, text="The night shift is left with one nurse for 40 beds.",
                      answers={"ongoing": "yes", "where": "Ward 7"})["case"]
    inbox = html_login(testapp, guardian, clock)
    assert case in inbox.text
    page = inbox.click(case)
    assert "The night shift is left with one nurse for 40 beds." in page.text
    assert "Ward 7" in page.text
    assert "chose to stay anonymous" in page.text


def test_guardian_reads_a_disclosure_through_the_api(testapp, guardian, clock):
    case = submit_api(testapp, text="Records are being altered.")["case"]
    headers = api_login(testapp, guardian, clock)
    listing = testapp.get("/api/v1/cases", headers=headers).json
    assert [row["case"] for row in listing["cases"]] == [case]
    assert listing["total"] == 1
    row = listing["cases"][0]
    assert row["status"] == "received" and row["channel"] == "staff"
    body = testapp.get(f"/api/v1/cases/{case}", headers=headers).json
    assert body["text"] == "Records are being altered."
    assert body["answers"] == {"ongoing": "yes"}
    assert "identity" not in body
    assert [event["action"] for event in body["events"]] == ["case.opened", "case.viewed"]
    assert body["events"][0]["at"].endswith("T00:00:00+00:00"), "a reporter's action is dated to the day"


def test_a_guardian_not_granted_the_case_gets_404(testapp, dbsession, settings, clock, guardian):
    outsider = make_staff(dbsession, settings, clock, "outsider")
    case = submit_api(testapp)["case"]
    headers = api_login(testapp, outsider, clock)
    missing = testapp.get("/api/v1/cases/AAAAA-AAAAA", headers=headers, expect_errors=True)
    hidden = testapp.get(f"/api/v1/cases/{case}", headers=headers, expect_errors=True)
    assert hidden.status_int == missing.status_int == 404
    assert hidden.json == missing.json, "existence is not revealed"
    assert testapp.get("/api/v1/cases", headers=headers).json["cases"] == []


def test_an_admin_reads_no_case(testapp, dbsession, settings, clock, guardian):
    admin = make_staff(dbsession, settings, clock, "admin", admin=True, guardian=False, channels=["staff"])
    case = submit_api(testapp)["case"]
    headers = api_login(testapp, admin, clock)
    assert testapp.get(f"/api/v1/cases/{case}", headers=headers, expect_errors=True).status_int == 404
    assert testapp.get("/api/v1/cases", headers=headers, expect_errors=True).status_int == 403


def test_without_a_session_the_api_says_401_and_pages_redirect(testapp, guardian):
    case = submit_api(testapp)["case"]
    response = testapp.get("/api/v1/cases", expect_errors=True)
    assert response.status_int == 401 and response.headers["WWW-Authenticate"] == "Bearer"
    # A case call too, before any case is looked up: the same for a case that exists and one that doesn't.
    assert testapp.get(f"/api/v1/cases/{case}", expect_errors=True).status_int == 401
    assert testapp.get("/api/v1/cases/AAAAA-AAAAA", expect_errors=True).status_int == 401
    assert testapp.get("/api/v1/cases", headers={"Authorization": "Bearer forged"}, expect_errors=True).status_int == 401
    assert testapp.get("/staff/cases").location.endswith("/staff/login")


def test_a_browser_cookie_does_not_authorise_the_api(testapp, guardian, clock):
    html_login(testapp, guardian, clock)
    assert testapp.get("/staff/cases").status_int == 200
    assert testapp.get("/api/v1/cases", expect_errors=True).status_int == 401


@pytest.mark.parametrize("mistake", ["wrong-password", "wrong-otp", "reused-otp", "unknown-username"])
def test_failed_logins_get_401_and_are_audited(testapp, dbsession, guardian, clock, mistake):
    code = fresh_code(guardian, clock)
    if mistake == "reused-otp":
        testapp.post_json("/api/v1/staff/session", {"username": "guardian", "password": guardian.password, "otp": code})
    attempt = {
        "username": "nobody" if mistake == "unknown-username" else "guardian",
        "password": "not the password" if mistake == "wrong-password" else guardian.password,
        "otp": str((int(code) + 1) % 1_000_000).zfill(6) if mistake == "wrong-otp" else code,
    }
    response = testapp.post_json("/api/v1/staff/session", attempt, expect_errors=True)
    assert response.status_int == 401
    assert response.json["detail"].startswith("That username, password and code do not match")
    event = last_event(dbsession)
    assert (event.action, event.detail) == ("login.failed", {"reason": mistake})


def test_html_login_failure_keeps_the_username_and_says_401(testapp, guardian, clock):
    form = testapp.get("/staff/login").forms[0]
    form["username"] = "guardian"
    form["password"] = "wrong password!"
    form["otp"] = fresh_code(guardian, clock)
    page = form.submit(status=401)
    assert 'value="guardian"' in page.text
    assert "do not match" in page.text


def test_logout_ends_the_session(testapp, guardian, clock):
    headers = api_login(testapp, guardian, clock)
    testapp.delete("/api/v1/staff/session", headers=headers, status=204)
    assert testapp.get("/api/v1/cases", headers=headers, expect_errors=True).status_int == 401


def test_html_logout_ends_the_session(testapp, guardian, clock):
    inbox = html_login(testapp, guardian, clock)
    inbox.forms[0].submit().follow()
    assert testapp.get("/staff/cases").location.endswith("/staff/login")


def test_sessions_expire_when_idle(testapp, guardian, clock, settings):
    headers = api_login(testapp, guardian, clock)
    clock.advance(settings.staff_session_idle - timedelta(seconds=1))
    testapp.get("/api/v1/cases", headers=headers, status=200)  # activity pushes expiry on
    clock.advance(settings.staff_session_idle - timedelta(seconds=1))
    testapp.get("/api/v1/cases", headers=headers, status=200)
    clock.advance(settings.staff_session_idle + timedelta(seconds=1))
    assert testapp.get("/api/v1/cases", headers=headers, expect_errors=True).status_int == 401


def test_sessions_end_at_the_absolute_limit(testapp, guardian, clock, settings):
    headers = api_login(testapp, guardian, clock)
    step = settings.staff_session_idle - timedelta(minutes=1)
    elapsed = timedelta()
    while elapsed + step < settings.staff_session_absolute:
        clock.advance(step)
        elapsed += step
        testapp.get("/api/v1/cases", headers=headers, status=200)
    clock.advance(settings.staff_session_absolute - elapsed + timedelta(seconds=1))
    assert testapp.get("/api/v1/cases", headers=headers, expect_errors=True).status_int == 401


def test_a_disabled_account_cannot_log_in_or_use_its_session(testapp, dbsession, guardian, clock):
    headers = api_login(testapp, guardian, clock)
    guardian.account.disabled = True
    dbsession.flush()
    assert testapp.get("/api/v1/cases", headers=headers, expect_errors=True).status_int == 401
    code = pyotp.TOTP(guardian.totp_secret).at(clock.now() + timedelta(seconds=30))
    response = testapp.post_json("/api/v1/staff/session",
                                 {"username": "guardian", "password": guardian.password, "otp": code}, expect_errors=True)
    assert response.status_int == 401


def test_login_validation_names_missing_fields(testapp):
    response = testapp.post_json("/api/v1/staff/session", {"username": "x"}, expect_errors=True)
    assert response.status_int == 422
    assert {e["field"] for e in response.json["errors"]} == {"password", "otp"}


def test_api_list_rejects_bad_paging(testapp, guardian, clock):
    headers = api_login(testapp, guardian, clock)
    for query in ("per_page=101", "page=0", "page=x"):
        assert testapp.get(f"/api/v1/cases?{query}", headers=headers, expect_errors=True).status_int == 422
