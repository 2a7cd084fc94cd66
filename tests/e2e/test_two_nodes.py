"""Two app nodes behind nginx on one PostgreSQL database: reporters (a report with a file, the
mailbox with the receipt) and a guardian (sign in, inbox, read, reply, download) through the proxy
and through each node directly; a file sent to one node is read through the other; one node is
SIGKILLed in the middle of the traffic and started again, and afterwards every acknowledged report
opens with all its content. A client's per-client budget holds across the nodes, and a guardian
enrolled meanwhile is honoured by a node that was running all along.

PostgreSQL only: several nodes share one database, and SQLite, a file on one machine, is not a
database several nodes share (docs/operations.md, "Running several nodes"). CI runs it in its
PostgreSQL pass (WHISTLE_TEST_DATABASE_URL set); nginx comes from the system (/usr/sbin/nginx)."""
from __future__ import annotations

import getpass
import hashlib
import http.client
import json
import os
import re
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyotp
import pytest

from tests.conftest import TEST_DATABASE_URL
from tests.e2e.reporter_helpers import call, call_json, multipart_body
from tests.e2e.server import Browser, Server, free_port

pytestmark = pytest.mark.skipif(not TEST_DATABASE_URL, reason="several nodes share a PostgreSQL database: "
                                                              "runs in CI's PostgreSQL pass")

NGINX = Path("/usr/sbin/nginx")
CHANNEL = "raise-a-concern"
RECEIPT = re.compile(r"[0-9A-Z]{4}(?:-[0-9A-Z]{4}){4}")
REPORTS_PER_CLIENT = 4
# Where the nodes keep files: in the database they share, as several nodes should (the storage
# directory of the configuration stays empty, checked at the end).
BLOB_STORE = {"whistle.attachments.blob_store": "database"}
# Waitress on each node believes the proxy (and only it) about the client's address, as
# production.ini has it, so the per-client budgets see the clients behind nginx.
BEHIND_THE_PROXY = {"trusted_proxy": "127.0.0.1", "trusted_proxy_count": "1",
                    "trusted_proxy_headers": "x-forwarded-proto x-forwarded-for"}


