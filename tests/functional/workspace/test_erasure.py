"""Erasing one message, note or file: its shred keys destroyed first, its content cleared, the case
showing "Erased on <date>: <reason>" in its place, to guardians (both modes) and to the reporter
(for what they could see); the report itself cannot be erased."""
from __future__ import annotations

import base64

from sqlalchemy import select, text
from webtest import Upload

from tests.factories import api_login, device_login, html_login
from tests.functional.workspace.conftest import events
from whistle.cases.models import ITEM_ATTACHMENT_META, ITEM_DISCLOSURE, ITEM_MESSAGE, ITEM_NOTE, Attachment, Case, CaseItem
from whistle.shredding import shred_store_of
from whistle.words import day_words

MARKER = "ERASE-ME-4471"


def case_of(dbsession, ref: str) -> Case:
    dbsession.flush()
    return dbsession.scalars(select(Case).where(Case.ref == ref)).one()


def item_of(dbsession, case: Case, kind: str, nth: int = 0) -> CaseItem:
    return list(dbsession.scalars(select(CaseItem).where(CaseItem.case_id == case.id, CaseItem.kind == kind)
                                  .order_by(CaseItem.id)))[nth]


def fields(answer) -> set[str]:
    return {error["field"] for error in answer.json["errors"]}


def erase(testapp, ref: str, headers: dict, item_id, reason="sent-in-error", status=200):
    return testapp.post_json(f"/api/v1/cases/{ref}/erasures", {"item_id": item_id, "reason": reason},
                             headers=headers, status=status)


def test_an_erased_message_is_gone_for_good_and_the_case_says_when_and_why(testapp, dbsession, submitted, headers,
                                                                            clock):
    ref = submitted["case"]
    testapp.post_json(f"/api/v1/cases/{ref}/messages", {"text": f"{MARKER} a reply"}, headers=headers, status=201)
    case = case_of(dbsession, ref)
    message = item_of(dbsession, case, ITEM_MESSAGE)
    handle, item_id = message.shred_handle, message.id
    assert shred_store_of(dbsession).keys([handle]), "the message has a key of its own in the store"

    answer = erase(testapp, ref, headers, item_id).json
    assert answer == {"item_id": item_id, "kind": "message", "erased_on": clock.today().isoformat(),
                      "erased_reason": "sent-in-error"}

    assert shred_store_of(dbsession).keys([handle]) == {}, "its key is destroyed"
    stored = dbsession.execute(text("SELECT ciphertext, shred_handle, erased_on, erased_reason FROM case_items "
                                    "WHERE id = :id"), {"id": item_id}).one()
    assert (bytes(stored[0]), stored[1], stored[3]) == (b"", None, "sent-in-error") and stored[2] is not None
    shown = testapp.get(f"/api/v1/cases/{ref}", headers=headers).json
    [marker] = [m for m in shown["messages"] if m["id"] == item_id]
    assert marker["erased"] is True and marker["erased_reason"] == "sent-in-error" and "text" not in marker
    [event] = events(dbsession, "case.item_erased")
    assert event.detail == {"item_id": item_id, "kind": "message", "reason": "sent-in-error"}
    assert MARKER not in str(event.detail)
    # And again: it is erased already.
    assert fields(erase(testapp, ref, headers, item_id, status=422)) == {"item_id"}


def test_the_report_itself_and_unknown_items_or_reasons_are_refused_and_nothing_changes(testapp, dbsession, submitted,
                                                                                      headers):
    ref = submitted["case"]
    case = case_of(dbsession, ref)
    disclosure = item_of(dbsession, case, ITEM_DISCLOSURE)
    refused = erase(testapp, ref, headers, disclosure.id, status=422).json
    assert "what the reporter reported" in refused["errors"][0]["message"]
    assert fields(erase(testapp, ref, headers, 10**9, status=422)) == {"item_id"}
    assert fields(erase(testapp, ref, headers, disclosure.id, reason="because", status=422)) == {"item_id", "reason"}
    assert fields(erase(testapp, ref, headers, "x", reason=None, status=422)) == {"item_id", "reason"}
    dbsession.expire_all()
    assert disclosure.erased_on is None and shred_store_of(dbsession).keys([disclosure.shred_handle])
    assert events(dbsession, "case.item_erased") == []


def test_an_erased_file_loses_its_keys_its_row_and_its_blob_and_the_reporter_sees_when_and_why(
        testapp, dbsession, submitted, headers, settings):
    ref = submitted["case"]
    sent = testapp.post(f"/api/v1/cases/{ref}/attachments", b"%PDF- " + MARKER.encode(),
                        headers={**headers, "X-Filename": "plan.pdf", "Content-Type": "application/pdf"},
                        status=201).json
    row = dbsession.get(Attachment, int(sent["id"]))
    meta = dbsession.get(CaseItem, row.meta_item_id)
    handles = [row.shred_handle, meta.shred_handle]
    assert len(shred_store_of(dbsession).keys(handles)) == 2

    erase(testapp, ref, headers, meta.id, reason="duplicate")

    assert shred_store_of(dbsession).keys(handles) == {}
    assert dbsession.scalar(select(Attachment).where(Attachment.id == int(sent["id"]))) is None
    testapp.get(f"/api/v1/cases/{ref}/attachments/{sent['id']}", headers=headers, status=404)
    shown = testapp.get(f"/api/v1/cases/{ref}", headers=headers).json
    assert [f["erased_reason"] for f in shown["erased_files"]] == ["duplicate"] and shown["attachments"] == []
    # The reporter, in their mailbox: the file they were sent is shown as erased, with the reason.
    token = testapp.post_json("/api/v1/reporter/session", {"receipt": submitted["receipt"]}).json["token"]
    mailbox = testapp.get("/api/v1/reporter/envelopes", headers={"Authorization": f"Bearer {token}"}).json
    [erased] = [item for item in mailbox["items"] if item["id"] == meta.id]
    assert erased["ciphertext"] is None and erased["erased_words"].endswith(
        "A duplicate of something already in the case.")


