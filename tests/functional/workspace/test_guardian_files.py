"""Guardians' files: sent to the reporter (case key), or internal (team key, guardians only).

Both are streamed into encryption as they arrive, through the case page's multipart forms and
POST /api/v1/cases/{ref}/attachments. The reporter lists, is told about and downloads the files
sent to them, and never an internal one: not listed, not counted, 404 by id, and their keys
cannot open its blob.
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import func, select
from webtest import TestApp, Upload

from tests.factories import api_login, guardian_keypair, html_login
from tests.functional.workspace.conftest import events, last_event
from whistle import crypto
from whistle.attachments.blobs import LocalBlobStore
from whistle.attachments.services import (
    open_blob,
    INTERNAL_STREAM_KIND,
    STREAM_KIND,
    AttachmentTooLarge,
    Limits,
    read_attachment,
    store_attachment,
)
from whistle.cases.models import (
    HOLDER_REPORTER,
    ITEM_ATTACHMENT_META,
    ITEM_INTERNAL_ATTACHMENT_META,
    Attachment,
    Case,
    CaseGrant,
    CaseItem,
)
from whistle.cases.services import CaseKeys, decrypt_item, unlock_for_guardian
from whistle.config import make_configurator
from whistle.settings import load_settings

PLAN = b"%PDF- the safety plan, page 1 of 1"
MINUTES = b"Strategy meeting minutes: police informed on Tuesday."


def reporter_app(app, tm, dbsession) -> TestApp:
    """A second browser (and API client) for the reporter, in the same doomed transaction."""
    return TestApp(app, extra_environ={"HTTP_HOST": "example.com", "tm.active": True, "tm.manager": tm,
                                       "app.dbsession": dbsession})


def reporter_headers(testapp, receipt: str) -> dict:
    token = testapp.post_json("/api/v1/reporter/session", {"receipt": receipt}).json["token"]
    return {"Authorization": f"Bearer {token}"}


def mailbox_page(reporter, receipt: str):
    """The reporter's case page: signing in with the receipt unless the browser still is."""
    start = reporter.get("/mailbox")
    if start.status_int == 303:
        return start.follow()
    form = start.forms[0]
    form["receipt"] = receipt
    return form.submit().follow()


def upload(testapp, ref: str, headers: dict, body: bytes, name: str, *, internal: bool | None = None, status=201):
    path = f"/api/v1/cases/{ref}/attachments" + ("" if internal is None else f"?internal={str(internal).lower()}")
    return testapp.post(path, body, status=status,
                        headers=dict(headers, **{"Content-Type": "application/pdf", "X-Filename": quote(name)}))


def case_of(dbsession, ref: str) -> Case:
    return dbsession.scalars(select(Case).where(Case.ref == ref)).one()


def reporter_keys(dbsession, settings, case: Case, receipt: str) -> CaseKeys:
    """What the reporter's receipt opens: the case key, and no team key."""
    reporter = crypto.derive_reporter_keys(receipt, settings.lookup_pepper, settings.receipt_kdf)
    grant = dbsession.scalars(select(CaseGrant).where(CaseGrant.case_id == case.id,
                                                      CaseGrant.holder == HOLDER_REPORTER)).one()
    return CaseKeys(case=crypto.KeyPair.from_private(crypto.unseal(reporter.keypair, grant.sealed_case_key)), team=None)


def blob_files(settings) -> set[Path]:
    directory = Path(settings.storage_dir)
    return set(directory.iterdir()) if directory.exists() else set()


def attachment_count(dbsession) -> int:
    return dbsession.scalar(select(func.count()).select_from(Attachment))


# --- to the reporter ---

