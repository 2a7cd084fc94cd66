"""The plugin guide's worked example, end to end: the example module from docs/plugins.md, enabled
by its dotted path in a real server, acting on a real disclosure through an event core fires."""
from __future__ import annotations

import json

import pyotp
import pytest

from tests.e2e.server import Browser, Server
from tests.unit.test_plugin_docs import worked_example

RULE = "acme.wrote-after-feedback"


@pytest.fixture
def acme_server(tmp_path):
    package = tmp_path / "plugins" / "acme_speakup_rules"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(worked_example())
    home = tmp_path / "server"
    home.mkdir()
    server = Server(home, plugins=("acme_speakup_rules",), pythonpath=tmp_path / "plugins")
    server.start()
    yield server
    server.stop()


def call(client: Browser, method: str, path: str, body: dict | None = None, token: str | None = None) -> dict:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    response = client.request(method, path, json.dumps(body).encode() if body is not None else None, headers)
    assert response.status in (200, 201), (path, response.status, response.text)
    return json.loads(response.body)


def escalations(case: dict) -> list[dict]:
    return [event["detail"] for event in case["events"] if event["action"] == "case.escalated"]


def test_the_worked_example_hears_a_reporter_who_writes_after_feedback(acme_server):
    reporter, staff = Browser(acme_server.port, source="127.0.0.7"), Browser(acme_server.port, source="127.0.0.8")
    sent = call(reporter, "POST", "/api/v1/disclosures", {
        "channel": "raise-a-concern", "text": "The night rota leaves one nurse alone.", "answers": {"ongoing": "yes"}})
    ref = sent["case"]
    reporter_token = call(reporter, "POST", "/api/v1/reporter/session", {"receipt": sent["receipt"]})["token"]
    demo = acme_server.demo_credentials()
    guardian_token = call(staff, "POST", "/api/v1/staff/session", {
        "username": demo["username"], "password": demo["password"], "otp": pyotp.TOTP(demo["TOTP secret"]).now()})["token"]

    # Before feedback, a message is just a message: the rule leaves it alone.
    call(reporter, "POST", "/api/v1/reporter/messages", {"text": "Is anyone reading this?"}, reporter_token)
    case = call(staff, "GET", f"/api/v1/cases/{ref}", token=guardian_token)
    assert case["priority"] == "normal" and escalations(case) == []

    for status in ("acknowledged", "assessing", "feedback_given"):
        call(staff, "POST", f"/api/v1/cases/{ref}/transitions", {"to": status}, guardian_token)
    call(reporter, "POST", "/api/v1/reporter/messages", {"text": "Nothing has changed on the ward."}, reporter_token)

    case = call(staff, "GET", f"/api/v1/cases/{ref}", token=guardian_token)
    assert case["priority"] == "high"
    assert escalations(case) == [
        {"rule": RULE, "kind": "notify", "audience": "second_tier", "recipients": 1},  # demo.safeguarding
        {"rule": RULE, "kind": "raise_priority", "from": "normal", "to": "high"},
    ]