def test_the_case_page_form_erases_a_note_and_names_a_missing_reason(testapp, dbsession, submitted, guardian, clock):
    ref = submitted["case"]
    html_login(testapp, guardian, clock)
    page = testapp.get(f"/staff/cases/{ref}")
    form = page.forms["note-form"]
    form["text"] = f"{MARKER} a note"
    form.submit().follow()
    page = testapp.get(f"/staff/cases/{ref}")
    assert "The report itself" in page.text and "cannot be erased" in page.text
    note = item_of(dbsession, case_of(dbsession, ref), ITEM_NOTE)
    form = page.forms["erase-form"]
    assert [text for _, _, text in form["item_id"].options] == ["Choose…", f"Note 1, by guardian, {day_words(note.created_on)}"]

    form["item_id"] = str(note.id)
    refused = form.submit(status=422)
    assert "Why it is erased: choose why it is erased." in refused.text
    assert refused.forms["erase-form"]["item_id"].value == str(note.id), "the choice is kept"
    dbsession.expire_all()
    assert note.erased_on is None

    form = refused.forms["erase-form"]
    form["reason"] = "manifestly-irrelevant"
    shown = form.submit().follow()
    assert f"Erased on {day_words(clock.today())}: Personal data manifestly irrelevant to the report." in shown.text
    assert MARKER not in shown.text
    assert "erased an internal note (personal data manifestly irrelevant to the report)" in shown.text


def test_the_reporters_mailbox_shows_an_erased_message_in_its_place(testapp, dbsession, submitted, headers):
    ref = submitted["case"]
    testapp.post_json(f"/api/v1/cases/{ref}/messages", {"text": f"{MARKER} for you"}, headers=headers, status=201)
    message = item_of(dbsession, case_of(dbsession, ref), ITEM_MESSAGE)
    erase(testapp, ref, headers, message.id, reason="sent-in-error")
    form = testapp.get("/mailbox").forms[0]
    form["receipt"] = submitted["receipt"]
    page = form.submit().maybe_follow()
    assert "Erased on" in page.text and "Sent in error." in page.text and MARKER not in page.text


def test_device_mode_envelopes_carry_an_erased_item_as_such(testapp, dbsession, settings, clock, submitted, guardian):
    ref = submitted["case"]
    headers = api_login(testapp, guardian, clock)
    testapp.post_json(f"/api/v1/cases/{ref}/notes", {"text": f"{MARKER} note"}, headers=headers, status=201)
    note = item_of(dbsession, case_of(dbsession, ref), ITEM_NOTE)
    erase(testapp, ref, headers, note.id, reason="duplicate")
    device_login(testapp, dbsession, settings, clock, guardian)
    envelopes = testapp.get(f"/staff/cases/{ref}/envelopes").json
    [entry] = [item for item in envelopes["items"] if item["id"] == note.id]
    assert entry["ciphertext"] is None and entry["erased_reason"] == "duplicate"
    assert entry["erased_words"] == f"Erased on {day_words(clock.today())}: A duplicate of something already in the case."
    others = [item for item in envelopes["items"] if item["id"] != note.id]
    assert all(base64.b64decode(item["ciphertext"])[:1] in (b"\x01", b"\x02") for item in others), \
        "the rest is sent as the item envelopes it always was, unwrapped"
    assert ITEM_ATTACHMENT_META not in {item["kind"] for item in others}


def test_nothing_of_a_case_on_legal_hold_is_erased_until_the_hold_is_lifted(testapp, dbsession, submitted, headers):
    ref = submitted["case"]
    testapp.post_json(f"/api/v1/cases/{ref}/messages", {"text": f"{MARKER} a reply"}, headers=headers, status=201)
    message = item_of(dbsession, case_of(dbsession, ref), ITEM_MESSAGE)
    handle, item_id = message.shred_handle, message.id
    testapp.post_json(f"/api/v1/cases/{ref}/legal-hold", {"reason": "A tribunal claim names this case."},
                      headers=headers, status=201)

    refused = erase(testapp, ref, headers, item_id, status=422).json
    assert [error["field"] for error in refused["errors"]] == ["item_id"]
    assert "legal hold" in refused["errors"][0]["message"]
    dbsession.expire_all()
    assert shred_store_of(dbsession).keys([handle]), "its key is kept"
    assert events(dbsession, "case.item_erased") == []

    testapp.delete(f"/api/v1/cases/{ref}/legal-hold", headers=headers, status=204)
    erase(testapp, ref, headers, item_id)
    assert shred_store_of(dbsession).keys([handle]) == {}
