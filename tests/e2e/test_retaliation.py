"""Retaliation watch end to end: real waitress, the `whistle integration add` command, the HR system's
token, a guardian's browser without JavaScript, and the files at rest scanned for the personnel number."""
from __future__ import annotations

import json
import re
import sqlite3
from datetime import date

import pytest

from tests.e2e.server import Browser, Server
from tests.e2e.test_workspace import enrol, sign_in, whistle

NUMBER = "HR-4471-ZK"
UNPROTECTED = "HR-9902-QT"


@pytest.fixture
def server(tmp_path):
    server = Server(tmp_path)  # development.ini enables retaliation_watch, with every other bundled plugin
    assert whistle(server, "db", "upgrade").returncode == 0
    assert whistle(server, "demo").returncode == 0  # the demo channel
    yield server
    server.stop()


def api(browser: Browser, method: str, path: str, body: dict | None = None, token: str | None = None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    response = browser.request(method, path, json.dumps(body).encode() if body is not None else None, headers)
    return response.status, (json.loads(response.body) if response.body else None)


def test_a_dismissal_of_a_protected_reporter_reaches_the_guardian_and_the_number_is_nowhere_at_rest(server):
    alex = enrol(server, "alex", "--channel", "raise-a-concern")
    added = whistle(server, "integration", "add", "hr-system")
    assert added.returncode == 0, added.stderr
    hr_token = added.stdout.strip().splitlines()[-1]
    again = whistle(server, "integration", "add", "hr-system")
    assert again.returncode == 1 and "exists already" in again.stderr
    server.start()

    reporter = Browser(server.port, source="127.0.0.9")
    status, sent = api(reporter, "POST", "/api/v1/disclosures", {
        "channel": "raise-a-concern", "text": "Rotas are falsified.", "answers": {"ongoing": "yes"},
        "identity_mode": "confidential", "identity": {"name": "Robin", "personnel_id": NUMBER}})
    assert status == 201, sent
    status, session = api(reporter, "POST", "/api/v1/reporter/session", {"receipt": sent["receipt"]})
    assert api(reporter, "POST", "/api/v1/reporter/protection-consent", {"consent": True}, session["token"])[0] == 200

    guardian = sign_in(server, alex, "127.0.0.4")
    page = guardian.get(f"/staff/cases/{sent['case']}")
    assert f'value="{NUMBER}"' in page.text, "the form is prefilled from the identity the reporter gave"
    token = page.form_fields()["csrf_token"]
    registered = guardian.post_form(f"/staff/cases/{sent['case']}/protections",
                                    {"csrf_token": token, "personnel_id": NUMBER, "starts_on": date.today().isoformat(),
                                     "window_months": "24"})
    assert registered.status == 302, registered.text

    hr = Browser(server.port, source="127.0.0.7")
    dismissal = {"type": "dismissal", "effective": date.today().isoformat()}
    assert api(hr, "POST", "/api/v1/personnel-events", dict(dismissal, personnel_id=UNPROTECTED), hr_token)[0] == 202
    assert "retaliation alert" not in guardian.get("/staff/cases").text, "an unprotected person raises nothing"
    assert api(hr, "POST", "/api/v1/personnel-events", dict(dismissal, personnel_id=NUMBER), hr_token) == \
        (202, {"status": "accepted"})
    assert "retaliation alert" in guardian.get("/staff/cases").text
    case_page = guardian.get(f"/staff/cases/{sent['case']}").text
    assert re.search(r"Dismissal, effective \d{1,2} [A-Z][a-z]+ \d{4}", case_page)

    # The HR token opens nothing else; a guardian's token posts no events.
    assert api(hr, "GET", "/api/v1/cases", token=hr_token)[0] == 403
    assert api(hr, "GET", f"/api/v1/cases/{sent['case']}", token=hr_token)[0] == 404
    assert api(hr, "POST", "/api/v1/personnel-events", dict(dismissal, personnel_id=NUMBER), session["token"])[0] == 403

    # A leaked token is revoked from the command line, at once.
    disabled = whistle(server, "integration", "disable", "hr-system")
    assert disabled.returncode == 0, disabled.stderr
    assert api(hr, "POST", "/api/v1/personnel-events", dict(dismissal, personnel_id=NUMBER), hr_token)[0] == 401
    listed = whistle(server, "integration", "list").stdout
    assert "hr-system\tdisabled" in listed and hr_token not in listed
    assert whistle(server, "integration", "disable", "nobody").returncode == 1
    server.stop()

    files = server.files_at_rest()
    assert any(path.name.endswith(".sqlite") for path in files)
    for path in files:
        data = path.read_bytes()
        for number in (NUMBER, UNPROTECTED):
            for form in {number, number.lower()}:
                assert form.encode() not in data, f"{form} found in {path.name}"
                assert form.encode("utf-16-le") not in data
    assert NUMBER not in server.log.read_text() and UNPROTECTED not in server.log.read_text()
    database = next(path for path in files if path.name == "whistle.sqlite")
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT count(*) FROM protection_alerts").fetchone() == (1,), "nothing after disabling"
        assert connection.execute("SELECT count(*) FROM protections").fetchone() == (1,)
