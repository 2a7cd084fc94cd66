"""The thin path through a real waitress server: a concern is submitted through the form,
stored encrypted, and read back by the guardian; nothing plaintext at rest, nothing of the
reporter's in the server's log."""
from __future__ import annotations

import re
import secrets

import pyotp
import pytest

from tests.e2e.server import Browser

REPORTER_ADDRESS = "127.0.0.2"  # a loopback address the server's own banner never mentions


@pytest.fixture
def server(running_server):
    return running_server


def assert_nowhere(markers: list[bytes], paths) -> None:
    for path in paths:
        data = path.read_bytes()
        for marker in markers:
            assert marker not in data, f"{marker!r} found in {path.name}"


def test_submit_store_and_read_back_through_waitress(server):
    marker = f"MARKER{secrets.token_hex(8)}"
    name_marker = f"NAME{secrets.token_hex(8)}"
    reporter = Browser(server.port, source=REPORTER_ADDRESS)

    # The reporter, with no JavaScript: start page -> channel -> form -> receipt.
    home = reporter.get("/")
    assert home.status == 200 and "Server" not in home.headers
    form_path = re.search(r'href="(/report/[^"]+)"', home.text).group(1)
    form = reporter.get(form_path)
    fields = form.form_fields()
    fields.update({"text": f"{marker} the fire exit is blocked every night", "answers.ongoing": "yes",
                   "answers.where": f"{marker} ward", "identity_mode": "confidential", "identity.name": name_marker})
    sent = reporter.post_form(form_path, fields)
    assert sent.status == 303, sent.text
    receipt_page = reporter.get(form_path + "/receipt")
    assert sent.headers["Location"].endswith(form_path + "/receipt")
    assert receipt_page.status == 200, receipt_page.text
    receipt = re.search(r"[0-9A-Z]{4}(?:-[0-9A-Z]{4}){4}", receipt_page.text).group(0)

    # A mistake along the way: nothing of it may reach the log either.
    assert reporter.post_form(form_path, {"text": marker}).status == 400
    assert reporter.get(f"/report/{marker}").status == 404

    # The guardian signs in with what `make run` printed and reads the case.
    credentials = server.demo_credentials()
    guardian = Browser(server.port, source="127.0.0.3")
    login = guardian.get("/staff/login")
    fields = login.form_fields()
    fields.update({"username": credentials["username"], "password": credentials["password"],
                   "otp": pyotp.TOTP(credentials["TOTP secret"]).now()})
    assert guardian.post_form("/staff/login", fields).status == 302
    inbox = guardian.get("/staff/cases")
    case_path = re.search(r'href="(/staff/cases/[^"]+)"', inbox.text).group(1)
    case_page = guardian.get(case_path)
    assert f"{marker} the fire exit is blocked every night" in case_page.text
    assert name_marker in case_page.text

    secrets_at_rest = [marker.encode(), name_marker.encode(), receipt.encode(), receipt.replace("-", "").encode()]
    files = server.files_at_rest()
    assert any(path.name.endswith("-wal") for path in files), "the scan covers the WAL while it exists"
    assert any(b"raise-a-concern" in path.read_bytes() for path in files), "the scan reads the stored data"
    assert_nowhere(secrets_at_rest, files)

    server.stop()
    assert_nowhere(secrets_at_rest, server.files_at_rest())
    log = server.log.read_bytes()
    assert b"Serving on" in log, "the log was captured"
    assert_nowhere([marker.encode(), name_marker.encode(), REPORTER_ADDRESS.encode(), b"127.0.0.3"], [server.log])
