"""A live server's log holds nothing about who reported or what they said.

A real waitress server (whistle's loggers, the scheduler's, the debugging mail server's and
waitress's at DEBUG; its stdout and stderr both in the log) is driven through the reporter's journey
(the report form with a file, the receipt, the mailbox: signing in with the receipt, a reply, the API
session, leaving) and the guardian's (signing in, the case page, a reply, acknowledging, closing),
from client addresses other than the server's own and with a browser's user agent. Then the log is
scanned (tests/logcheck.py) for: any address but the one the server listens on, the user agent, the
receipt in any spelling, every cookie, CSRF token and bearer token issued, the passwords, recovery
key and TOTP secret used, the markers planted in the text, the answer, the file's name and bytes,
the messages and what was learned, and the case's reference within 200 characters of a reporter's
action.
"""
from __future__ import annotations

import json
import re
import secrets
import subprocess
import time

import pyotp
import pytest

from tests import logcheck
from tests.e2e.reporter_helpers import multipart_body
from tests.e2e.server import BIN, Browser, Server

REPORTER_ADDRESS, GUARDIAN_ADDRESS = "127.0.0.2", "127.0.0.4"
USER_AGENT = f"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0 LogCheck{secrets.token_hex(4)}"
REPORTER_ACTION = re.compile(r"reporter|mailbox|receipt|disclosure|intake", re.IGNORECASE)


class Visitor(Browser):
    """A browser that sends a user agent, and remembers every cookie and CSRF token it was given."""

    issued: set[str]

    def request(self, method, path, body=None, headers=None):
        response = super().request(method, path, body, {"User-Agent": USER_AGENT, **(headers or {})})
        self.issued.update(self.cookies.values())
        self.issued.update(re.findall(r'name="csrf_token" value="([^"]+)"', response.body.decode("utf-8", "replace")))
        return response


def visitor(port: int, source: str, issued: set[str]) -> Visitor:
    browser = Visitor(port, source=source)
    browser.issued = issued
    return browser


@pytest.fixture
def server(tmp_path):
    server = Server(tmp_path)
    # Everything at DEBUG that whistle and waitress can say (development.ini has waitress and the
    # scheduler at INFO); the root logger's console handler writes it all to server.log.
    ini = server.ini.read_text()
    for section in ("logger_waitress", "logger_scheduler", "logger_devmail"):
        ini = re.sub(rf"(\[{section}\]\nlevel = )\w+", r"\1DEBUG", ini)
    # A tick every second, so the guardians' notices (by email, which the debugging mail server prints
    # to this log) go out while the test runs.
    ini = ini.replace("whistle.scheduler.embedded = true",
                      "whistle.scheduler.embedded = true\nwhistle.scheduler.interval_seconds = 1")
    server.ini.write_text(ini)
    server.whistle("db", "upgrade")
    server.whistle("demo")  # its channels
    yield server
    server.stop()


def _json(browser: Visitor, method: str, path: str, data=None, headers=None):
    response = browser.request(method, path, json.dumps(data).encode() if data is not None else None,
                               {"Content-Type": "application/json", **(headers or {})})
    return response.status, (json.loads(response.body) if response.body else None)


