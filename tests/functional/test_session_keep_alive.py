"""Staying signed in: every signed-in page says its idle limit and carries what the warning script
needs; "Stay signed in" (a POST with the page's CSRF token) gives the session a full idle limit again."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.factories import html_login, make_channel, make_live_channel, make_staff
from tests.functional.reporters.helpers import come_back, receipt_of, submit_disclosure
from whistle.sessions.models import LoginSession
from whistle.sessions.services import EXPIRY_STEP


@pytest.fixture
def guardian(dbsession, settings, clock):
    make_channel(dbsession, "staff", title="Raise a concern")
    return make_staff(dbsession, settings, clock, "guardian", channels=["staff"])


def timeout_of(page):
    """The page's idle-limit paragraph, which also carries the warning script's data."""
    return page.html.find(id="session-limit")


def test_a_staff_page_says_the_limit_and_loads_the_warning(testapp, guardian, clock):
    inbox = html_login(testapp, guardian, clock)
    limit = timeout_of(inbox)
    assert limit.get_text(" ", strip=True) == (
        "For your safety you are signed out after 30 minutes without activity.")
    assert limit["data-keep-alive"] == "/staff/keep-alive"
    assert limit["data-sign-out-form"] == "form[data-sign-out]"
    assert 29 * 60 <= int(limit["data-expires-in"]) <= 30 * 60
    assert "/static/js/session-timeout.js" in [tag.get("src") for tag in inbox.html.find_all("script")]


def test_stay_signed_in_gives_the_staff_session_a_full_idle_limit(testapp, dbsession, guardian, clock, settings):
    inbox = html_login(testapp, guardian, clock)
    token = timeout_of(inbox)["data-csrf-token"]
    clock.advance(settings.staff_session_idle - timedelta(seconds=30))
    answer = testapp.post("/staff/keep-alive", headers={"X-CSRF-Token": token}, status=200)
    assert answer.json == {"signed_in": True, "expires_in": settings.staff_session_idle.total_seconds()}
    row = dbsession.scalars(select(LoginSession)).one()
    assert row.idle_expires_at.replace(tzinfo=None) == (clock.now() + settings.staff_session_idle).replace(tzinfo=None)
    # Without the call the session would have ended by now.
    clock.advance(settings.staff_session_idle - timedelta(seconds=30))
    assert testapp.get("/staff/cases", status=200)


def test_keep_alive_is_refused_without_the_csrf_token(testapp, dbsession, guardian, clock):
    html_login(testapp, guardian, clock)
    before = dbsession.scalars(select(LoginSession)).one().idle_expires_at
    # Under a minute later, so only the call itself could move the expiry (any request moves it by
    # at least EXPIRY_STEP).
    clock.advance(EXPIRY_STEP / 2)
    testapp.post("/staff/keep-alive", status=400)
    testapp.post("/staff/keep-alive", headers={"X-CSRF-Token": "not-the-token"}, status=400)
    assert dbsession.scalars(select(LoginSession)).one().idle_expires_at == before


def test_keep_alive_does_nothing_without_a_session(testapp, dbsession, guardian):
    # A visitor's own CSRF token (from the sign-in form) passes the check; there is still nobody to keep.
    token = testapp.get("/staff/login").forms[0]["csrf_token"].value
    for path in ("/staff/keep-alive", "/mailbox/keep-alive"):
        answer = testapp.post(path, headers={"X-CSRF-Token": token}, status=401)
        assert answer.json == {"signed_in": False}
    assert dbsession.scalar(select(func.count()).select_from(LoginSession)) == 0


def test_keep_alive_ends_with_the_session(testapp, guardian, clock, settings):
    inbox = html_login(testapp, guardian, clock)
    token = timeout_of(inbox)["data-csrf-token"]
    clock.advance(settings.staff_session_idle + timedelta(seconds=1))
    # The session is gone, so the token tied to it is no token any more.
    testapp.post("/staff/keep-alive", headers={"X-CSRF-Token": token}, status=400)


def test_the_mailbox_says_the_limit_and_stay_signed_in_extends_the_reporter_session(
        testapp, dbsession, settings, clock):
    make_live_channel(dbsession, settings, clock)
    case_page = come_back(testapp, receipt_of(submit_disclosure(testapp)))
    limit = timeout_of(case_page)
    assert limit.get_text(" ", strip=True) == (
        "For your safety you are signed out after 20 minutes without activity.")
    assert limit["data-keep-alive"] == "/mailbox/keep-alive"
    assert limit["data-sign-out-form"] == "#leave-form"
    clock.advance(settings.reporter_session_idle - timedelta(seconds=30))
    answer = testapp.post("/mailbox/keep-alive", headers={"X-CSRF-Token": limit["data-csrf-token"]}, status=200)
    assert answer.json == {"signed_in": True, "expires_in": settings.reporter_session_idle.total_seconds()}
    clock.advance(settings.reporter_session_idle - timedelta(seconds=30))
    assert "Your report has arrived" in testapp.get("/mailbox/case").text


def test_the_staff_keep_alive_does_not_extend_a_reporter_session(testapp, dbsession, settings, clock):
    make_live_channel(dbsession, settings, clock)
    case_page = come_back(testapp, receipt_of(submit_disclosure(testapp)))
    token = timeout_of(case_page)["data-csrf-token"]
    testapp.post("/staff/keep-alive", headers={"X-CSRF-Token": token}, status=401)


def test_the_mailbox_on_the_device_keeps_its_bearer_session_alive(testapp, dbsession, settings, clock):
    """The device's mailbox has no page and no cookie: its bearer token stands for the CSRF token."""
    make_live_channel(dbsession, settings, clock)
    receipt = receipt_of(submit_disclosure(testapp))
    testapp.reset()  # the reporter's cookies go: the API takes the bearer token only
    token = testapp.post_json("/api/v1/reporter/session", {"receipt": receipt}).json["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    clock.advance(settings.reporter_session_idle - timedelta(seconds=30))
    answer = testapp.post("/api/v1/reporter/session/keep-alive", headers=bearer, status=200)
    assert answer.json == {"signed_in": True, "expires_in": settings.reporter_session_idle.total_seconds()}
    # Without the call the session would have ended by now.
    clock.advance(settings.reporter_session_idle - timedelta(seconds=30))
    testapp.get("/api/v1/reporter/case", headers=bearer, status=200)
    # Once it has ended, nothing keeps it: the answer is the API's 401, and the token stays dead.
    clock.advance(settings.reporter_session_idle + timedelta(seconds=1))
    refused = testapp.post("/api/v1/reporter/session/keep-alive", headers=bearer, status=401)
    assert refused.content_type == "application/problem+json"
    testapp.get("/api/v1/reporter/case", headers=bearer, status=401)