class Nginx:
    """nginx from the system as an unprivileged process: everything it writes in `directory`, in
    front of `ports`, configured like the app part of config/nginx.conf.sample (no TLS here)."""

    def __init__(self, directory: Path, ports: list[int]) -> None:
        self.directory, self.port = directory, free_port()
        directory.mkdir()
        upstreams = "".join(f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=2s;\n" for port in ports)
        temp = {name: directory / name for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")}
        self.conf = directory / "nginx.conf"
        # As root (a CI container), the workers would drop to "nobody", who cannot enter the test's
        # temporary directory: they stay the user running the test, as they do for anyone else.
        user = f"user {getpass.getuser()};\n" if os.geteuid() == 0 else ""
        self.conf.write_text(f"""daemon off;
{user}worker_processes 1;
pid {directory}/nginx.pid;
error_log {directory}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {temp['client_body']};
    proxy_temp_path {temp['proxy']};
    fastcgi_temp_path {temp['fastcgi']};
    uwsgi_temp_path {temp['uwsgi']};
    scgi_temp_path {temp['scgi']};
    upstream whistle {{
{upstreams}    }}
    server {{
        listen 127.0.0.1:{self.port};
        server_tokens off;
        client_max_body_size 1025m;
        large_client_header_buffers 4 8k;
        location / {{
            proxy_pass http://whistle;
            proxy_http_version 1.1;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Real-IP "";
            proxy_set_header Forwarded "";
            proxy_set_header X-Forwarded-Host "";
            proxy_set_header X-Forwarded-Port "";
            proxy_request_buffering off;
            proxy_max_temp_file_size 0;
            proxy_connect_timeout 5s;
            proxy_read_timeout 120s;
            proxy_send_timeout 120s;
            # A node that refuses or drops the connection: the request goes to the other, unless
            # it was a POST already sent (nginx never repeats one, which could file a report twice).
            proxy_next_upstream error timeout http_502 http_503;
            proxy_next_upstream_tries 2;
        }}
    }}
}}
""")
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        subprocess.run([str(NGINX), "-t", "-q", "-c", str(self.conf), "-p", str(self.directory), "-e",
                        str(self.directory / "error.log")], check=True, capture_output=True, timeout=30)
        self.process = subprocess.Popen([str(NGINX), "-c", str(self.conf), "-p", str(self.directory), "-e",
                                         str(self.directory / "error.log")], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("nginx did not start: " + (self.directory / "error.log").read_text())

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)


@dataclass
class Report:
    receipt: str
    text: str
    files: dict[str, bytes] = field(default_factory=dict)


@dataclass
class Clients:
    """The traffic's record: what was acknowledged, and what a client had to try again."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    reports: list[Report] = field(default_factory=list)
    retried: int = 0
    replies: int = 0
    downloads: int = 0
    # A new client address for each report (127.0.2.1, 127.0.2.2, ...), so no per-client budget is reached.
    addresses: Iterator[str] = field(default_factory=lambda: (f"127.0.{2 + n // 250}.{1 + n % 250}"
                                                              for n in range(60000)))

    def address(self) -> str:
        with self.lock:
            return next(self.addresses)


def _content(label: str) -> tuple[str, str, bytes]:
    marker = os.urandom(6).hex()
    return (f"{label} {marker}: the night rota is signed for checks nobody did.", f"{label}-{marker}.bin",
            os.urandom(int.from_bytes(os.urandom(2), "big") % 65536 + 1))


def report_by_form(port: int, source: str, label: str) -> Report:
    browser = Browser(port, source=source)
    page = browser.get(f"/report/{CHANNEL}")
    assert page.status == 200, page.status
    text, name, body = _content(label)
    form, content_type = multipart_body(list(page.form_fields().items()) + [("text", text), ("answers.ongoing", "yes")],
                                        [("attachments", name, body)])
    sent = browser.request("POST", f"/report/{CHANNEL}", form, {"Content-Type": content_type})
    assert sent.status == 303, (sent.status, sent.text[:300])
    receipt = RECEIPT.search(browser.get(f"/report/{CHANNEL}/receipt").text)
    assert receipt, "the receipt page shows the receipt"
    return Report(receipt.group(0), text, {name: body})


def report_by_api(port: int, source: str, label: str, upload_port: int | None = None) -> Report:
    """A report, then its file sent from the mailbox (to `upload_port`, if given: another node)."""
    text, name, body = _content(label)
    status, sent = call_json(port, "POST", "/api/v1/disclosures",
                             {"channel": CHANNEL, "text": text, "answers": {"ongoing": "no"}}, source=source)
    assert status == 201, sent
    upload_port = upload_port or port
    status, session = call_json(upload_port, "POST", "/api/v1/reporter/session", {"receipt": sent["receipt"]},
                                source=source)
    assert status == 200, session
    status, _, raw = call(upload_port, "POST", "/api/v1/reporter/attachments", body,
                          {"Authorization": f"Bearer {session['token']}", "Content-Type": "application/octet-stream",
                           "X-Filename": name}, source=source)
    assert status == 201, raw
    return Report(sent["receipt"], text, {name: body})


def read_back(port: int, report: Report) -> str:
    """The reporter's view: the receipt opens the case with the text and every file, bytes equal.
    Returns the case's reference."""
    status, session = call_json(port, "POST", "/api/v1/reporter/session", {"receipt": report.receipt})
    assert status == 200, session
    reporter = {"Authorization": f"Bearer {session['token']}"}
    status, case = call_json(port, "GET", "/api/v1/reporter/case", headers=reporter)
    assert status == 200 and case["text"] == report.text, case
    listed = {attachment.get("name"): attachment["id"] for attachment in case["attachments"]}
    for name, body in report.files.items():
        status, _, downloaded = call(port, "GET", f"/api/v1/reporter/attachments/{listed[name]}", headers=reporter)
        assert status == 200 and hashlib.sha256(downloaded).digest() == hashlib.sha256(body).digest(), name
    return case["case"]


class Guardian:
    """A guardian through the API (the demo guardian unless `credentials` say another): one
    sign-in, then the session on any node."""

    def __init__(self, server: Server, port: int, credentials: dict[str, str] | None = None) -> None:
        credentials = credentials or server.demo_credentials()
        for attempt in range(3):
            status, body = call_json(port, "POST", "/api/v1/staff/session", {
                "username": credentials["username"], "password": credentials["password"],
                "otp": pyotp.TOTP(credentials["TOTP secret"]).now()}, source="127.0.1.200")
            if status != 401 or attempt == 2:
                break
            time.sleep(30 - time.time() % 30 + 1)  # a code is good once: the next step's
        assert status == 200, body
        self.headers = {"Authorization": f"Bearer {body['token']}"}

    def read(self, port: int, ref: str, report: Report) -> None:
        """Find the case in the inbox, read it, check its text and files (downloaded, bytes
        equal), and reply."""
        status, inbox = call_json(port, "GET", "/api/v1/cases", headers=self.headers)
        assert status == 200 and inbox["total"] >= 1, inbox
        status, case = call_json(port, "GET", f"/api/v1/cases/{ref}", headers=self.headers)
        assert status == 200 and case["text"] == report.text, case
        listed = {attachment["name"]: attachment["id"] for attachment in case["attachments"]}
        for name, body in report.files.items():
            status, _, downloaded = call(port, "GET", f"/api/v1/cases/{ref}/attachments/{listed[name]}",
                                         headers=self.headers)
            assert status == 200 and downloaded == body, (status, name)
        status, replied = call_json(port, "POST", f"/api/v1/cases/{ref}/messages",
                                    {"text": "Thank you: we are looking into it."}, headers=self.headers)
        assert status == 201, replied


def as_a_client_would(clients: Clients, work, *args):
    """Do `work`; a request that fails for want of a node (refused, cut off, or the proxy's 502
    while no node answers) is tried again from the start, as a reporter would press Send again."""
    for _ in range(30):
        try:
            return work(*args)
        except (OSError, http.client.HTTPException, json.JSONDecodeError, AssertionError) as error:
            # nginx's own error page (502 while no node answered) is HTML where whistle answers JSON.
            if isinstance(error, AssertionError) and not re.search(r"\b(502|503|504)\b", str(error)):
                raise
            with clients.lock:
                clients.retried += 1
            time.sleep(0.2)
    raise AssertionError(f"{work.__name__} kept failing")


def _wait_for(condition, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the traffic stalled"
        time.sleep(0.05)


@pytest.fixture
def deployment(engine_under_test, tmp_path):
    """Node A (which migrates the database and enrols the guardian) and node B on the same
    configuration, and nginx in front of both."""
    settings = {**engine_under_test("nodes"), **BLOB_STORE}
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = Server(tmp_path / "a", settings=settings, server_settings=BEHIND_THE_PROXY,
                   limits={"whistle.intake.reports_per_client": REPORTS_PER_CLIENT})
    second = Server(tmp_path / "b", node_of=first)
    first.start()
    second.start(prepare=False)
    proxy = Nginx(tmp_path / "nginx", [first.port, second.port])
    try:
        proxy.start()
        yield first, second, proxy
    finally:
        proxy.stop()
        second.stop()
        first.stop()


def test_two_nodes_behind_nginx_serve_reporters_and_guardians_across_a_node_killed_and_restarted(deployment, figures):
    first, second, proxy = deployment
    clients = Clients()

    # Each node directly: a file sent to one is read through the other, by the reporter and the guardian.
    on_first = report_by_form(first.port, clients.address(), "to A")
    on_second = report_by_api(second.port, clients.address(), "to B")
    split = report_by_api(first.port, clients.address(), "report to A, file to B", upload_port=second.port)
    guardian = Guardian(first, proxy.port)
    for report, reader in ((on_first, second), (on_second, first), (split, first)):
        guardian.read(reader.port, read_back(reader.port, report), report)

    # Through nginx, while node A is killed and started again.
    stop = threading.Event()
    errors: list[str] = []

    def reporter(number: int) -> None:
        sent = 0
        while not stop.is_set():
            sent += 1
            work = report_by_form if sent % 2 else report_by_api
            try:
                report = as_a_client_would(clients, work, proxy.port, clients.address(), f"reporter {number}.{sent}")
            except Exception as error:  # noqa: BLE001 - reported by the test below
                errors.append(f"{type(error).__name__}: {error}"[:400])
                return
            with clients.lock:
                clients.reports.append(report)

    reporters = [threading.Thread(target=reporter, args=(n,), daemon=True) for n in range(3)]
    started = time.monotonic()
    for thread in reporters:
        thread.start()
    _wait_for(lambda: len(clients.reports) >= 4 or errors)
    first.kill()
    killed_at = len(clients.reports)
    _wait_for(lambda: len(clients.reports) >= killed_at + 2 or errors)  # node B alone serves meanwhile
    first.start(prepare=False)
    restarted_at = len(clients.reports)
    _wait_for(lambda: len(clients.reports) >= restarted_at + 4 or errors)
    stop.set()
    for thread in reporters:
        thread.join(timeout=120)
    assert errors == []
    through_proxy = list(clients.reports)
    assert len(through_proxy) > restarted_at > killed_at > 0, "reports acknowledged before, during and after the kill"

    # Every acknowledged report opens with all its content, for the reporter and the guardian, on
    # either node and through the proxy.
    refs = {}
    for index, report in enumerate([on_first, on_second, split, *through_proxy]):
        port = (first.port, second.port, proxy.port)[index % 3]
        refs[report.receipt] = read_back(port, report)
    for report in through_proxy[:: max(1, len(through_proxy) // 6)]:
        guardian.read(proxy.port, refs[report.receipt], report)

    # One client's budget counts on both nodes: REPORTS_PER_CLIENT reports, spread over them, and
    # the next is refused by either.
    source = "127.0.9.9"
    for number in range(REPORTS_PER_CLIENT):
        status, body = call_json((first, second)[number % 2].port, "POST", "/api/v1/disclosures",
                                 {"channel": CHANNEL, "text": f"budget {number}", "answers": {"ongoing": "no"}},
                                 source=source)
        assert status == 201, body
    for node in (first, second):
        status, body = call_json(node.port, "POST", "/api/v1/disclosures",
                                 {"channel": CHANNEL, "text": "one too many", "answers": {"ongoing": "no"}},
                                 source=source)
        assert status == 429, body

    # A guardian enrolled by another process (the command, on node B's configuration) is, with the
    # key directory signed for them, honoured by node A at once: a report sent there is sealed to
    # them, and they read it through node A.
    password = "a long passphrase for the second guardian"
    enrolled = second.whistle("guardian", "add", "second.guardian", "--channel", CHANNEL, "--password-stdin",
                              stdin=password + "\n")
    totp = re.search(r"TOTP secret:\s+(\S+)", enrolled).group(1)
    # (A report that named them would be kept from them: the conflicts plugin reads the text.)
    late = report_by_api(first.port, clients.address(), "late report")
    newcomer = Guardian(first, first.port, {"username": "second.guardian", "password": password, "TOTP secret": totp})
    newcomer.read(first.port, read_back(first.port, late), late)
    blobs_on_disk = first.home / "var" / "blobs"
    assert not blobs_on_disk.exists() or not any(path.is_file() for path in blobs_on_disk.rglob("*")), \
        "no file is kept on a node: every blob went to the database"

    figures(f"two nodes behind nginx: {len(through_proxy) + 3} reports acknowledged and read back "
          f"({len(through_proxy)} through the proxy: {killed_at} before node A was killed, {restarted_at - killed_at} "
          f"while node B served alone), requests tried again by clients {clients.retried}, in {time.monotonic() - started:.0f} s")