def test_a_file_sent_through_the_page_reaches_the_reporter_as_new(
        app, tm, testapp, dbsession, guardian, submitted, clock):
    ref = submitted["case"]
    reporter = reporter_app(app, tm, dbsession)
    mailbox_page(reporter, submitted["receipt"])  # the reporter has looked once: news is since then
    html_login(testapp, guardian, clock)
    form = testapp.get(f"/staff/cases/{ref}").forms["send-file-form"]
    form["files"] = [Upload("Safety plan.pdf", PLAN, "application/pdf")]
    sent = form.submit(status=302)
    assert sent.headers["Location"].endswith(f"/staff/cases/{ref}#files")
    page = sent.follow()
    listed = page.html.find(id="files-to-reporter")
    assert "Safety plan.pdf" in listed.text and "by guardian" in listed.text
    assert page.html.find(id="files-internal") is None
    assert [e.detail for e in events(dbsession, "case.attachment_added")] == [{"internal": False, "files": 1}]

    mailbox = mailbox_page(reporter, submitted["receipt"])
    assert "1 new file from the people handling your report." in mailbox.html.find(id="news").text
    entry = mailbox.html.find(id="files").find("a", string="Safety plan.pdf").parent
    assert "from the people handling your report" in entry.text and "(new)" in entry.text
    download = mailbox.click(description="Safety plan.pdf")
    assert download.body == PLAN
    assert download.headers["Content-Disposition"].startswith("attachment;")
    again = reporter.get("/mailbox/case")
    assert "(new)" not in again.html.find(id="files").text, "seen files are no longer new"


def test_a_file_sent_through_the_api_reaches_the_reporter_as_new(testapp, dbsession, headers, submitted):
    ref = submitted["case"]
    reporter = reporter_headers(testapp, submitted["receipt"])
    testapp.get("/api/v1/reporter/case", headers=reporter)  # the first visit
    answer = upload(testapp, ref, headers, PLAN, "Safety plan.pdf").json
    assert answer == {"id": answer["id"], "size": len(PLAN), "internal": False}
    assert last_event(dbsession).detail == {"internal": False, "files": 1}

    case = testapp.get("/api/v1/reporter/case", headers=reporter).json
    assert case["attachments"] == [{"id": answer["id"], "name": "Safety plan.pdf", "size": len(PLAN),
                                    "from": "guardian", "new": True}]
    assert case["news"]["new_files"] == 1
    assert "1 new file from the people handling your report." in case["news"]["summary"]
    assert testapp.get(f"/api/v1/reporter/attachments/{answer['id']}", headers=reporter).body == PLAN

    listed = testapp.get(f"/api/v1/cases/{ref}", headers=headers).json["attachments"]
    assert [(a["id"], a["from"], a["by"], a["internal"]) for a in listed] == [
        (answer["id"], "guardian", "guardian", False)]


# --- internal ---

def test_an_internal_file_is_for_guardians_only_api(testapp, dbsession, headers, submitted):
    ref = submitted["case"]
    reporter = reporter_headers(testapp, submitted["receipt"])
    testapp.get("/api/v1/reporter/case", headers=reporter)  # the first visit
    internal = upload(testapp, ref, headers, MINUTES, "Strategy minutes.pdf", internal=True).json
    assert internal["internal"] is True
    assert last_event(dbsession).detail == {"internal": True, "files": 1}

    # Guardians: listed as internal, with who added it, and downloaded intact.
    listed = testapp.get(f"/api/v1/cases/{ref}", headers=headers).json["attachments"]
    assert [(a["name"], a["from"], a["by"], a["internal"]) for a in listed] == [
        ("Strategy minutes.pdf", "guardian", "guardian", True)]
    assert testapp.get(f"/api/v1/cases/{ref}/attachments/{internal['id']}", headers=headers).body == MINUTES

    # The reporter: not listed, not news, not downloadable by id.
    case = testapp.get("/api/v1/reporter/case", headers=reporter).json
    assert case["attachments"] == [] and case["news"]["new_files"] == 0
    assert "Strategy" not in str(case)
    testapp.get(f"/api/v1/reporter/attachments/{internal['id']}", headers=reporter, status=404)


