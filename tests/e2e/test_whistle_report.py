"""whistle-report against the real server (waitress, `whistle demo`'s guardian and signed directory):
a report with answers, an identity and a file sent, read, replied to, a file added and downloaded,
all through a relay that records every byte the client sends -- and none of the reporter's words
in those bytes, nor in the server's memory before the guardian reads the case (server-assisted, the
one moment the server decrypts it). The routing answer does travel in the clear, and the relay sees it."""
from __future__ import annotations

import contextlib
import re
import secrets
import socket
import subprocess
import threading

import pytest

from tests.e2e.memory import process_holds
from tests.e2e.reporter_helpers import call, call_json, guardian_headers
from tests.e2e.server import BIN, ROOT, Server
from whistle import crypto

ROUTING_ANSWER = "Fraud or misuse of money"

class Relay:
    """A TCP relay on a free loopback port to the server, keeping every byte the client sends."""

    def __init__(self, port: int) -> None:
        self.target = port
        self.sent = bytearray()
        self.lock = threading.Lock()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target))
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, record: bool) -> None:
        try:
            while data := source.recv(65536):
                if record:
                    with self.lock:
                        self.sent += data
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def server(tmp_path):
    server = Server(tmp_path)
    server.start()
    # The shipped channels, with "What is it about?" as a routing question (its answer goes to triage).
    channels = (ROOT / "config" / "channels.toml").read_text().replace(
        'name = "concern_type"\n  label = "What is it about?"\n  type = "single_choice"\n',
        'name = "concern_type"\n  label = "What is it about?"\n  type = "single_choice"\n  routing = true\n', 1)
    assert "single_choice\"\n  routing = true\n" in channels
    (tmp_path / "channels.toml").write_text(channels)
    server.whistle("channels", "load", str(tmp_path / "channels.toml"))
    yield server
    server.stop()


