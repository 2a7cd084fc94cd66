"""The reporter's JSON API (API.md): session, case, messages, attachments, leaving."""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

import jsonschema
import pytest
from sqlalchemy import func, select
from webtest import TestApp, Upload

from tests.factories import api_login, holder_keys, make_channel, make_live_channel, make_staff, submit_api
from whistle.cases.models import ITEM_MESSAGE, Attachment, Case
from whistle.cases.services import add_item
from whistle.config import make_configurator
from whistle.settings import load_settings

pytestmark = pytest.mark.usefixtures("within_one_hour")  # counts of one client stay under one hour's key


def reporter_login(testapp, receipt: str) -> dict:
    body = testapp.post_json("/api/v1/reporter/session", {"receipt": receipt}).json
    return {"Authorization": f"Bearer {body['token']}"}


def test_the_reporter_api_round_trip(testapp, dbsession, settings, clock):
    make_channel(dbsession)
    guardian = make_staff(dbsession, settings, clock, channels=["staff"])
    sent = submit_api(testapp)
    answer = testapp.post_json("/api/v1/reporter/session", {"receipt": sent["receipt"].lower()}).json
    assert answer["expires_in"] == settings.reporter_session_idle.total_seconds()
    headers = {"Authorization": f"Bearer {answer['token']}"}

    case = testapp.get("/api/v1/reporter/case", headers=headers).json
    assert case["case"] == sent["case"] and case["status"] == "received"
    assert case["text"] == "Something is wrong on ward 7." and case["answers"] == {"ongoing": "yes"}, \
        "what the reporter sent, as the mailbox page shows it"
    document = testapp.get("/api/v1/openapi.json").json
    documented = document["paths"]["/api/v1/reporter/case"]["get"]["responses"]["200"]["content"]["application/json"]
    jsonschema.validate(case, dict(documented["schema"], components=document["components"]))
    assert case["opened"] == clock.today().isoformat()
    assert case["messages"] == [] and case["attachments"] == []

    message = testapp.post_json("/api/v1/reporter/messages", {"text": "More detail."}, headers=headers, status=201).json
    name = "Bericht über Station 7.pdf"
    upload = testapp.post("/api/v1/reporter/attachments", b"%PDF- pretend", status=201,
                          headers=dict(headers, **{"Content-Type": "application/pdf", "X-Filename": quote(name)})).json
    assert upload["size"] == len(b"%PDF- pretend")

    db_case = dbsession.scalars(select(Case).where(Case.ref == sent["case"])).one()
    add_item(db_case, holder_keys(dbsession, db_case),
             kind=ITEM_MESSAGE, author="guardian", plaintext=b"Thanks, we are on it.", today=clock.today())
    dbsession.flush()

    case = testapp.get("/api/v1/reporter/case", headers=headers).json
    assert [(m["id"], m["from"], m["text"]) for m in case["messages"]][0] == (message["id"], "reporter", "More detail.")
    assert case["messages"][1]["from"] == "guardian" and case["messages"][1]["text"] == "Thanks, we are on it."
    assert all(len(m["at"]) == 10 for m in case["messages"]), "dates only, never times"
    assert case["attachments"] == [{"id": upload["id"], "name": name, "size": upload["size"], "from": "reporter",
                                    "new": False}]
    mine = testapp.get(f"/api/v1/reporter/attachments/{upload['id']}", headers=headers)
    assert mine.body == b"%PDF- pretend"

    staff = api_login(testapp, guardian, clock)
    got = testapp.get(f"/api/v1/cases/{sent['case']}/attachments/{upload['id']}", headers=staff)
    assert got.body == b"%PDF- pretend"
    assert got.headers["Content-Disposition"].endswith(quote(name, safe=""))
    assert [m["text"] for m in testapp.get(f"/api/v1/cases/{sent['case']}", headers=staff).json["messages"]][0] == "More detail."

    testapp.delete("/api/v1/reporter/session", headers=headers, status=204)
    testapp.get("/api/v1/reporter/case", headers=headers, status=401)


