"""Guardians' files through the real waitress server: a few MiB posted through the case page's
internal-file form spools nothing in plaintext (the server's open files are scanned mid-upload),
nothing at rest holds the bytes or the names, the reporter gets the file sent to them and never
the internal one, and a refused post leaves no blob behind (the transaction really aborts)."""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
import time
import uuid
from pathlib import Path

import pyotp
import pytest

from tests.e2e.reporter_helpers import call, call_json, file_contains, multipart_body, open_files_of
from tests.e2e.server import Browser, Server

MIB = 1024 * 1024
BLOCK = 256 * 1024
SIZE = 4 * MIB
LIMIT = 8 * MIB


@pytest.fixture
def server(tmp_path):
    server = Server(tmp_path)
    server.ini.write_text(server.ini.read_text().replace(
        "whistle.attachments.max_file_bytes = 1073741824", f"whistle.attachments.max_file_bytes = {LIMIT}"))
    server.start()
    yield server
    server.stop()


def guardian_browser(server) -> Browser:
    credentials = server.demo_credentials()
    browser = Browser(server.port, source="127.0.0.3")
    fields = browser.get("/staff/login").form_fields()
    fields.update({"username": credentials["username"], "password": credentials["password"],
                   "otp": pyotp.TOTP(credentials["TOTP secret"]).now()})
    assert browser.post_form("/staff/login", fields).status == 302
    return browser


def streamed_form(token: str, filename: str, size: int) -> tuple[bytes, bytes, int, str]:
    """A multipart form (CSRF token, then one file of `size` bytes): what goes before the file's
    bytes, what goes after, the whole length, and the content type."""
    boundary = uuid.uuid4().hex
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{filename}"\r\n'
            f"Content-Type: application/octet-stream\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    return head, tail, len(head) + size + len(tail), f"multipart/form-data; boundary={boundary}"


def attachment_link(page_text: str, ref: str, name: str) -> str:
    return re.search(rf'href="(/staff/cases/{ref}/attachments/\d+)"[^>]*>{re.escape(name)}<', page_text).group(1)


def test_a_guardians_files_stream_encrypted_and_reach_only_whom_they_are_for(server):
    marker = b"GUARDIANMARKER" + os.urandom(8).hex().encode()
    block = marker + os.urandom(BLOCK - 2 * len(marker)) + marker
    internal_name, shared_name = f"minutes-{marker.decode()}.bin", f"plan-{marker.decode()}.txt"
    shared_bytes = b"safety plan " + marker
    temp_dir = Path(tempfile.gettempdir())
    temp_before = set(temp_dir.iterdir())
    status, sent = call_json(server.port, "POST", "/api/v1/disclosures",
                             {"channel": "raise-a-concern", "text": "Please look at the rota.", "answers": {"ongoing": "yes"}})
    assert status == 201, sent
    ref = sent["case"]
    guardian = guardian_browser(server)
    token = guardian.get(f"/staff/cases/{ref}").form_fields()["csrf_token"]

    # An internal file of a few MiB through the form, streamed: half-way, nothing the server has
    # open on disk (waitress's request-body spool included) holds the plaintext.
    digest = hashlib.sha256()
    leaks_mid_upload = []

    def blocks():
        for index in range(SIZE // BLOCK):
            if index == SIZE // BLOCK // 2:
                time.sleep(0.5)  # let the server catch up with what was sent so far
                leaks_mid_upload.extend(os.readlink(path) for path in open_files_of(server.process.pid)
                                        if file_contains(path, [marker]))
            digest.update(block)
            yield block

    head, tail, length, content_type = streamed_form(token, internal_name, SIZE)

    def body():
        yield head
        yield from blocks()
        yield tail

    response = guardian.request("POST", f"/staff/cases/{ref}/attachments?internal=true", body(),
                                {"Content-Type": content_type, "Content-Length": str(length)})
    assert response.status == 302, response.text
    assert leaks_mid_upload == [], f"plaintext found in open files: {leaks_mid_upload}"

    # A small file sent to the reporter.
    form, form_type = multipart_body([("csrf_token", token)], [("files", shared_name, shared_bytes)])
    assert guardian.request("POST", f"/staff/cases/{ref}/attachments", form, {"Content-Type": form_type}).status == 302

    # Nothing at rest, and no temporary file made meanwhile, holds the bytes or either name.
    new_temp = [path for path in set(temp_dir.iterdir()) - temp_before if path.is_file()]
    everything = server.files_at_rest() + new_temp
    assert any(path.parent.name == "blobs" and path.stat().st_size > SIZE for path in everything)
    assert [path for path in everything if file_contains(path, [marker])] == []

    # The guardian downloads the internal file intact.
    link = attachment_link(guardian.get(f"/staff/cases/{ref}").text, ref, internal_name)
    internal = guardian.get(link)
    assert internal.status == 200 and hashlib.sha256(internal.body).hexdigest() == digest.hexdigest()
    internal_id = link.rsplit("/", 1)[1]

    # The reporter: the file sent to them, new and intact; the internal one neither listed nor served.
    status, session = call_json(server.port, "POST", "/api/v1/reporter/session", {"receipt": sent["receipt"]})
    reporter = {"Authorization": f"Bearer {session['token']}"}
    status, case = call_json(server.port, "GET", "/api/v1/reporter/case", headers=reporter)
    assert [(a["name"], a["from"], a["new"]) for a in case["attachments"]] == [(shared_name, "guardian", True)]
    status, _, body_bytes = call(server.port, "GET", f"/api/v1/reporter/attachments/{case['attachments'][0]['id']}",
                                 headers=reporter)
    assert (status, body_bytes) == (200, shared_bytes)
    assert call(server.port, "GET", f"/api/v1/reporter/attachments/{internal_id}", headers=reporter)[0] == 404


def test_a_refused_form_leaves_no_blob_behind(server):
    status, sent = call_json(server.port, "POST", "/api/v1/disclosures",
                             {"channel": "raise-a-concern", "text": "Please look at the rota.", "answers": {"ongoing": "yes"}})
    ref = sent["case"]
    guardian = guardian_browser(server)
    token = guardian.get(f"/staff/cases/{ref}").form_fields()["csrf_token"]
    blobs = server.directory / "var" / "blobs"
    form, form_type = multipart_body([("csrf_token", token)],
                                     [("files", "fits.txt", b"fits"), ("files", "big.bin", b"x" * (LIMIT + 1))])
    page = guardian.request("POST", f"/staff/cases/{ref}/attachments?internal=true", form, {"Content-Type": form_type})
    assert page.status == 413 and 'id="internal-files-error"' in page.text and "fits.txt" not in page.text
    assert not blobs.exists() or list(blobs.iterdir()) == [], "the first file's blob was deleted too"
    assert "fits.txt" not in guardian.get(f"/staff/cases/{ref}").text
