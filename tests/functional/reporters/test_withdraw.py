"""Withdrawing a report from the mailbox: the warning, the confirmation, what it does to the case,
who is told, and what the reporter is told when they write to it afterwards."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from webtest import Upload

from tests.factories import api_login, html_login, make_channel, make_staff, submit_api
from tests.functional.reporters.helpers import come_back, receipt_of, submit_disclosure
from whistle.audit.models import AuditEvent
from whistle.cases.models import ITEM_MESSAGE, Case, CaseItem
from whistle.notifications.models import Notification
from whistle.words import day_words


def reporter_login(testapp, receipt: str) -> dict:
    body = testapp.post_json("/api/v1/reporter/session", {"receipt": receipt}).json
    return {"Authorization": f"Bearer {body['token']}"}


def notices(dbsession) -> int:
    return dbsession.scalar(select(func.count()).select_from(Notification))


def test_withdrawing_without_javascript_warns_confirms_closes_and_tells_the_guardians(testapp, dbsession, settings,
                                                                                        clock):
    channel = make_channel(dbsession)
    channel.retention_withdrawn_days = 30
    guardian = make_staff(dbsession, settings, clock, channels=["staff"])
    receipt = receipt_of(submit_disclosure(testapp))
    page = come_back(testapp, receipt)
    warning = page.click(description="Withdraw my report")
    text = warning.html.find(id="withdraw-warning").get_text(" ", strip=True)
    for words in ("stop working on it", "will be closed", "deleted 30 days after you withdraw it",
                  "You cannot undo this", "legal hold", day_words(clock.today() + timedelta(days=30))):
        assert words in text, words
    assert [tag.get("src") for tag in warning.html.find_all("script")] == ["/static/js/session-timeout.js"]

    # Not ticked: refused, and the case is as it was.
    refused = warning.forms["withdraw-form"].submit(status=422)
    assert "Tick the box" in refused.html.find(id="field-confirm").text
    case = dbsession.scalars(select(Case)).one()
    assert case.status == "received" and case.withdrawn_on is None

    # An expired page: refused too.
    form = refused.forms["withdraw-form"]
    form["confirm"] = True
    form["csrf_token"] = "stale"
    assert form.submit(status=400).html.find(class_="error-summary")
    assert dbsession.scalars(select(Case)).one().withdrawn_on is None

    before = notices(dbsession)
    form = testapp.get("/mailbox/case/withdraw").forms["withdraw-form"]
    form["confirm"] = True
    after = form.submit(status=303).follow()
    case = dbsession.scalars(select(Case)).one()
    assert case.status == "closed" and case.withdrawn_on == clock.today() and case.closed_on == clock.today()
    assert case.substantiated is None, "a withdrawal records no outcome"
    assert notices(dbsession) == before + 1, "the case's guardian is told, once"
    assert "You withdrew this report on" in after.html.find(id="withdrawn").text
    assert "message-form" not in after.forms and "identity-form" not in after.forms
    assert after.html.find(id="withdraw") is None, "nothing left to withdraw"
    assert "You withdrew this report, so nothing more is expected" in after.html.find(id="check-back").text
    assert after.html.find(id="retaliation-watch") is None, "no consent form, no check-in question"
    event = dbsession.scalars(select(AuditEvent).where(AuditEvent.action == "reporter.withdrew")).one()
    assert event.actor == "reporter" and event.case_id == case.id and event.detail == {"from": "received"}

    # A second withdrawal is refused politely.
    again = testapp.get("/mailbox/case/withdraw")
    assert "withdraw-form" not in again.forms and "closed already" in again.text

    # The guardian's inbox and case page say so, in words.
    testapp.post("/mailbox/leave")
    html_login(testapp, guardian, clock)
    said = f"Withdrawn by the reporter on {day_words(clock.today())}"
    assert said in testapp.get("/staff/cases").text
    shown = testapp.get(f"/staff/cases/{case.ref}")
    assert said in shown.html.find(id="withdrawn").text
    assert "reporter withdrew the report" in shown.text, "the timeline says it in words"


def test_writing_to_a_withdrawn_report_is_refused_politely_and_stores_nothing(testapp, dbsession, settings, clock):
    make_channel(dbsession)
    make_staff(dbsession, settings, clock, channels=["staff"])
    receipt = receipt_of(submit_disclosure(testapp))
    page = come_back(testapp, receipt)
    # The page was open before the withdrawal (another tab): its form is posted afterwards.
    stale = page.forms["message-form"]
    form = testapp.get("/mailbox/case/withdraw").forms["withdraw-form"]
    form["confirm"] = True
    form.submit(status=303)
    items = dbsession.scalar(select(func.count()).select_from(CaseItem))

    stale["text"] = "Actually, one more thing."
    stale["files"] = [Upload("more.txt", b"more", "text/plain")]
    refused = stale.submit(status=409)
    assert "You withdrew this report on" in refused.html.find(class_="error-summary").text
    assert "send a new report" in refused.text
    assert dbsession.scalar(select(func.count()).select_from(CaseItem)) == items, "nothing stored"

    headers = reporter_login(testapp, receipt)
    for path, body in (("/api/v1/reporter/messages", {"text": "More."}),
                       ("/api/v1/reporter/uploads", {"chunks": 1, "bytes": 10})):
        problem = testapp.post_json(path, body, headers=headers, status=409).json
        assert problem["type"] == "/api/v1/problems/withdrawn" and "withdrew" in problem["detail"]
    problem = testapp.post("/api/v1/reporter/attachments", b"data", headers=headers, status=409).json
    assert problem["type"] == "/api/v1/problems/withdrawn"
    assert dbsession.scalar(select(func.count()).select_from(CaseItem).where(CaseItem.kind == ITEM_MESSAGE)) == 0


def test_the_api_withdraws_once_with_a_clear_refusal_after(testapp, dbsession, settings, clock):
    make_channel(dbsession)
    guardian = make_staff(dbsession, settings, clock, channels=["staff"])
    sent = submit_api(testapp)
    headers = reporter_login(testapp, sent["receipt"])
    problem = testapp.post_json("/api/v1/reporter/withdrawal", {"confirm": False, "why": "x"}, headers=headers,
                                status=422).json
    assert {e["field"] for e in problem["errors"]} == {"confirm", "why"}
    assert dbsession.scalars(select(Case)).one().withdrawn_on is None

    before = notices(dbsession)
    body = testapp.post_json("/api/v1/reporter/withdrawal", {"confirm": True}, headers=headers).json
    assert body == {"status": "closed", "withdrawn_on": clock.today().isoformat()}
    assert notices(dbsession) == before + 1
    problem = testapp.post_json("/api/v1/reporter/withdrawal", {"confirm": True}, headers=headers, status=409).json
    assert problem["type"] == "/api/v1/problems/closed"
    assert testapp.get("/api/v1/reporter/envelopes", headers=headers).json["withdrawn_on"] == clock.today().isoformat()

    # A guardian who turned the event off is not told.
    guardian.account.notify_events_off = ["case_withdrawn"]
    sent = submit_api(testapp)
    headers = reporter_login(testapp, sent["receipt"])
    before = notices(dbsession)
    testapp.post_json("/api/v1/reporter/withdrawal", {"confirm": True}, headers=headers)
    assert notices(dbsession) == before

    # The guardians may reopen it, with a reason: then it is no longer withdrawn.
    staff = api_login(testapp, guardian, clock)
    testapp.post_json(f"/api/v1/cases/{sent['case']}/transitions", {"to": "assessing", "reason": "Safeguarding."},
                      headers=staff)
    case = dbsession.scalars(select(Case).where(Case.ref == sent["case"])).one()
    assert case.status == "assessing" and case.withdrawn_on is None and case.closed_on is None


def test_the_warning_says_when_a_report_is_deleted_at_once_or_kept_under_a_legal_hold(testapp, dbsession, settings,
                                                                                        clock):
    channel = make_channel(dbsession)
    make_staff(dbsession, settings, clock, channels=["staff"])
    channel.retention_withdrawn_days = 0
    come_back(testapp, receipt_of(submit_disclosure(testapp)))
    text = testapp.get("/mailbox/case/withdraw").html.find(id="withdraw-warning").get_text(" ", strip=True)
    assert "It will be deleted within a day." in text
    dbsession.scalars(select(Case)).one().hold_since = clock.today()
    text = testapp.get("/mailbox/case/withdraw").html.find(id="withdraw-warning").get_text(" ", strip=True)
    assert "has to keep it for now because the law requires it (a legal hold)" in text
    assert "within a day" not in text
