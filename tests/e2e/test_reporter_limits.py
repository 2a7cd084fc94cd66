"""Over an attachment limit, through the real server: the form comes back with the words kept, and
nothing of the rejected post is stored -- no case, no message, no blob (the transaction aborts)."""
from __future__ import annotations

import re

from tests.e2e.reporter_helpers import call_json, guardian_headers, multipart_body
from tests.e2e.server import Browser, Server


def test_a_rejected_upload_leaves_nothing_behind(tmp_path):
    server = Server(tmp_path)
    server.ini.write_text(server.ini.read_text().replace(
        "whistle.attachments.max_file_bytes = 1073741824", "whistle.attachments.max_file_bytes = 1000"))
    server.start()
    try:
        blobs = server.directory / "var" / "blobs"
        reporter = Browser(server.port)
        fields = reporter.get("/report/raise-a-concern").form_fields()
        body, content_type = multipart_body(
            list(fields.items()) + [("text", "Words that must survive"), ("answers.ongoing", "yes")],
            [("attachments", "small.txt", b"fits"), ("attachments", "big.bin", b"x" * 1001)])
        page = reporter.request("POST", "/report/raise-a-concern", body, {"Content-Type": content_type})
        assert page.status == 413
        assert "Words that must survive" in page.text and 'id="error-attachments"' in page.text
        staff = guardian_headers(server)
        assert call_json(server.port, "GET", "/api/v1/cases", headers=staff, source="127.0.0.3")[1]["total"] == 0
        assert not blobs.exists() or list(blobs.iterdir()) == [], "the first file's blob was deleted too"

        # The same from the mailbox: the message is kept on the page, nothing is stored.
        status, sent = call_json(server.port, "POST", "/api/v1/disclosures",
                                 {"channel": "raise-a-concern", "text": "First", "answers": {"ongoing": "yes"}})
        login = reporter.get("/mailbox")
        assert reporter.post_form("/mailbox", dict(login.form_fields(), receipt=sent["receipt"])).status == 303
        token = re.search(r'name="csrf_token" value="([^"]+)"', reporter.get("/mailbox/case").text).group(1)
        body, content_type = multipart_body([("csrf_token", token), ("text", "Kept message")],
                                            [("files", "ok.txt", b"fits"), ("files", "big.bin", b"y" * 1001)])
        page = reporter.request("POST", "/mailbox/case/messages", body, {"Content-Type": content_type})
        assert page.status == 413 and "Kept message" in page.text
        status, case = call_json(server.port, "GET", f"/api/v1/cases/{sent['case']}", headers=staff, source="127.0.0.3")
        assert case["messages"] == []
        assert not blobs.exists() or list(blobs.iterdir()) == []
    finally:
        server.stop()