def test_the_log_of_a_reporters_and_a_guardians_journey_holds_nothing_of_them(server):
    password = f"a long passphrase {secrets.token_hex(4)}"
    result = subprocess.run([str(BIN / "whistle"), "-c", str(server.ini), "guardian", "add", "logcheck", "--channel",
                             "raise-a-concern", "--notify", "email:logcheck@example.org", "--password-stdin"],
                            input=password + "\n", capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    recovery = re.search(r"recovery key: (\S+)", result.stdout).group(1)
    totp = re.search(r"TOTP secret:\s+(\S+)", result.stdout).group(1)
    server.start()
    issued: set[str] = set()
    markers = {name: f"{name.upper()}{secrets.token_hex(6)}" for name in
               ("text", "answer", "filename", "filebody", "message", "reply", "learned", "changed")}

    # The reporter: the form with a file, the receipt, the mailbox, a reply, the API, leaving.
    reporter = visitor(server.port, REPORTER_ADDRESS, issued)
    fields = reporter.get("/report/raise-a-concern").form_fields()
    body, content_type = multipart_body(
        [*fields.items(), ("text", f"{markers['text']} the fire exit is chained"), ("answers.ongoing", "yes"),
         ("answers.where", markers["answer"]), ("identity_mode", "anonymous")],
        [("attachments", f"{markers['filename']}.txt", markers["filebody"].encode() * 100)])
    sent = reporter.request("POST", "/report/raise-a-concern", body, {"Content-Type": content_type})
    assert sent.status == 303, sent.text
    receipt = re.search(r"[0-9A-Z]{4}(?:-[0-9A-Z]{4}){4}", reporter.get("/report/raise-a-concern/receipt").text).group(0)
    login = reporter.get("/mailbox")
    assert reporter.post_form("/mailbox", dict(login.form_fields(), receipt=receipt.lower())).status == 303
    case_page = reporter.get("/mailbox/case")
    body, content_type = multipart_body([("csrf_token", case_page.form_fields()["csrf_token"]),
                                         ("text", markers["message"])], [])
    assert reporter.request("POST", "/mailbox/case/messages", body, {"Content-Type": content_type}).status == 303
    status, session = _json(reporter, "POST", "/api/v1/reporter/session", {"receipt": receipt})
    assert status == 200, session
    bearer = {"Authorization": f"Bearer {session['token']}"}
    status, case = _json(reporter, "GET", "/api/v1/reporter/case", headers=bearer)
    assert status == 200, case
    ref = case["case"]
    assert reporter.post_form("/mailbox/leave", {}).status == 200

    # The guardian: signing in, the case page, a reply, acknowledging and closing, the API, signing out.
    guardian = visitor(server.port, GUARDIAN_ADDRESS, issued)
    fields = guardian.get("/staff/login").form_fields()
    fields.update({"username": "logcheck", "password": password, "otp": pyotp.TOTP(totp).now()})
    assert guardian.post_form("/staff/login", fields).status == 302
    page = guardian.get(f"/staff/cases/{ref}")
    assert markers["text"] in page.text and markers["message"] in page.text
    token = page.form_fields()["csrf_token"]
    for path, form in (("messages", {"text": markers["reply"]}), ("transitions", {"to": "acknowledged"}),
                       ("transitions", {"to": "closed", "substantiated": "yes", "changes": "process",
                                        "learned": markers["learned"], "changed": markers["changed"]})):
        answer = guardian.post_form(f"/staff/cases/{ref}/{path}", {"csrf_token": token, **form})
        assert answer.status == 302, (path, answer.status, answer.text[:500])
    assert "Closed" in guardian.get(f"/staff/cases/{ref}").text
    code = pyotp.TOTP(totp).at(time.time() + 30)  # a code is good once: the next step's
    status, staff_session = _json(guardian, "POST", "/api/v1/staff/session",
                                  {"username": "logcheck", "password": password, "otp": code})
    assert status == 200, staff_session
    staff_bearer = {"Authorization": f"Bearer {staff_session['token']}"}
    assert _json(guardian, "GET", f"/api/v1/cases/{ref}", headers=staff_bearer)[0] == 200
    assert guardian.post_form("/staff/logout", {"csrf_token": token}).status == 302
    deadline = time.monotonic() + 30
    while "logcheck@example.org" not in server.log.read_text() and time.monotonic() < deadline:
        time.sleep(0.5)
    server.stop()

    log = server.log.read_text(encoding="utf-8", errors="replace")
    assert f"127.0.0.1:{server.port}" in log, "waitress's own line is there: the log was written"
    assert "logcheck@example.org" in log, "the notice to the guardian, as the debugging mail server printed it"
    spellings = {receipt, receipt.lower(), receipt.replace("-", ""), receipt.replace("-", "").lower()}
    found = logcheck.findings(log, secrets=[
        ("the user agent", USER_AGENT), *(("the receipt", spelling) for spelling in spellings),
        *(("a cookie or CSRF token issued", value) for value in issued if len(value) >= 16),
        ("the reporter's bearer token", session["token"]), ("the guardian's bearer token", staff_session["token"]),
        ("the guardian's password", password), ("the recovery key", recovery), ("the TOTP secret", totp),
        *((f"the {name} marker", marker) for name, marker in markers.items()),
    ], own_addresses=("127.0.0.1",), near=[(ref, REPORTER_ACTION)])
    assert not found, "the server's log holds what it must not:\n" + "\n".join(map(str, found))
