"""Exporting a case on the guardian's device, in a real Chromium against a real server: the archive
is built in the page from what it decrypted (zip.js, served by the app, under the app's CSP), saved
as a download, and opened here: the case's words and files byte for byte, in the clear and
encrypted to a passphrase (AES-256, opened with pyzipper). No request the page sends carries a word
of the case, a byte of its files or the passphrase; the server only records that it happened."""
from __future__ import annotations

import io
import sqlite3
import zipfile
from pathlib import Path

import pytest
import pyzipper

from tests.browser.staff import sign_in_on_the_device
from tests.browser.test_e2e_reporter import Wire
from tests.browser.test_guardian_device_journey import marker, new_page, send_report, start_server, wait_opened
from tests.e2e.desk import DeskProcess, fingerprint_of
from tests.e2e.server import Server

pytestmark = pytest.mark.browser

PASSPHRASE = "seven blue herons at dusk"


def sign_in(page, credentials) -> None:
    sign_in_on_the_device(page, credentials)


def export(page, passphrase: str = "", again: str | None = None) -> bytes:
    page.fill("#export-passphrase", passphrase)
    page.fill("#export-passphrase-again", passphrase if again is None else again)
    with page.expect_download(timeout=60_000) as download:
        page.get_by_role("button", name="Export this case").click()
    assert download.value.suggested_filename.startswith("case-") and download.value.suggested_filename.endswith(".zip")
    page.get_by_text("was saved to this device").wait_for()
    return Path(download.value.path()).read_bytes()


def opened_offline(chromium, archive: zipfile.ZipFile, folder: Path, screenshots, name: str) -> None:
    """The unpacked archive's case.html in a browser without JavaScript: it asks for nothing beyond its
    own folder, and its file links lead to the files."""
    archive.extractall(folder)
    context = chromium.new_context(java_script_enabled=False, viewport={"width": 900, "height": 900})
    try:
        page = context.new_page()
        asked = []
        page.on("request", lambda request: asked.append(request.url))
        page.goto((folder / "case.html").as_uri())
        assert page.title().startswith("Case ")
        for link in page.locator("ul.files a").all():
            assert (folder / link.get_attribute("href")).is_file()
        assert all(url.startswith("file://") for url in asked), asked
        screenshots(page, f"{name}-case-html")
    finally:
        context.close()


def export_journey(chromium, server: Server, port: int, tmp_path, screenshots, name: str) -> None:
    """Export a case in the clear, refuse a short passphrase, export it encrypted, then with a note
    erased; `port`: the server's, or the desk's in front of it."""
    text, note = marker("TEXT-the-drug-fridge-is-unlocked"), marker("NOTE-told-the-matron")
    report_file = (marker("REPORTER-FILE") + "\n").encode() * 3000
    ref = send_report(chromium, server, text, report_file, tmp_path)
    context, page = new_page(chromium, port)
    refused = []
    page.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text
            else None)
    try:
        sign_in(page, server.demo_credentials())
        wire = Wire(page)
        page.goto(f"/staff/cases/{ref}")
        wait_opened(page)
        page.fill("#note-form textarea[name='text']", note)
        page.get_by_role("button", name="Add note").click()
        page.locator("#notes").get_by_text(note).wait_for(timeout=30_000)

        plain = zipfile.ZipFile(io.BytesIO(export(page)))
        assert sorted(plain.namelist()) == ["README.txt", "case.html", "files/rota.txt", "timeline.html"]
        assert plain.read("files/rota.txt") == report_file
        case_html = plain.read("case.html").decode("utf-8")
        for shown in (text, note, ref, "The reporter chose to stay anonymous.", "rota.txt", 'href="files/rota.txt"'):
            assert shown in case_html, shown
        assert "<script" not in case_html and "data-case-content" not in case_html
        assert "The reporter opened the case" in plain.read("timeline.html").decode("utf-8")
        assert "NOT encrypted" in plain.read("README.txt").decode("utf-8")
        opened_offline(chromium, plain, tmp_path / "unpacked", screenshots, name)

        # A short passphrase is refused on the page, naming the field; nothing is recorded or saved.
        page.fill("#export-passphrase", "too short")
        page.fill("#export-passphrase-again", "too short")
        page.get_by_role("button", name="Export this case").click()
        error = page.locator("#export-passphrase-error")
        assert "Passphrase" in error.inner_text() and "at least 12 characters" in error.inner_text()
        assert page.get_attribute("#export-passphrase", "aria-invalid") == "true"
        screenshots(page, f"{name}-refused")

        body = export(page, PASSPHRASE)
        for secret in (text.encode(), note.encode(), report_file[:40], PASSPHRASE.encode()):
            assert secret not in body
        with pytest.raises(RuntimeError, match="encrypted"):
            zipfile.ZipFile(io.BytesIO(body)).read("case.html")
        encrypted = pyzipper.AESZipFile(io.BytesIO(body))
        encrypted.setpassword(PASSPHRASE.encode())
        assert encrypted.read("files/rota.txt") == report_file
        assert text in encrypted.read("case.html").decode("utf-8")
        assert "encrypted with the passphrase" in encrypted.read("README.txt").decode("utf-8")

        # An erased note reads "Erased on …" in the archive, and its words are not there.
        with sqlite3.connect(server.directory / "var" / "whistle.sqlite") as database:
            database.execute("UPDATE case_items SET erased_on = '2026-12-01' WHERE kind = 'note' AND case_id = "
                             "(SELECT id FROM cases WHERE ref = ?)", (ref,))
        page.reload()
        wait_opened(page)
        erased = zipfile.ZipFile(io.BytesIO(export(page))).read("case.html").decode("utf-8")
        assert "Erased on 1 December 2026." in erased and note not in erased and text in erased

        page.reload()
        wait_opened(page)
        timeline = page.inner_text("#timeline")
        assert "exported the case as an archive, not encrypted (built on their device)" in timeline
        assert "exported the case as an archive, encrypted to a passphrase (built on their device)" in timeline
        screenshots(page, f"{name}-timeline")
        for secret in (text, note, report_file.decode()[:40], PASSPHRASE):
            assert wire.carrying(secret) == [], secret
        exports = [body for method, url, body in wire.bodies if url.endswith(f"/staff/cases/{ref}/export/device")]
        assert exports == [b'{"encrypted":false}', b'{"encrypted":true}', b'{"encrypted":false}']
        assert refused == [], refused
    finally:
        context.close()


def test_the_guardian_exports_a_case_on_their_device(chromium, site, tmp_path, screenshots):
    export_journey(chromium, site, site.port, tmp_path, screenshots, "export")


def test_the_same_export_through_the_desk(chromium, tmp_path, screenshots):
    """Through `whistle desk`: zip.js comes from the guardian's own machine with the other scripts."""
    server = start_server(tmp_path, secure_cookies=True)
    desk = None
    try:
        desk = DeskProcess(f"http://127.0.0.1:{server.port}", tmp_path, "--fingerprint", fingerprint_of(server))
        assert desk.wait_serving(), desk.output()
        export_journey(chromium, server, desk.port, tmp_path, screenshots, "export-desk")
    finally:
        if desk is not None:
            desk.stop()
        server.stop()
