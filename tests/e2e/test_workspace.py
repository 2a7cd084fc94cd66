"""The workspace end to end: real waitress, real `whistle` commands, a browser without JavaScript."""
from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import time

import pyotp
import pytest

from tests.e2e.server import BIN, Browser, Server


def whistle(server, *args, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "whistle"), "-c", str(server.ini), *args], input=stdin, capture_output=True,
                          text=True, timeout=120)


def enrol(server, username: str, *extra: str) -> dict[str, str]:
    result = whistle(server, "guardian", "add", username, *extra, "--password-stdin", stdin=f"{username} has a long passphrase\n")
    assert result.returncode == 0, result.stderr
    return {"username": username, "password": f"{username} has a long passphrase",
            "recovery": re.search(r"recovery key: (\S+)", result.stdout).group(1),
            "totp": re.search(r"TOTP secret:\s+(\S+)", result.stdout).group(1)}


def sign_in(server, who: dict, source: str, *, step: int = 0) -> Browser:
    browser = Browser(server.port, source=source)
    fields = browser.get("/staff/login").form_fields()
    fields.update({"username": who["username"], "password": who["password"],
                   "otp": pyotp.TOTP(who["totp"]).at(time.time() + 30 * step)})
    response = browser.post_form("/staff/login", fields)
    assert response.status == 302, response.text
    return browser


@pytest.fixture
def server(tmp_path):
    server = Server(tmp_path)
    assert whistle(server, "db", "upgrade").returncode == 0
    assert whistle(server, "demo").returncode == 0  # channels
    yield server
    server.stop()


def test_grant_logout_reset_disable_and_audit_verify(server):
    alex = enrol(server, "alex", "--channel", "raise-a-concern")
    blair = enrol(server, "blair")
    server.start()
    reporter = Browser(server.port, source="127.0.0.9")
    submitted = reporter.request("POST", "/api/v1/disclosures", json.dumps(
        {"channel": "raise-a-concern", "text": "Medication is signed for but not given.", "answers": {"ongoing": "yes"}}).encode(),
        {"Content-Type": "application/json"})
    assert submitted.status == 201, submitted.text
    ref = json.loads(submitted.body)["case"]

    first = sign_in(server, alex, "127.0.0.4")
    page = first.get(f"/staff/cases/{ref}")
    assert "Medication is signed for but not given." in page.text
    token = page.form_fields()["csrf_token"]
    assert first.post_form(f"/staff/cases/{ref}/transitions", {"csrf_token": token, "to": "acknowledged"}).status == 302
    assert first.post_form(f"/staff/cases/{ref}/grants", {"csrf_token": token, "guardian": "blair"}).status == 302
    assert first.post_form("/staff/logout", {"csrf_token": token}).status == 302

    # The grantee reads with their own key, the granter long gone.
    second = sign_in(server, blair, "127.0.0.5")
    assert "Medication is signed for but not given." in second.get(f"/staff/cases/{ref}").text

    # A forgotten password, reset with the recovery key on the command line: the case stays readable.
    reset = whistle(server, "guardian", "reset-password", "blair", "--recovery-key-stdin",
                    stdin=f"{blair['recovery']}\nblair's brand new passphrase\n")
    assert reset.returncode == 0, reset.stderr
    assert second.get("/staff/cases").status == 302, "the old session ended"
    blair["password"] = "blair's brand new passphrase"
    again = sign_in(server, blair, "127.0.0.5", step=1)
    assert "Medication is signed for but not given." in again.get(f"/staff/cases/{ref}").text
    wrong = whistle(server, "guardian", "reset-password", "blair", "--recovery-key-stdin", stdin="nope\nanother long passphrase\n")
    assert wrong.returncode == 1 and "do not match" in wrong.stderr and "Traceback" not in wrong.stderr

    disabled = whistle(server, "guardian", "disable", "blair")
    assert disabled.returncode == 0, disabled.stderr
    assert again.get("/staff/cases").status == 302, "a disabled account's session ends"

    verified = whistle(server, "audit", "verify")
    assert verified.returncode == 0 and re.match(r"\d+ events, chain intact, head MAC checks out", verified.stdout)

    server.stop()
    database = server.directory / "var" / "whistle.sqlite"
    with sqlite3.connect(database) as connection:
        connection.execute("UPDATE audit_events SET action = 'case.viewed' WHERE seq = 3")
    broken = whistle(server, "audit", "verify")
    assert broken.returncode == 1 and broken.stdout.strip() == "audit chain broken at event 3: its contents were changed"