def test_an_internal_file_is_for_guardians_only_pages(app, tm, testapp, dbsession, guardian, headers, submitted, clock):
    ref = submitted["case"]
    browser = reporter_app(app, tm, dbsession)
    mailbox_page(browser, submitted["receipt"])  # the first visit
    internal = upload(testapp, ref, headers, MINUTES, "Strategy minutes.pdf", internal=True).json

    html_login(testapp, guardian, clock)
    page = testapp.get(f"/staff/cases/{ref}")
    entry = page.html.find(id="files-internal").find("a", string="Strategy minutes.pdf").parent
    assert "by guardian" in entry.text
    assert page.html.find(id="files-to-reporter") is None
    assert page.click(description="Strategy minutes.pdf").body == MINUTES

    mailbox = mailbox_page(browser, submitted["receipt"])
    assert "Strategy minutes" not in mailbox.text and "new file" not in mailbox.text
    browser.get(f"/mailbox/case/attachments/{internal['id']}", status=404)


def test_an_internal_file_through_the_page_form(testapp, dbsession, guardian, submitted, clock):
    ref = submitted["case"]
    html_login(testapp, guardian, clock)
    form = testapp.get(f"/staff/cases/{ref}").forms["internal-file-form"]
    form["files"] = [Upload("Strategy minutes.pdf", MINUTES, "application/pdf"), Upload("Chronology.txt", b"1. ...")]
    page = form.submit(status=302).follow()
    assert [a.text for a in page.html.find(id="files-internal").find_all("a")] == [
        "Strategy minutes.pdf", "Chronology.txt"]
    assert page.html.find(id="files-to-reporter") is None
    assert [e.detail for e in events(dbsession, "case.attachment_added")] == [{"internal": True, "files": 2}]
    kinds = dbsession.scalars(select(CaseItem.kind).join(Attachment, Attachment.meta_item_id == CaseItem.id)).all()
    assert kinds == [ITEM_INTERNAL_ATTACHMENT_META] * 2


def test_the_reporters_keys_cannot_open_an_internal_file(testapp, dbsession, settings, headers, submitted, app):
    ref = submitted["case"]
    internal = upload(testapp, ref, headers, MINUTES, "Strategy minutes.pdf", internal=True).json
    case = case_of(dbsession, ref)
    row = dbsession.get(Attachment, internal["id"])
    meta = dbsession.get(CaseItem, row.meta_item_id)
    keys = reporter_keys(dbsession, settings, case, submitted["receipt"])
    store = app.registry.blob_store
    for kind in (STREAM_KIND, INTERNAL_STREAM_KIND):
        with open_blob(store, row) as blob, pytest.raises(crypto.DecryptionFailed):
            b"".join(crypto.decrypt_stream(keys.case, blob, case=ref, kind=kind, author=f"guardian:{row.account_id}"))
    with pytest.raises(crypto.DecryptionFailed):
        crypto.decrypt_item(keys.case, meta.ciphertext, case=ref, kind=meta.kind, author=f"guardian:{meta.account_id}")


# --- tampering: moving a row or a blob between the two kinds ---

def test_an_internal_meta_row_relabelled_for_the_reporter_does_not_decrypt(
        testapp, dbsession, settings, guardian, headers, submitted):
    ref = submitted["case"]
    internal = upload(testapp, ref, headers, MINUTES, "Strategy minutes.pdf", internal=True).json
    case = case_of(dbsession, ref)
    meta = dbsession.get(CaseItem, dbsession.get(Attachment, internal["id"]).meta_item_id)
    meta.kind = ITEM_ATTACHMENT_META  # a database writer tries to show it to the reporter
    dbsession.flush()
    with pytest.raises(crypto.DecryptionFailed):
        decrypt_item(case, reporter_keys(dbsession, settings, case, submitted["receipt"]), meta)
    guardian_keys = guardian_case_keys(dbsession, settings, case, guardian)
    with pytest.raises(crypto.DecryptionFailed):
        decrypt_item(case, guardian_keys, meta)  # not even a guardian reads it under the wrong kind


