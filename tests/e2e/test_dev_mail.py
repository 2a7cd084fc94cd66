"""`make run` shows a notice arriving: development.ini's smtp plugin sends to the debugging mail
server inside the running app, which prints the email to the server's log — and the email says
nothing about the report."""
from __future__ import annotations

import json
import secrets
import time

from tests.e2e.server import Browser


def test_a_new_report_is_printed_as_an_email_by_the_debugging_mail_server(running_server):
    server = running_server
    log = server.log.read_text()
    assert f"debugging mail server on 127.0.0.1 port {server.mail_port}" in log
    for plugin_trouble in ("not configured", "no email channel", "no webhook channel", "Traceback"):
        assert plugin_trouble not in log, plugin_trouble
    server.whistle("guardian", "notify", "demo.guardian", "email:demo.guardian@localhost.localdomain")

    marker = f"MARKER{secrets.token_hex(8)}"
    reporter = Browser(server.port, source="127.0.0.2")
    sent = reporter.request("POST", "/api/v1/disclosures", json.dumps({
        "channel": "raise-a-concern", "text": f"{marker} the fire exit is chained", "answers": {"ongoing": "yes"},
    }).encode(), {"Content-Type": "application/json"})
    assert sent.status == 201, sent.text
    answer = json.loads(sent.body)

    # The tick delivers the notice; the app's own embedded tick may hold the lease for a moment.
    deadline = time.monotonic() + 60
    while "message 1 received" not in server.log.read_text() and time.monotonic() < deadline:
        server.whistle("tick")
        time.sleep(0.5)
    log = server.log.read_text()
    printed = log[log.index("message 1 received"):log.index("(end of message 1)")]
    assert "to demo.guardian@localhost.localdomain" in printed
    assert "Subject: Something needs your attention" in printed
    assert "http://127.0.0.1:6543/staff/login" in printed
    for secret in (marker, answer["case"], answer["receipt"], "raise-a-concern", "Raise a concern", "fire exit"):
        assert secret not in log, secret
