"""Replies reach the reporter; internal notes never do; both are audited without their text."""
from __future__ import annotations

from sqlalchemy import select

from tests.factories import holder_keys, html_login, submit_api
from tests.functional.workspace.conftest import last_event
from whistle import crypto
from whistle.cases.models import HOLDER_REPORTER, ITEM_NOTE, Case, CaseGrant, CaseItem
from whistle.cases.services import CaseKeys, read_case

NOTE = "Internal: the ward manager is married to the deputy."
REPLY = "Thank you. We are looking into the rota now."


def reporter_reachable_text(testapp, app, dbsession, settings, receipt: str, ref: str) -> str:
    """Everything the reporter can read, by both routes there are: their own keys (derived from the
    receipt, opening the reporter's grant), and, where the mailbox API is present, its answer."""
    case = dbsession.scalars(select(Case).where(Case.ref == ref)).one()
    dbsession.expire(case)
    reporter = crypto.derive_reporter_keys(receipt, settings.lookup_pepper, settings.receipt_kdf)
    grant = dbsession.scalars(select(CaseGrant).where(CaseGrant.case_id == case.id,
                                                      CaseGrant.holder == HOLDER_REPORTER)).one()
    keys = CaseKeys(case=crypto.KeyPair.from_private(crypto.unseal(reporter.keypair, grant.sealed_case_key)), team=None)
    content = read_case(case, keys)
    reachable = repr(content)
    routes = {route.name for route in app.routes_mapper.get_routes()}
    if "api.reporter_case" in routes:  # where the reporter's mailbox is built
        token = testapp.post_json("/api/v1/reporter/session", {"receipt": receipt}).json["token"]
        reachable += testapp.get("/api/v1/reporter/case", headers={"Authorization": f"Bearer {token}"}).text
    return reachable


def test_reply_and_note_through_the_api(testapp, app, dbsession, settings, headers, submitted):
    ref = submitted["case"]
    reply = testapp.post_json(f"/api/v1/cases/{ref}/messages", {"text": REPLY}, headers=headers, status=201).json
    assert last_event(dbsession).action == "case.message_added"
    note = testapp.post_json(f"/api/v1/cases/{ref}/notes", {"text": NOTE}, headers=headers, status=201).json
    event = last_event(dbsession)
    assert (event.action, event.detail) == ("case.note_added", {"item_id": note["id"]})
    body = testapp.get(f"/api/v1/cases/{ref}", headers=headers).json
    assert [(m["id"], m["from"], m["text"]) for m in body["messages"]] == [(reply["id"], "guardian", REPLY)]
    assert [n["text"] for n in body["notes"]] == [NOTE]
    # The reporter reads the reply and can never read the note.
    seen = reporter_reachable_text(testapp, app, dbsession, settings, submitted["receipt"], ref)
    assert REPLY in seen
    assert NOTE not in seen and "deputy" not in seen
    stored = dbsession.scalars(select(CaseItem).where(CaseItem.kind == ITEM_NOTE)).one()
    assert b"deputy" not in stored.ciphertext


def test_reply_and_note_through_the_page(testapp, app, dbsession, settings, guardian, submitted, clock):
    ref = submitted["case"]
    html_login(testapp, guardian, clock)
    page = testapp.get(f"/staff/cases/{ref}")
    form = page.forms["reply-form"]
    form["text"] = REPLY
    page = form.submit().follow()
    form = page.forms["note-form"]
    form["text"] = NOTE
    page = form.submit().follow()
    assert REPLY in page.text and NOTE in page.text
    seen = reporter_reachable_text(testapp, app, dbsession, settings, submitted["receipt"], ref)
    assert REPLY in seen and NOTE not in seen


def test_an_empty_reply_is_refused_and_keeps_nothing(testapp, dbsession, guardian, headers, submitted, clock):
    ref = submitted["case"]
    response = testapp.post_json(f"/api/v1/cases/{ref}/messages", {"text": "  "}, headers=headers, status=422)
    assert response.json["errors"][0]["field"] == "text"
    html_login(testapp, guardian, clock)
    form = testapp.get(f"/staff/cases/{ref}").forms["note-form"]
    form["text"] = ""
    refused = form.submit(status=422)
    assert "Add a note: write something first." in refused.text
    assert testapp.get(f"/api/v1/cases/{ref}", headers=headers).json["notes"] == []