def test_a_blob_moved_between_kinds_does_not_decrypt(testapp, dbsession, settings, guardian, headers, submitted, app):
    ref = submitted["case"]
    shared = dbsession.get(Attachment, upload(testapp, ref, headers, PLAN, "Plan.pdf").json["id"])
    internal = dbsession.get(Attachment, upload(testapp, ref, headers, MINUTES, "Minutes.pdf", internal=True).json["id"])
    case = case_of(dbsession, ref)
    keys = guardian_case_keys(dbsession, settings, case, guardian)  # holds both keys
    store = app.registry.blob_store
    author = f"guardian:{guardian.account.id}"  # both files are the guardian's: only the kind differs
    assert b"".join(read_attachment(store, case, keys, internal, author=author, internal=True)) == MINUTES
    # The internal blob read as the reporter-visible file it was moved to, and the other way round.
    with pytest.raises(crypto.DecryptionFailed):
        b"".join(read_attachment(store, case, keys, internal, author=author, internal=False))
    with pytest.raises(crypto.DecryptionFailed):
        b"".join(read_attachment(store, case, keys, shared, author=author, internal=True))
    # The kind alone is bound too: the right key under the other kind fails.
    with open_blob(store, internal) as blob, pytest.raises(crypto.DecryptionFailed):
        b"".join(crypto.decrypt_stream(keys.team, blob, case=ref, kind=STREAM_KIND, author=author))


def guardian_case_keys(dbsession, settings, case: Case, guardian) -> CaseKeys:
    keypair = guardian_keypair(guardian.account, guardian.password)
    return unlock_for_guardian(dbsession, case, guardian.account.id, keypair, server_key=settings.session_key,
                               renewal=None)


# --- refusals: nothing is stored ---

def small_limits_testapp(raw_settings, clock, tm, dbsession, **limits) -> TestApp:
    raw = dict(raw_settings, **{f"whistle.attachments.{key}": str(value) for key, value in limits.items()})
    app = make_configurator(raw, settings=load_settings(raw, environ={}), clock=clock).make_wsgi_app()
    return TestApp(app, extra_environ={"HTTP_HOST": "example.com", "tm.active": True, "tm.manager": tm,
                                       "app.dbsession": dbsession})


def test_a_file_over_the_limit_is_refused_naming_the_field_and_nothing_is_stored(
        raw_settings, settings, clock, tm, dbsession, guardian, submitted):
    testapp = small_limits_testapp(raw_settings, clock, tm, dbsession, max_file_bytes=1000,
                                   max_guardian_case_bytes=1500)
    ref = submitted["case"]
    html_login(testapp, guardian, clock)
    before = blob_files(settings)
    for form_id, field_id in (("send-file-form", "send-files"), ("internal-file-form", "internal-files")):
        form = testapp.get(f"/staff/cases/{ref}").forms[form_id]
        form["files"] = [Upload("big.bin", b"x" * 1001)]
        refused = form.submit(status=413)
        error = refused.html.find(id=f"{field_id}-error")
        assert error is not None and "at most 1 kB" in error.text
        assert refused.html.find(id=form_id).find(id=f"{field_id}-error") is not None, "named in the form that was sent"
        assert attachment_count(dbsession) == 0
        assert blob_files(settings) == before, "the partial blob is gone"

    # Several files: the first fits, the second does not; the first is not kept either.
    form = testapp.get(f"/staff/cases/{ref}").forms["send-file-form"]
    form["files"] = [Upload("fits.txt", b"fits"), Upload("big.bin", b"x" * 1001)]
    refused = form.submit(status=413)
    assert "fits.txt" not in refused.text, "the page does not list a file that is not kept"
    assert attachment_count(dbsession) == 0
    assert not events(dbsession, "case.attachment_added")
    # (Its blob is deleted when the doomed transaction aborts: tests/e2e/test_guardian_files.py.)

    headers = api_login(testapp, guardian, clock)
    problem = upload(testapp, ref, headers, b"x" * 1001, "big.bin", internal=True, status=413)
    assert problem.content_type == "application/problem+json" and "at most" in problem.json["detail"]
    upload(testapp, ref, headers, b"x" * 900, "a.bin")
    over_case = upload(testapp, ref, headers, b"x" * 900, "b.bin", internal=True, status=413).json
    assert "together" in over_case["detail"]
    assert attachment_count(dbsession) == 1


