"""Exporting a case as a ZIP archive, server-assisted: what the archive holds, byte for byte; the
passphrase (AES-256, opened here with pyzipper); refusals that name the field; the audit event,
and no passphrase in the database or the logs. (Device mode: tests/browser/test_export_browser.py.)"""
from __future__ import annotations

import io
import logging
import zipfile
from datetime import date
from urllib.parse import quote

import pytest
import pyzipper
from sqlalchemy import select, text

from tests.factories import device_login, html_login
from tests.functional.workspace.conftest import events
from whistle.attachments.blobs import LocalBlobStore
from whistle.cases.models import ITEM_NOTE, Attachment, Case, CaseItem
from whistle.words import day_words
from whistle.workspace.export import ExportCut, safe_names

DISCLOSURE = "MARKER-DISCLOSURE the night shift is left with one nurse for 40 beds."
TOLD = "MARKER-TOLD the rota for next week is the same."
REPLY = "MARKER-REPLY thank you, we are looking into it."
NOTE = "MARKER-NOTE spoke to the ward manager."
ROTA = b"%PDF- MARKER-ROTA \x00\x01\x02 binary\xff" * 50
MINUTES = b"MARKER-MINUTES strategy meeting minutes"
PASSPHRASE = "purple elephant umbrella 42"


def reporter_headers(testapp, receipt: str) -> dict:
    token = testapp.post_json("/api/v1/reporter/session", {"receipt": receipt}).json["token"]
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def case_with_everything(testapp, guardian, headers):
    """A case with a disclosure, a reporter's file (twice, same name), a reply, a note, an internal file."""
    ref = testapp.post_json("/api/v1/disclosures", {"channel": "staff", "text": DISCLOSURE,
                                                    "answers": {"ongoing": "yes"}}, status=201).json
    reporter = reporter_headers(testapp, ref["receipt"])
    for _ in range(2):
        testapp.post("/api/v1/reporter/attachments", ROTA, status=201, headers=dict(
            reporter, **{"Content-Type": "application/pdf", "X-Filename": quote("../rota: week 1?.pdf")}))
    testapp.post_json("/api/v1/reporter/messages", {"text": TOLD}, headers=reporter, status=201)
    case = ref["case"]
    testapp.post_json(f"/api/v1/cases/{case}/messages", {"text": REPLY}, headers=headers, status=201)
    testapp.post_json(f"/api/v1/cases/{case}/notes", {"text": NOTE}, headers=headers, status=201)
    testapp.post(f"/api/v1/cases/{case}/attachments?internal=true", MINUTES, status=201, headers=dict(
        headers, **{"Content-Type": "text/plain", "X-Filename": "minutes.txt"}))
    return case


def export(testapp, ref: str, passphrase: str = "", again: str | None = None, status: int = 200):
    page = testapp.get(f"/staff/cases/{ref}")
    form = page.forms["export-form"]
    form["passphrase"] = passphrase
    form["passphrase_again"] = passphrase if again is None else again
    return form.submit(status=status)


def test_the_archive_holds_the_case_its_files_and_timeline(testapp, dbsession, guardian, clock, case_with_everything):
    ref = case_with_everything
    html_login(testapp, guardian, clock)
    response = export(testapp, ref)
    assert response.content_type == "application/zip"
    assert response.headers["Content-Disposition"].startswith(f'attachment; filename="case-{ref}-')
    assert "no-store" in response.headers["Cache-Control"]
    archive = zipfile.ZipFile(io.BytesIO(response.body))
    assert archive.testzip() is None
    names = sorted(archive.namelist())
    assert names == sorted(["case.html", "timeline.html", "README.txt", "files/rota_ week 1_.pdf",
                            "files/rota_ week 1_ (2).pdf", "files/minutes.txt"])
    assert archive.read("files/rota_ week 1_.pdf") == ROTA
    assert archive.read("files/rota_ week 1_ (2).pdf") == ROTA
    assert archive.read("files/minutes.txt") == MINUTES
    page = archive.read("case.html").decode("utf-8")
    for marker in (DISCLOSURE, TOLD, REPLY, NOTE, ref, "Raise a concern", "rota: week 1?.pdf", "minutes.txt",
                   "guardian, ", "The reporter, "):
        assert marker in page, marker
    assert "<script" not in page and "http" not in page.replace('"http-equiv"', "")
    assert page.startswith("<!doctype html>") and page.index(TOLD) < page.index(REPLY) < page.index(NOTE)
    timeline = archive.read("timeline.html").decode("utf-8")
    assert "The reporter opened the case on the" in timeline and "guardian replied to the reporter" in timeline
    readme = archive.read("README.txt").decode("utf-8")
    assert f"Case {ref}" in readme and "Exported by guardian" in readme and "NOT encrypted" in readme
    recorded = events(dbsession, "case.exported")
    assert [(e.actor, e.detail) for e in recorded] == [
        (f"account:{guardian.account.id}", {"encrypted": False, "mode": "server"})]
    assert "guardian exported the case as an archive, not encrypted" in testapp.get(f"/staff/cases/{ref}").text


