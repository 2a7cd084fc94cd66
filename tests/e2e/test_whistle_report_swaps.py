"""The review's swap attacks on whistle-report against the real server: a guardian's key swapped in
the database before `send` (and a new directory signed since) gets no grant; the reporter's grant
replaced with an attacker's case key, with the case's public keys and MAC to match, before `reply`
is refused on this machine, and nothing is sent to the attacker's key."""
from __future__ import annotations

import re
import secrets
import subprocess
from contextlib import closing

import pytest

from tests.e2e.reporter_helpers import call_json
from tests.e2e.server import BIN, ROOT, Server
from tests.e2e.swaps import (
    ATTACKER,
    count,
    database,
    replace_reporter_grant,
    sent_to,
    staff_headers,
    stored_to,
    swap_guardian_key,
)
from tests.e2e.test_whistle_report import Relay
from tests.e2e.test_workspace import enrol
from whistle import crypto

CHANNEL = "raise-a-concern"


@pytest.fixture
def server(tmp_path):
    server = Server(tmp_path)
    server.start()
    server.whistle("channels", "load", str(ROOT / "config" / "channels.toml"))
    server.alex = enrol(server, "alex", "--channel", CHANNEL)
    yield server
    server.stop()


def report(server: Server, state, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    fingerprint = crypto.fingerprint(server.org_key.public_key)
    return subprocess.run([str(BIN / "whistle-report"), "--state", str(state), "--fingerprint", fingerprint, *args],
                          input=stdin, capture_output=True, text=True, timeout=300, start_new_session=True, check=False)


def request_bodies(wire: bytes) -> list[bytes]:
    """The body of each HTTP request in what the client sent (Content-Length framed)."""
    bodies, at = [], 0
    while (end := wire.find(b"\r\n\r\n", at)) != -1:
        length = re.search(rb"(?im)^content-length:\s*(\d+)", wire[at:end])
        size = int(length.group(1)) if length else 0
        bodies.append(wire[end + 4:end + 4 + size])
        at = end + 4 + size
    return bodies


def only_case(server: Server) -> str:
    with closing(database(server)) as connection:
        [(ref,)] = connection.execute("SELECT ref FROM cases").fetchall()
    return ref



def test_a_guardian_key_swapped_before_send_gets_no_grant(server, tmp_path):
    text = f"TEXT{secrets.token_hex(6)}"
    genuine = swap_guardian_key(server, "alex", ATTACKER.public)
    enrol(server, "blair", "--channel", CHANNEL)  # a new directory is signed after the swap
    relay = Relay(server.port)
    sent = report(server, tmp_path / "state", "send", f"http://127.0.0.1:{relay.port}", CHANNEL,
                  "--answer", "ongoing=yes", stdin=text)
    relay.close()
    assert sent.returncode == 0, sent.stderr
    assert "alex" in sent.stdout, "alex is a recipient"
    with relay.lock:
        wire = bytes(relay.sent)
    assert b"POST /api/v1/disclosures" in wire
    assert sent_to(ATTACKER, request_bodies(wire)) == []
    ref = only_case(server)
    assert stored_to(server, ref, ATTACKER) == []
    # alex's grant is sealed to the key the directory lists, alex's own: with it back, alex reads the report.
    swap_guardian_key(server, "alex", genuine)
    status, case = call_json(server.port, "GET", f"/api/v1/cases/{ref}", headers=staff_headers(server, server.alex),
                             source="127.0.0.3")
    assert status == 200, case
    assert text in case["text"]


def test_a_replaced_reporter_grant_before_reply_is_refused_and_nothing_is_sent_to_the_attacker(server, tmp_path):
    state, message = tmp_path / "state", f"MESSAGE{secrets.token_hex(6)}"
    url = f"http://127.0.0.1:{server.port}"
    sent = report(server, state, "send", url, CHANNEL, "--answer", "ongoing=yes", stdin="The fire exit is locked.")
    assert sent.returncode == 0, sent.stderr
    receipt = re.search(r"Your receipt:\s+(\S+)", sent.stdout).group(1)
    ref = only_case(server)
    items = count(server, "case_items", ref)
    replace_reporter_grant(server, ref)

    relay = Relay(server.port)
    refused = report(server, state, "reply", f"http://127.0.0.1:{relay.port}", stdin=f"{receipt}\n{message}")
    relay.close()
    assert refused.returncode != 0
    assert "The keys of this case do not match the ones your receipt opened" in refused.stderr
    assert "Traceback" not in refused.stderr
    with relay.lock:
        wire = bytes(relay.sent)
    assert b"GET /api/v1/reporter/envelopes" in wire
    assert sent_to(ATTACKER, request_bodies(wire)) == []
    assert b"/api/v1/reporter/messages" not in wire and message.encode() not in wire
    assert count(server, "case_items", ref) == items
    assert stored_to(server, ref, ATTACKER) == []