def test_the_guardians_files_do_not_take_the_reporters_room_for_files(raw_settings, clock, tm, dbsession, guardian,
                                                                      submitted):
    testapp = small_limits_testapp(raw_settings, clock, tm, dbsession, max_file_bytes=1000, max_case_bytes=1500,
                                   max_guardian_case_bytes=1500)
    staff = api_login(testapp, guardian, clock)
    # The guardians keep evidence for the team and send the reporter a letter: their room is used up.
    upload(testapp, submitted["case"], staff, b"e" * 500, "cctv.bin", internal=True)
    upload(testapp, submitted["case"], staff, b"l" * 200, "letter.pdf")
    assert "guardians' files" in upload(testapp, submitted["case"], staff, b"e" * 900, "more.bin", internal=True,
                                        status=413).json["detail"]

    reporter = dict(reporter_headers(testapp, submitted["receipt"]),
                    **{"Content-Type": "application/octet-stream", "X-Filename": "photo.jpg"})
    # The reporter has sent nothing yet: a 900-byte photo is within both limits for them.
    testapp.post("/api/v1/reporter/attachments", b"p" * 900, headers=reporter, status=201)
    over = testapp.post("/api/v1/reporter/attachments", b"p" * 900, headers=reporter, status=413).json
    assert "files of one report together" in over["detail"]


def test_of_two_uploads_at_once_the_one_that_overfills_the_case_is_refused(clock, tm, dbsession, settings, submitted,
                                                                            tmp_path):
    """Each upload measures the room before its file streams in; one that finished meanwhile is
    counted again after storing, and the later one is refused."""
    case = case_of(dbsession, submitted["case"])
    keys = reporter_keys(dbsession, settings, case, submitted["receipt"])
    limits = Limits(max_file_bytes=1000, max_case_bytes=1500, max_guardian_case_bytes=1500)
    store = LocalBlobStore(tmp_path)

    def store_file(chunks):
        return store_attachment(dbsession, store, tm.get(), case, keys, name="photo.jpg", content_type="image/jpeg",
                                chunks=chunks, limits=limits, author="reporter", today=clock.today())

    def while_another_upload_finishes():
        yield b"a" * 450
        store_file([b"b" * 900])  # the other upload, started after this one measured the room
        yield b"a" * 450

    with pytest.raises(AttachmentTooLarge, match="together"):
        store_file(while_another_upload_finishes())


def test_an_expired_page_or_no_file_stores_nothing(testapp, dbsession, settings, guardian, submitted, clock):
    ref = submitted["case"]
    html_login(testapp, guardian, clock)
    before = blob_files(settings)
    form = testapp.get(f"/staff/cases/{ref}").forms["internal-file-form"]
    form["csrf_token"] = "expired-token"
    form["files"] = [Upload("minutes.pdf", MINUTES)]
    refused = form.submit(status=400)
    assert "This page had expired" in refused.text
    assert attachment_count(dbsession) == 0 and blob_files(settings) == before

    form = testapp.get(f"/staff/cases/{ref}").forms["send-file-form"]
    refused = form.submit(status=422)
    assert "Send the reporter a file: choose a file first." in refused.html.find(id="send-file-form").text
    assert attachment_count(dbsession) == 0 and not events(dbsession, "case.attachment_added")


def test_bad_api_uploads_are_named(testapp, dbsession, headers, submitted):
    ref = submitted["case"]
    problem = testapp.post(f"/api/v1/cases/{ref}/attachments?internal=maybe", PLAN, status=422, headers=dict(
        headers, **{"Content-Type": "application/pdf", "X-Filename": "plan.pdf"})).json
    assert [e["field"] for e in problem["errors"]] == ["internal"]
    problem = testapp.post(f"/api/v1/cases/{ref}/attachments", PLAN, status=422,
                           headers=dict(headers, **{"Content-Type": "application/pdf"})).json
    assert [e["field"] for e in problem["errors"]] == ["X-Filename"]
    assert attachment_count(dbsession) == 0


def test_only_the_cases_guardians_may_add_files(testapp, dbsession, colleague, submitted, clock):
    outsider = api_login(testapp, colleague, clock)
    upload(testapp, submitted["case"], outsider, PLAN, "plan.pdf", status=404)
    upload(testapp, submitted["case"], {}, PLAN, "plan.pdf", status=401)  # nobody signed in: 401 for every case
    assert attachment_count(dbsession) == 0
