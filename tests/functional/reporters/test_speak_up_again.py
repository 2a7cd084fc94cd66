""""Would you speak up again?": asked in the mailbox once the case is closed (not withdrawn); the
answer is metadata, the comment an encrypted item the guardians read; the answer may be changed."""
from __future__ import annotations

import base64

from sqlalchemy import select

from tests.factories import api_login, html_login, make_channel, make_staff, submit_api
from tests.functional.reporters.helpers import come_back, receipt_of, submit_disclosure
from whistle import crypto
from whistle.audit.models import AuditEvent
from whistle.cases.models import ITEM_SPEAK_UP_COMMENT, Case, CaseItem
from whistle.db import Base

OUTCOME = {"substantiated": "partly", "changes": ["training"], "learned": "Rotas need a second check."}


def close(testapp, guardian, clock, ref: str) -> None:
    headers = api_login(testapp, guardian, clock)
    for to in ("acknowledged", "closed"):
        body = {"to": to, **(OUTCOME if to == "closed" else {})}
        testapp.post_json(f"/api/v1/cases/{ref}/transitions", body, headers=headers)


def reporter_login(testapp, receipt: str) -> dict:
    body = testapp.post_json("/api/v1/reporter/session", {"receipt": receipt}).json
    return {"Authorization": f"Bearer {body['token']}"}


def stored_bytes(dbsession) -> bytes:
    dbsession.flush()
    return b"".join(value if isinstance(value, bytes) else str(value).encode()
                    for table in Base.metadata.sorted_tables for row in dbsession.execute(table.select())
                    for value in row)


def test_the_closed_mailbox_asks_once_without_javascript_and_the_guardian_reads_the_answer(testapp, dbsession,
                                                                                            settings, clock):
    make_channel(dbsession)
    guardian = make_staff(dbsession, settings, clock, channels=["staff"])
    receipt = receipt_of(submit_disclosure(testapp))
    page = come_back(testapp, receipt)
    assert "speak-up-form" not in page.forms, "not asked while the case is open"
    case = dbsession.scalars(select(Case)).one()
    close(testapp, guardian, clock, case.ref)

    page = testapp.get("/mailbox/case")
    assert "Would you speak up again?" in page.html.find(id="speak-up").text
    marker = "MARMOSET-" + "5521 the manager listened"
    form = page.forms["speak-up-form"]
    form["comment"] = marker
    refused = form.submit(status=422)
    assert "Choose yes, no or not sure." in refused.html.find(id="field-answer").text
    assert refused.forms["speak-up-form"]["comment"].value == marker, "the comment is kept"
    assert dbsession.scalars(select(Case)).one().speak_up_again is None

    form = refused.forms["speak-up-form"]
    form["answer"] = "yes"
    after = form.submit(status=303).follow()
    assert "You answered: Yes" in after.html.find(id="speak-up").text
    case = dbsession.scalars(select(Case)).one()
    assert case.speak_up_again == "yes"
    comment = dbsession.scalars(select(CaseItem).where(CaseItem.kind == ITEM_SPEAK_UP_COMMENT)).one()
    assert comment.author == "reporter"
    assert marker.encode() not in stored_bytes(dbsession), "the comment is stored only encrypted"
    event = dbsession.scalars(select(AuditEvent).where(AuditEvent.action == "reporter.speak_up_answered")).one()
    assert event.detail == {"changed": False, "comment": True}, "the answer itself is not in the audit log"

    # Changing the answer later is allowed, without a new comment.
    form = after.forms["speak-up-form"]
    form["answer"] = "not_sure"
    form.submit(status=303)
    assert dbsession.scalars(select(Case)).one().speak_up_again == "not_sure"

    # The guardian sees the answer in words, and the comment (server-assisted page and API).
    testapp.post("/mailbox/leave")
    html_login(testapp, guardian, clock)
    section = testapp.get(f"/staff/cases/{case.ref}").html.find(id="speak-up-answer")
    assert "The reporter answered: Not sure" in section.text and marker in section.text
    assert "not_sure" not in section.text
    body = testapp.get(f"/api/v1/cases/{case.ref}", headers=api_login(testapp, guardian, clock)).json
    assert body["speak_up_again"] == "not_sure" and [c["text"] for c in body["speak_up_comments"]] == [marker]


def test_not_asked_while_open_or_after_a_withdrawal(testapp, dbsession, settings, clock):
    make_channel(dbsession)
    make_staff(dbsession, settings, clock, channels=["staff"])
    sent = submit_api(testapp)
    headers = reporter_login(testapp, sent["receipt"])
    problem = testapp.post_json("/api/v1/reporter/speak-up", {"answer": "yes"}, headers=headers, status=409).json
    assert problem["type"] == "/api/v1/problems/speak-up-not-asked"
    assert testapp.get("/api/v1/reporter/case", headers=headers).json["speak_up_asked"] is False

    # Through the page: a form posted to an open case is refused, and its comment kept.
    receipt = receipt_of(submit_disclosure(testapp))
    page = come_back(testapp, receipt)
    token = page.forms["message-form"]["csrf_token"].value
    refused = testapp.post("/mailbox/case/speak-up", {"csrf_token": token, "answer": "no", "comment": "kept"},
                           status=409)
    assert "asked once your report is closed" in refused.text

    testapp.post_json("/api/v1/reporter/withdrawal", {"confirm": True}, headers=headers)
    problem = testapp.post_json("/api/v1/reporter/speak-up", {"answer": "no"}, headers=headers, status=409).json
    assert problem["type"] == "/api/v1/problems/speak-up-not-asked"
    assert dbsession.scalars(select(Case).where(Case.ref == sent["case"])).one().speak_up_again is None


def test_the_api_takes_a_comment_as_text_or_as_an_item_the_device_encrypted(testapp, dbsession, settings, clock):
    make_channel(dbsession)
    guardian = make_staff(dbsession, settings, clock, channels=["staff"])
    sent = submit_api(testapp)
    close(testapp, guardian, clock, sent["case"])
    headers = reporter_login(testapp, sent["receipt"])
    assert testapp.get("/api/v1/reporter/envelopes", headers=headers).json["speak_up_asked"] is True

    problem = testapp.post_json("/api/v1/reporter/speak-up", {"answer": "maybe", "comment": 7, "extra": 1},
                                headers=headers, status=422).json
    assert {e["field"] for e in problem["errors"]} == {"answer", "comment", "extra"}
    assert testapp.post_json("/api/v1/reporter/speak-up", {"answer": "no", "comment": "Too slow."},
                             headers=headers).json == {"speak_up_again": "no"}

    case = dbsession.scalars(select(Case)).one()
    device_item = crypto.encrypt_item(case.public_key, "ON-DEVICE-8812".encode(), case=case.ref,
                                      kind=ITEM_SPEAK_UP_COMMENT, author="reporter")
    testapp.post_json("/api/v1/reporter/speak-up",
                      {"answer": "yes", "item": base64.b64encode(device_item).decode()}, headers=headers)
    body = testapp.get(f"/api/v1/cases/{case.ref}", headers=api_login(testapp, guardian, clock)).json
    assert body["speak_up_again"] == "yes"
    assert [c["text"] for c in body["speak_up_comments"]] == ["Too slow.", "ON-DEVICE-8812"]