def test_unknown_and_malformed_receipts_get_one_answer(testapp, dbsession, settings, clock):
    make_live_channel(dbsession, settings, clock)
    sent = submit_api(testapp)
    wrong = sent["receipt"][:-1] + ("0" if sent["receipt"][-1] != "0" else "1")
    unknown = testapp.post_json("/api/v1/reporter/session", {"receipt": wrong}, status=401)
    malformed = testapp.post_json("/api/v1/reporter/session", {"receipt": "not a receipt"}, status=401)
    assert unknown.json == malformed.json
    assert unknown.content_type == "application/problem+json"
    testapp.post_json("/api/v1/reporter/session", {"receipt": 5}, status=422)
    testapp.post_json("/api/v1/reporter/session", {"receipt": sent["receipt"], "extra": 1}, status=422)


def test_past_the_wrong_receipt_budget_receipts_take_the_slow_lane_and_genuine_ones_still_get_in(
        testapp, dbsession, settings, clock, monkeypatch):
    from whistle.reporters import services

    make_live_channel(dbsession, settings, clock)
    sent = submit_api(testapp)
    for _ in range(settings.receipt_failures_per_minute):
        testapp.post_json("/api/v1/reporter/session", {"receipt": "0000-0000-0000-0000-0000"}, status=401)
    assert services.over_budget(dbsession, settings, clock)
    # Over budget: receipts are tried one at a time. A genuine reporter is slowed, not refused.
    testapp.post_json("/api/v1/reporter/session", {"receipt": sent["receipt"]}, status=200)
    # Only when the lane stays busy past the wait is a receipt turned away, without being tried.
    monkeypatch.setattr(services, "SLOW_LANE_WAIT", timedelta(milliseconds=50))
    with services.SLOW_LANE:  # another receipt's Argon2id is running
        refused = testapp.post_json("/api/v1/reporter/session", {"receipt": sent["receipt"]}, status=429)
    assert refused.headers["Retry-After"] == "60" and refused.content_type == "application/problem+json"
    clock.advance(timedelta(seconds=61))  # a new minute: the fast lane again, whatever the lane's state
    with services.SLOW_LANE:
        testapp.post_json("/api/v1/reporter/session", {"receipt": sent["receipt"]}, status=200)


def test_reporter_sessions_expire_when_idle(testapp, dbsession, settings, clock):
    make_live_channel(dbsession, settings, clock)
    headers = reporter_login(testapp, submit_api(testapp)["receipt"])
    clock.advance(settings.reporter_session_idle - timedelta(minutes=1))
    testapp.get("/api/v1/reporter/case", headers=headers, status=200)  # activity pushes expiry on
    clock.advance(settings.reporter_session_idle - timedelta(minutes=1))
    testapp.get("/api/v1/reporter/case", headers=headers, status=200)
    clock.advance(settings.reporter_session_idle + timedelta(seconds=1))
    testapp.get("/api/v1/reporter/case", headers=headers, status=401)


def test_bad_messages_and_uploads_are_refused_and_change_nothing(testapp, dbsession, settings, clock):
    make_live_channel(dbsession, settings, clock)
    headers = reporter_login(testapp, submit_api(testapp)["receipt"])
    problem = testapp.post_json("/api/v1/reporter/messages", {"text": "  "}, headers=headers, status=422).json
    assert problem["errors"] == [{"field": "text", "message": "Write your message here before sending."}]
    testapp.post("/api/v1/reporter/attachments", b"x", headers=dict(headers, **{"Content-Type": "text/plain"}),
                 status=422)
    assert dbsession.scalar(select(func.count()).select_from(Attachment)) == 0


def test_a_cookie_does_not_open_the_reporter_api(testapp, dbsession, settings, clock):
    make_live_channel(dbsession, settings, clock)
    form = testapp.get("/mailbox").forms[0]
    form["receipt"] = submit_api(testapp)["receipt"]
    form.submit(status=303)
    testapp.get("/api/v1/reporter/case", status=401)


def small_limits_app(raw_settings, clock, **limits):
    raw = dict(raw_settings, **{f"whistle.attachments.{key}": str(value) for key, value in limits.items()})
    return make_configurator(raw, settings=load_settings(raw, environ={}), clock=clock).make_wsgi_app()


