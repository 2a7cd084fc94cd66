"""The reporter's mailbox through the real waitress server and the real CLI: channels loaded from
config/channels.toml, a disclosure with answers, identity and a file, a message back, an identity
revealed later -- and none of it anywhere at rest in plaintext (database, WAL, blobs), nor in the log."""
from __future__ import annotations

import re
import secrets

import pytest

from tests.e2e.reporter_helpers import call_json, file_contains, guardian_headers, multipart_body
from tests.e2e.server import ROOT, Browser

REPORTER_ADDRESS = "127.0.0.2"


@pytest.fixture
def server(running_server):
    return running_server


def marker(kind: str) -> str:
    return f"{kind}{secrets.token_hex(6)}"


def test_mailbox_through_waitress_leaves_no_plaintext_at_rest(server):
    out = server.whistle("channels", "load", str(ROOT / "config" / "channels.toml"))
    assert "updated channel 'raise-a-concern'" in out and "created channel 'young-peoples-voice'" in out
    markers = {name: marker(name.upper()) for name in
               ("text", "answer", "name", "personnel", "filename", "filebody", "message", "revealed")}

    reporter = Browser(server.port, source=REPORTER_ADDRESS)
    home = reporter.get("/")
    assert "Young people&#39;s voice" in home.text or "Young people's voice" in home.text
    form_page = reporter.get("/report/raise-a-concern")
    fields = form_page.form_fields()
    body, content_type = multipart_body(
        list(fields.items()) + [("text", f"{markers['text']} the fire exit"), ("answers.ongoing", "yes"),
                                ("answers.where", markers["answer"]), ("identity_mode", "confidential"),
                                ("identity.name", markers["name"]), ("identity.personnel_id", markers["personnel"])],
        [("attachments", f"{markers['filename']}.txt", markers["filebody"].encode() * 1000)])
    sent = reporter.request("POST", "/report/raise-a-concern", body, {"Content-Type": content_type})
    assert sent.status == 303, sent.text
    page = reporter.get("/report/raise-a-concern/receipt")
    receipt = re.search(r"[0-9A-Z]{4}(?:-[0-9A-Z]{4}){4}", page.text).group(0)
    again = reporter.request("POST", "/report/raise-a-concern", body, {"Content-Type": content_type})
    assert again.status == 303, "a repeat post of the form opens no second case ..."
    assert receipt in reporter.get("/report/raise-a-concern/receipt").text, "... and shows the same receipt"

    # Come back with the receipt and send a message.
    login = reporter.get("/mailbox")
    response = reporter.post_form("/mailbox", dict(login.form_fields(), receipt=receipt.lower()))
    assert response.status == 303
    case_page = reporter.get("/mailbox/case")
    assert f"{markers['filename']}.txt" in case_page.text and "You told us who you are" in case_page.text
    assert markers["name"] not in case_page.text
    body, content_type = multipart_body([("csrf_token", case_page.form_fields()["csrf_token"]),
                                         ("text", markers["message"])], [])
    assert reporter.request("POST", "/mailbox/case/messages", body, {"Content-Type": content_type}).status == 303
    left = reporter.post_form("/mailbox/leave", {})
    assert "You have left" in left.text and "whistle_reporter" not in reporter.cookies

    # A second, anonymous report whose reporter reveals who they are later.
    status, sent = call_json(server.port, "POST", "/api/v1/disclosures",
                             {"channel": "raise-a-concern", "text": "Second report", "answers": {"ongoing": "no"}})
    assert status == 201
    second = Browser(server.port, source=REPORTER_ADDRESS)
    login = second.get("/mailbox")
    second.post_form("/mailbox", dict(login.form_fields(), receipt=sent["receipt"]))
    case_page = second.get("/mailbox/case")
    token = re.search(r'name="csrf_token" value="([^"]+)"', case_page.text).group(1)
    revealed = second.post_form("/mailbox/case/identity", {"csrf_token": token, "identity_mode": "confidential",
                                                           "identity.name": markers["revealed"]})
    assert revealed.status == 303

    # The guardian reads all of it.
    staff = guardian_headers(server)
    status, first_case = call_json(server.port, "GET", "/api/v1/cases", headers=staff, source="127.0.0.3")
    refs = [c["case"] for c in first_case["cases"]]
    texts = []
    for ref in refs:
        status, case = call_json(server.port, "GET", f"/api/v1/cases/{ref}", headers=staff, source="127.0.0.3")
        texts.append(str(case))
    joined = " ".join(texts)
    for key in ("text", "answer", "name", "personnel", "message", "revealed"):
        assert markers[key] in joined, key

    secrets_at_rest = [value.encode() for value in markers.values()] + [receipt.encode(), receipt.replace("-", "").encode()]
    files = server.files_at_rest()
    assert any(path.name.endswith("-wal") for path in files), "the scan covers the WAL while it exists"
    assert any(path.parent.name == "blobs" for path in files), "the scan covers the blob store"
    assert {str(path): file_contains(path, secrets_at_rest) for path in files if file_contains(path, secrets_at_rest)} == {}
    server.stop()
    files = server.files_at_rest()
    assert [path for path in files if file_contains(path, secrets_at_rest)] == []
    log = server.log
    assert file_contains(log, secrets_at_rest + [REPORTER_ADDRESS.encode()]) == []