def test_unread_counts_reporter_items_until_the_guardian_looks(testapp, app, dbsession, settings, headers, submitted):
    ref = submitted["case"]
    row = testapp.get("/api/v1/cases", headers=headers).json["cases"][0]
    assert row["unread"] == 1, "a new disclosure is unread"
    testapp.get(f"/api/v1/cases/{ref}", headers=headers)
    assert testapp.get("/api/v1/cases", headers=headers).json["cases"][0]["unread"] == 0
    assert testapp.get("/api/v1/cases?unread=true", headers=headers).json["cases"] == []
    # A message from the reporter makes it unread again.
    case = dbsession.scalars(select(Case).where(Case.ref == ref)).one()
    from whistle.cases.services import add_item
    add_item(case, holder_keys(dbsession, case),
             kind="message", author="reporter", plaintext=b"One more thing.", today=case.opened_on)
    add_item(case, holder_keys(dbsession, case),
             kind="message", author="reporter", plaintext=b"And another.", today=case.opened_on)
    dbsession.flush()
    assert [r["unread"] for r in testapp.get("/api/v1/cases?unread=true", headers=headers).json["cases"]] == [2]
    # My own reply does not count as unread for me.
    testapp.get(f"/api/v1/cases/{ref}", headers=headers)
    testapp.post_json(f"/api/v1/cases/{ref}/messages", {"text": REPLY}, headers=headers, status=201)
    assert testapp.get("/api/v1/cases", headers=headers).json["cases"][0]["unread"] == 0


def test_unread_is_per_case(testapp, headers, guardian, channel):
    older, newer = submit_api(testapp)["case"], submit_api(testapp)["case"]
    testapp.get(f"/api/v1/cases/{newer}", headers=headers)  # read the newer one only
    assert [r["case"] for r in testapp.get("/api/v1/cases?unread=true", headers=headers).json["cases"]] == [older]
    counts = {r["case"]: r["unread"] for r in testapp.get("/api/v1/cases", headers=headers).json["cases"]}
    assert counts == {older: 1, newer: 0}


def test_a_long_note_through_the_page_is_parsed_in_memory_never_in_a_temporary_file(
        testapp, guardian, headers, submitted, clock, monkeypatch):
    # WebOb copies a form body over 10 KiB to a temporary file before parsing it: a guardian's
    # long note would be on disk in plaintext. whistle.request keeps every accepted form in memory.
    import cgi

    from webob.request import BaseRequest

    made = []
    real_tempfile, real_make_file = BaseRequest.make_tempfile, cgi.FieldStorage.make_file
    monkeypatch.setattr(BaseRequest, "make_tempfile", lambda self: made.append("webob") or real_tempfile(self))
    monkeypatch.setattr(cgi.FieldStorage, "make_file", lambda self: made.append("cgi") or real_make_file(self))
    long_note = "The rota shows one nurse for forty beds. " * 450  # ~18 KB: over WebOb's 10 KiB
    ref = submitted["case"]
    html_login(testapp, guardian, clock)
    form = testapp.get(f"/staff/cases/{ref}").forms["note-form"]
    form["text"] = long_note
    form.submit(status=302)
    assert made == []
    assert testapp.get(f"/api/v1/cases/{ref}", headers=headers).json["notes"][0]["text"] == long_note.strip()


def test_a_staff_form_larger_than_any_text_allowed_is_refused_before_it_is_read(testapp, guardian, submitted, clock):
    ref = submitted["case"]
    html_login(testapp, guardian, clock)
    token = testapp.get(f"/staff/cases/{ref}").forms["note-form"]["csrf_token"].value
    huge = "x" * (100_000 * 12 + 64 * 1024 + 1)
    testapp.post(f"/staff/cases/{ref}/notes", {"csrf_token": token, "text": huge}, status=413)