def test_attachment_limits_per_file_and_per_case(raw_settings, clock, tm, dbsession, settings):
    app = small_limits_app(raw_settings, clock, max_file_bytes=1000, max_case_bytes=1500)
    testapp = TestApp(app, extra_environ={"HTTP_HOST": "example.com", "tm.active": True, "tm.manager": tm,
                                          "app.dbsession": dbsession})
    make_live_channel(dbsession, settings, clock)
    headers = reporter_login(testapp, submit_api(testapp)["receipt"])
    upload = dict(headers, **{"Content-Type": "application/octet-stream", "X-Filename": "a.bin"})
    too_big = testapp.post("/api/v1/reporter/attachments", b"x" * 1001, headers=upload, status=413).json
    assert "at most" in too_big["detail"]
    testapp.post("/api/v1/reporter/attachments", b"x" * 900, headers=upload, status=201)
    over_case = testapp.post("/api/v1/reporter/attachments", b"x" * 900, headers=upload, status=413).json
    assert "together" in over_case["detail"]
    assert dbsession.scalar(select(func.count()).select_from(Attachment)) == 1

    # The page re-renders with the message kept and the file field named.
    form = testapp.get("/mailbox").forms[0]
    form["receipt"] = submit_api(testapp)["receipt"]
    page = form.submit().follow()
    form = page.forms["message-form"]
    form["text"] = "Here is the whole log"
    form["files"] = [Upload("log.txt", b"y" * 1001, "text/plain")]
    refused = form.submit(status=413)
    assert refused.html.find(id="error-files").get_text(strip=True).startswith(
        "A file was too large, so nothing was sent yet: each file can be at most 1 kB, and all the files of one"
        " report together 1.5 kB."), "sizes in decimal units, as people read them"
    assert refused.forms["message-form"]["text"].value == "Here is the whole log"


def test_the_disclosure_form_refuses_a_file_over_the_limit_and_keeps_the_text(raw_settings, clock, tm, dbsession, settings):
    app = small_limits_app(raw_settings, clock, max_file_bytes=1000, max_case_bytes=1500)
    testapp = TestApp(app, extra_environ={"HTTP_HOST": "example.com", "tm.active": True, "tm.manager": tm,
                                          "app.dbsession": dbsession})
    make_live_channel(dbsession, settings, clock)
    form = testapp.get("/report/staff").forms[0]
    form["text"] = "Words that must survive"
    form["answers.ongoing"] = "yes"
    form["attachments"] = [Upload("small.txt", b"ok", "text/plain"), Upload("big.bin", b"x" * 1001, "text/plain")]
    page = form.submit(status=413)
    assert "Each file can be at most 1 kB, and all the files of one report together 1.5 kB." in \
        page.html.find(id="error-attachments").text
    assert page.forms[0]["text"].value == "Words that must survive"
    # That nothing is kept (the transaction is aborted) shows only with a real transaction:
    # tests/e2e/test_reporter_limits.py.


def test_what_a_reporter_does_is_dated_to_the_day_and_keeps_no_address(testapp, dbsession, settings, clock):
    from whistle.audit.models import AuditEvent
    from whistle.sessions.models import REPORTER, LoginSession

    make_live_channel(dbsession, settings, clock)
    headers = reporter_login(testapp, submit_api(testapp)["receipt"])
    testapp.post_json("/api/v1/reporter/messages", {"text": "hello"}, headers=headers, status=201,
                      extra_environ={"REMOTE_ADDR": "203.0.113.77", "HTTP_USER_AGENT": "Probe/1.0"})
    events = dbsession.scalars(select(AuditEvent).where(AuditEvent.actor == "reporter")).all()
    assert {e.action for e in events} >= {"case.opened", "reporter.session_opened", "reporter.message_sent"}
    assert all((e.at.hour, e.at.minute, e.at.second, e.at.microsecond) == (0, 0, 0, 0) for e in events)
    assert all("203.0.113.77" not in str(e.detail) and "Probe" not in str(e.detail) for e in events)
    session = dbsession.scalars(select(LoginSession).where(LoginSession.kind == REPORTER)).one()
    assert session.created_at is None