def test_an_encrypted_archive_opens_only_with_the_passphrase(testapp, dbsession, guardian, clock,
                                                             case_with_everything, caplog):
    ref = case_with_everything
    html_login(testapp, guardian, clock)
    with caplog.at_level(logging.DEBUG):
        response = export(testapp, ref, PASSPHRASE)
    body = response.body
    for marker in (b"MARKER-", PASSPHRASE.encode()):
        assert marker not in body
    plain = zipfile.ZipFile(io.BytesIO(body))
    with pytest.raises(RuntimeError, match="encrypted"):
        plain.read("case.html")
    archive = pyzipper.AESZipFile(io.BytesIO(body))
    with pytest.raises(RuntimeError):
        archive.read("case.html")
    archive.setpassword(b"not the passphrase at all")
    with pytest.raises(RuntimeError, match="Bad password"):
        archive.read("case.html")
    archive.setpassword(PASSPHRASE.encode())
    assert all(info.flag_bits & 1 for info in archive.infolist())
    assert archive.read("files/minutes.txt") == MINUTES
    assert archive.read("files/rota_ week 1_.pdf") == ROTA
    assert DISCLOSURE in archive.read("case.html").decode("utf-8")
    assert "encrypted with the passphrase" in archive.read("README.txt").decode("utf-8")
    assert [e.detail for e in events(dbsession, "case.exported")] == [{"encrypted": True, "mode": "server"}]
    # The passphrase is nowhere the service keeps anything.
    dbsession.flush()
    for table in ("audit_events", "case_items", "cases"):
        assert PASSPHRASE not in str(dbsession.execute(text(f"SELECT * FROM {table}")).all())
    assert PASSPHRASE not in caplog.text


@pytest.mark.parametrize(("passphrase", "again", "field", "words"), [
    ("too short", "too short", "export-passphrase", "at least 12 characters"),
    (PASSPHRASE, PASSPHRASE + "!", "export-passphrase-again", "not the same as the passphrase"),
    ("", PASSPHRASE, "export-passphrase", "at least 12 characters"),
])
def test_a_refused_passphrase_names_the_field_and_exports_nothing(
        testapp, dbsession, guardian, clock, case_with_everything, passphrase, again, field, words):
    ref = case_with_everything
    html_login(testapp, guardian, clock)
    page = export(testapp, ref, passphrase, again, status=422)
    assert page.content_type == "text/html"
    assert f'href="#{field}"' in page.text and words in page.text
    assert 'aria-invalid="true"' in page.text.split(f'id="{field}"')[1].split(">")[0]
    assert PASSPHRASE not in page.text
    assert events(dbsession, "case.exported") == []


def test_erased_items_show_when_they_were_erased(testapp, dbsession, guardian, clock, case_with_everything):
    ref = case_with_everything
    case = dbsession.scalars(select(Case).where(Case.ref == ref)).one()
    note = dbsession.scalars(select(CaseItem).where(CaseItem.case_id == case.id, CaseItem.kind == ITEM_NOTE)).one()
    note.erased_on = date(2026, 12, 4)
    dbsession.flush()
    # A file erased with its stored copy: its details' item says it was there.
    minutes = dbsession.scalars(select(Attachment).where(Attachment.case_id == case.id, Attachment.author != "reporter")
                                ).one()
    dbsession.get(CaseItem, minutes.meta_item_id).erased_on = date(2026, 12, 3)
    dbsession.delete(minutes)  # its created_on stays readable on the deleted object
    dbsession.flush()
    html_login(testapp, guardian, clock)
    archive = zipfile.ZipFile(io.BytesIO(export(testapp, ref).body))
    page = archive.read("case.html").decode("utf-8")
    assert "Erased on 4 December 2026." in page
    assert NOTE not in page
    added = day_words(minutes.created_on)
    assert f"A file (by guardian, guardians only, {added}), erased on 3 December 2026." in page
    assert "files/minutes.txt" not in archive.namelist()


def test_names_are_made_safe_and_unique():
    assert safe_names(["a.pdf", "A.pdf", "a.pdf", "..", "CON.txt", "x/y\\z.txt", "é\x00.doc", "a (2).pdf"]) == [
        "a.pdf", "A (2).pdf", "a (3).pdf", "file", "_CON.txt", "z.txt", "é_.doc", "a (2) (2).pdf"]
    assert len(safe_names(["n" * 300 + ".pdf"])[0]) == 104