def report(server: Server, state, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    """whistle-report as a reporter runs it, without a terminal (so it cannot ask: the fingerprint is given)."""
    fingerprint = crypto.fingerprint(server.org_key.public_key)
    result = subprocess.run([str(BIN / "whistle-report"), "--state", str(state), "--fingerprint", fingerprint, *args],
                            input=stdin, capture_output=True, text=True, timeout=300, start_new_session=True,
                            check=False)
    assert result.returncode == 0, result.stderr
    return result


def test_a_report_made_sent_read_answered_and_downloaded_through_whistle_report(server, tmp_path):
    markers = {name: f"{name.upper()}{secrets.token_hex(6)}" for name in
               ("text", "answer", "name", "filename", "filebody", "message", "second")}
    relay = Relay(server.port)
    url = f"http://127.0.0.1:{relay.port}"
    state = tmp_path / "state"
    first = tmp_path / f"{markers['filename']}.txt"
    first.write_bytes(markers["filebody"].encode() * 20000)  # three chunks and a final one
    second = tmp_path / "second.txt"
    second.write_text(f"{markers['second']} a second file")

    channels = report(server, state, "channels", url).stdout
    assert "demo.guardian" in channels and "--answer where=" in channels
    assert re.search(r"--answer-in-clear concern_type=.*SENT UNENCRYPTED", channels)

    sent = report(server, state, "send", url, "raise-a-concern", "--answer", "ongoing=yes",
                  "--answer", f"where={markers['answer']}", "--answer-in-clear", f"concern_type={ROUTING_ANSWER}",
                  "--identity-mode", "confidential",
                  "--name", markers["name"], "--file", str(first),
                  stdin=f"{markers['text']} the fire exit on ward 7 is locked")
    receipt = re.search(r"Your receipt:\s+(\S+)", sent.stdout).group(1)
    assert crypto.receipt_version(receipt) == 2 and sent.stdout.count(receipt) == 1
    assert "Who will read it: demo.guardian" in sent.stdout

    read = report(server, state, "read", url, stdin=receipt + "\n").stdout
    for key in ("text", "answer", "filename"):
        assert markers[key] in read, key
    report(server, state, "reply", url, stdin=f"{receipt}\n{markers['message']} and it happened again")
    report(server, state, "upload", url, str(second), stdin=receipt + "\n")
    read = report(server, state, "read", url, stdin=receipt + "\n").stdout
    assert markers["message"] in read and "second.txt" in read
    ids = dict(re.findall(r"^\s+(\d+)\s+(\S+)\s", read, flags=re.MULTILINE))
    ids = {name: number for number, name in ids.items()}
    out = tmp_path / "downloaded"
    report(server, state, "download", url, ids[f"{markers['filename']}.txt"], "--out", str(out), stdin=receipt + "\n")
    assert out.read_bytes() == first.read_bytes()
    assert [path.name for path in tmp_path.iterdir() if path.name.startswith(".downloaded")] == []

    # Nothing the reporter wrote went over the wire in the clear; the routing answer did, as it says.
    with relay.lock:
        wire = bytes(relay.sent)
    assert b"POST /api/v1/disclosures" in wire and ROUTING_ANSWER.encode() in wire
    assert {key: value for key, value in markers.items() if value.encode() in wire} == {}
    assert receipt.encode() not in wire and receipt.replace("-", "").encode() not in wire
    # Nor is any of it in the server's memory: it never had it.
    assert server.process is not None
    for key, value in markers.items():
        assert process_holds(server.process.pid, value) == [], key

    # The guardian reads it (server-assisted: the server decrypts while they read), and answers.
    staff = guardian_headers(server)
    status, listing = call_json(server.port, "GET", "/api/v1/cases", headers=staff, source="127.0.0.3")
    [ref] = [case["case"] for case in listing["cases"]]
    status, case = call_json(server.port, "GET", f"/api/v1/cases/{ref}", headers=staff, source="127.0.0.3")
    assert status == 200
    assert markers["text"] in case["text"] and case["answers"]["where"] == markers["answer"]
    assert case["identity"]["name"] == markers["name"]
    assert any(markers["message"] in message["text"] for message in case["messages"])
    files = {attachment["name"]: attachment["id"] for attachment in case["attachments"]}
    assert set(files) == {f"{markers['filename']}.txt", "second.txt"}
    status, _, body = call(server.port, "GET", f"/api/v1/cases/{ref}/attachments/{files['second.txt']}",
                           headers=staff, source="127.0.0.3")
    assert status == 200 and body == second.read_bytes()
    status, _ = call_json(server.port, "POST", f"/api/v1/cases/{ref}/messages", {"text": "Thank you, we are on it."},
                          headers=staff, source="127.0.0.3")
    assert status == 201
    read = report(server, state, "read", url, stdin=receipt + "\n").stdout
    assert "The people handling your report:\n      Thank you, we are on it." in read
    relay.close()


def test_a_reporter_says_who_they_are_later_and_only_the_guardians_can_read_it(server, tmp_path):
    name = f"NAME{secrets.token_hex(6)}"
    url = f"http://127.0.0.1:{server.port}"
    state = tmp_path / "state"
    sent = report(server, state, "send", url, "raise-a-concern", "--answer", "ongoing=yes",
                  stdin="The night rota leaves one nurse for forty beds.")
    receipt = re.search(r"Your receipt:\s+(\S+)", sent.stdout).group(1)
    staff = guardian_headers(server)
    status, listing = call_json(server.port, "GET", "/api/v1/cases", headers=staff, source="127.0.0.3")
    [ref] = [case["case"] for case in listing["cases"]]
    status, case = call_json(server.port, "GET", f"/api/v1/cases/{ref}", headers=staff, source="127.0.0.3")
    assert status == 200 and case.get("identity") is None  # the guardian has opened it: anonymous so far

    said = report(server, state, "identity", url, "--identity-mode", "confidential", "--name", name,
                  "--contact", "ward 7 office", stdin=receipt + "\n")
    assert "only the people handling your report can read it" in said.stderr + said.stdout
    status, case = call_json(server.port, "GET", f"/api/v1/cases/{ref}", headers=staff, source="127.0.0.3")
    assert case["identity"]["name"] == name and case["identity"]["contact"] == "ward 7 office"
    # Once said, it is not said again.
    fingerprint = crypto.fingerprint(server.org_key.public_key)
    again = subprocess.run([str(BIN / "whistle-report"), "--state", str(state), "--fingerprint", fingerprint,
                            "identity", url, "--identity-mode", "open", "--name", "Someone else"],
                           input=receipt + "\n", capture_output=True, text=True, timeout=300, check=False)
    assert again.returncode != 0 and "already said who you are" in again.stderr
