"""A server-assisted export through the real waitress server: the archive is streamed after the
request's transaction has ended (files decrypted as they go out), arrives whole, and holds the case
and a file of a few MiB byte for byte; encrypted, it opens only with the passphrase."""
from __future__ import annotations

import io
import os
import zipfile

import pyzipper

from tests.e2e.reporter_helpers import call_json, multipart_body
from tests.e2e.server import Server
from tests.e2e.test_guardian_files import guardian_browser

PASSPHRASE = "an archive for the regulator"


def test_the_server_streams_the_whole_archive(tmp_path):
    server = Server(tmp_path)
    server.start()
    try:
        text = f"MARKER-{os.urandom(6).hex()} the rota was signed for checks nobody did"
        status, sent = call_json(server.port, "POST", "/api/v1/disclosures",
                                 {"channel": "raise-a-concern", "text": text, "answers": {"ongoing": "yes"}})
        assert status == 201, sent
        ref = sent["case"]
        guardian = guardian_browser(server)
        token = guardian.get(f"/staff/cases/{ref}").form_fields()["csrf_token"]
        content = os.urandom(3 * 1024 * 1024 + 17)
        body, content_type = multipart_body([("csrf_token", token)], [("files", "evidence.bin", content)])
        stored = guardian.request("POST", f"/staff/cases/{ref}/attachments?internal=true", body,
                                  {"Content-Type": content_type})
        assert stored.status == 302, stored.text

        plain = guardian.post_form(f"/staff/cases/{ref}/export", {"csrf_token": token, "passphrase": "",
                                                                  "passphrase_again": ""})
        assert plain.status == 200 and plain.headers["Content-Type"].startswith("application/zip")
        archive = zipfile.ZipFile(io.BytesIO(plain.body))
        assert archive.testzip() is None
        assert archive.read("files/evidence.bin") == content
        assert text in archive.read("case.html").decode("utf-8")

        sealed = guardian.post_form(f"/staff/cases/{ref}/export", {"csrf_token": token, "passphrase": PASSPHRASE,
                                                                   "passphrase_again": PASSPHRASE})
        assert sealed.status == 200 and text.encode() not in sealed.body
        encrypted = pyzipper.AESZipFile(io.BytesIO(sealed.body))
        encrypted.setpassword(PASSPHRASE.encode())
        assert encrypted.read("files/evidence.bin") == content
        assert PASSPHRASE.encode() not in server.log.read_bytes()
    finally:
        server.stop()