def device_csrf(testapp, dbsession, settings, clock, guardian, ref: str) -> str:
    device_login(testapp, dbsession, settings, clock, guardian)
    return testapp.get(f"/staff/cases/{ref}").html.find("meta", attrs={"name": "csrf-token"})["content"]


def test_on_the_device_the_server_records_the_export_and_hands_back_no_content(
        testapp, dbsession, settings, clock, guardian, case_with_everything):
    ref = case_with_everything
    case = dbsession.scalars(select(Case).where(Case.ref == ref)).one()
    note = dbsession.scalars(select(CaseItem).where(CaseItem.case_id == case.id, CaseItem.kind == ITEM_NOTE)).one()
    note.erased_on = date(2026, 12, 4)
    csrf = device_csrf(testapp, dbsession, settings, clock, guardian, ref)
    body = testapp.post_json(f"/staff/cases/{ref}/export/device", {"encrypted": True},
                             headers={"X-CSRF-Token": csrf}).json
    assert body["filename"].startswith(f"case-{ref}-") and body["filename"].endswith(".zip")
    frame = body["case_html"]
    assert frame.startswith("<!doctype html>") and ref in frame and "Raise a concern" in frame
    for place in ("disclosure", "answers", "identity", "messages", "notes", "records", "files"):
        assert f'<div data-case-content="{place}"></div>' in frame, place
    everything = str(body)
    for marker in ("MARKER-", "rota", "minutes"):
        assert marker not in everything, marker
    assert "guardian replied to the reporter" in body["timeline_html"]
    assert "encrypted with the passphrase" in body["readme"] and "Exported by guardian" in body["readme"]
    assert body["erased"] == [{"id": note.id, "kind": "note", "at": note.created_on.isoformat(), "from": "guardian",
                               "account_id": guardian.account.id, "erased_on": "2026-12-04",
                               "erased_words": "erased on 4 December 2026"}]
    assert [e.detail for e in events(dbsession, "case.exported")] == [{"encrypted": True, "mode": "device"}]


def test_on_the_device_a_malformed_request_is_refused_and_not_recorded(
        testapp, dbsession, settings, clock, guardian, case_with_everything):
    ref = case_with_everything
    csrf = device_csrf(testapp, dbsession, settings, clock, guardian, ref)
    problem = testapp.post_json(f"/staff/cases/{ref}/export/device", {"encrypted": "yes", "passphrase": "x"},
                                headers={"X-CSRF-Token": csrf, "Accept": "application/json"}, status=422).json
    assert sorted(e["field"] for e in problem["errors"]) == ["encrypted", "passphrase"]
    testapp.post_json(f"/staff/cases/{ref}/export/device", {"encrypted": False}, status=400)  # no CSRF token
    # The server-assisted route cannot decrypt for a sign-in that keeps no key: it says so, exports nothing.
    refused = testapp.post(f"/staff/cases/{ref}/export", {"csrf_token": csrf}, status=409)
    assert "on your device" in refused.text
    assert events(dbsession, "case.exported") == []


def test_the_form_is_on_the_case_page_with_its_warning(testapp, guardian, clock, case_with_everything):
    html_login(testapp, guardian, clock)
    page = testapp.get(f"/staff/cases/{case_with_everything}")
    section = page.html.find(id="export")
    assert section.find("h2").get_text() == "Export this case"
    assert "holds the case in the clear unless you give a passphrase" in section.get_text()
    assert "The export is recorded" in section.get_text()
    assert [i["type"] for i in section.find_all("input") if i["name"] != "csrf_token"] == ["password", "password"]


def test_a_file_changed_part_way_leaves_the_archive_unfinished(testapp, dbsession, settings, guardian, clock, headers,
                                                                case_with_everything):
    """A file whose first chunk verifies and a later one does not: the archive stops there, without its
    directory, so nobody unpacks a silently shorter file."""
    ref = case_with_everything
    big = b"MARKER-BIG " * 20000  # several chunks
    stored = testapp.post(f"/api/v1/cases/{ref}/attachments?internal=true", big, status=201, headers=dict(
        headers, **{"Content-Type": "text/plain", "X-Filename": "big.txt"})).json
    row = dbsession.get(Attachment, int(stored["id"]))
    blob = LocalBlobStore(settings.storage_dir)._path(row.blob_name)
    data = bytearray(blob.read_bytes())
    data[-100] ^= 1
    blob.write_bytes(bytes(data))
    html_login(testapp, guardian, clock)
    with pytest.raises(ExportCut, match=r"big\.txt"):
        export(testapp, ref)
