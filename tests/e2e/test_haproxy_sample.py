"""config/haproxy.cfg.sample run for real: HAProxy from the system's packages on loopback, in front of two
stand-in nodes that echo what reaches them. It sets X-Forwarded-For itself (what a client sends is
replaced), removes the other forwarding headers, sends plain HTTP to HTTPS, drops requests for another
name, refuses a body over the limit, and takes a node whose /readyz says 503 out of the rotation
(and back when it is ready again). Only the sample's certificate, listening addresses, nodes' ports
and check interval are changed. Stand-ins rather than whistle: what is checked is the proxy's part, in seconds;
/readyz itself is tested in tests/functional/test_operations.py.
"""
from __future__ import annotations

import http.client
import json
import socket
import ssl
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.unit.test_config_samples import CONFIG, checker, run

HOST = "whistle.example.org"


class Node(ThreadingHTTPServer):
    """A stand-in app node: /readyz answers 200 or 503 as `ready` says; anything else, the node's name
    and the request's headers as JSON."""

    daemon_threads = True

    def __init__(self, name: str) -> None:
        self.name, self.ready, self.readyz_asked = name, True, 0
        super().__init__(("127.0.0.1", 0), NodeHandler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def port(self) -> int:
        return self.server_address[1]


class NodeHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Node

    def do_GET(self) -> None:
        if self.path == "/readyz":
            self.server.readyz_asked += 1
            status, body = (200, b'{"status": "ready"}') if self.server.ready else (503, b'{"status": "not ready"}')
        else:
            status, body = 200, json.dumps({"node": self.server.name, "headers": dict(self.headers)}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET

    def log_message(self, *args) -> None:  # nothing to stderr
        pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def proxy(tmp_path):
    """HAProxy running the sample: (https port, http port, node1, node2)."""
    haproxy = checker("haproxy", "haproxy")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    made = run(checker("openssl", "openssl"), "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
               "-subj", f"/CN={HOST}", "-keyout", key, "-out", cert)
    assert made.returncode == 0, made.stderr
    (tmp_path / "whistle.pem").write_text(cert.read_text() + key.read_text())
    node1, node2 = Node("node1"), Node("node2")
    https, plain = free_port(), free_port()
    text = (CONFIG / "haproxy.cfg.sample").read_text(encoding="utf-8")
    for old, new in {"bind :443 ssl crt /etc/ssl/whistle/whistle.pem": f"bind 127.0.0.1:{https} ssl crt "
                                                                       f"{tmp_path / 'whistle.pem'}",
                     "bind :80\n": f"bind 127.0.0.1:{plain}\n",
                     "server node1 127.0.0.1:6543": f"server node1 127.0.0.1:{node1.port}",
                     "server node2 127.0.0.1:6544": f"server node2 127.0.0.1:{node2.port}",
                     # Checks ten times as often as the sample's, so a node goes out and back in a second.
                     "default-server inter 2s": "default-server inter 200ms"}.items():
        assert old in text, f"the sample no longer has {old!r}: update this test"
        text = text.replace(old, new)
    config = tmp_path / "haproxy.cfg"
    config.write_text(text)
    process = subprocess.Popen([haproxy, "-db", "-f", str(config)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: node1.readyz_asked and node2.readyz_asked, "HAProxy to check both nodes")
        yield https, plain, node1, node2
    finally:
        process.terminate()
        output = process.communicate(timeout=10)[0].decode()
        node1.shutdown()
        node2.shutdown()
    assert "127.0.0.1" not in output.replace(f"127.0.0.1:{node1.port}", "").replace(f"127.0.0.1:{node2.port}", ""), \
        "HAProxy wrote a client address"


def wait_for(condition, what: str, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {seconds} s for {what}")
        time.sleep(0.1)


def request(port: int, path: str = "/", *, method: str = "GET", headers: dict | None = None, tls: bool = True,
            body: bytes | None = None):
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    connection = (http.client.HTTPSConnection("127.0.0.1", port, timeout=10, context=context) if tls
                  else http.client.HTTPConnection("127.0.0.1", port, timeout=10))
    try:
        connection.request(method, path, body=body, headers={"Host": HOST, **(headers or {})})
        response = connection.getresponse()
        return response.status, dict(response.headers), response.read()
    finally:
        connection.close()


def test_the_sample_forwards_what_whistle_trusts_and_nothing_a_client_made_up(proxy):
    https, plain, _, _ = proxy
    forged = {"X-Forwarded-For": "203.0.113.9", "X-Real-IP": "203.0.113.9", "Forwarded": "for=203.0.113.9",
              "X-Forwarded-Host": "evil.example", "X-Forwarded-Port": "1", "X-Forwarded-Proto": "http"}
    seen = set()
    for _ in range(6):
        status, _, body = request(https, "/report/staff", headers=forged)
        assert status == 200
        answer = json.loads(body)
        seen.add(answer["node"])
        headers = {name.lower(): value for name, value in answer["headers"].items()}
        assert headers["x-forwarded-for"] == "127.0.0.1"  # the client's address as HAProxy saw it, alone
        assert headers["x-forwarded-proto"] == "https"
        assert not {"x-real-ip", "forwarded", "x-forwarded-host", "x-forwarded-port"} & set(headers)
    assert seen == {"node1", "node2"}  # both nodes serve: nothing ties a client to one

    status, headers, _ = request(plain, "/report/staff?x=1", tls=False)
    assert status == 301 and headers["location"] == f"https://{HOST}/report/staff?x=1"
    with pytest.raises((ConnectionError, http.client.RemoteDisconnected, ssl.SSLError, OSError)):
        request(https, headers={"Host": "another.example"})
    status, _, _ = request(https, "/api/v1/disclosures", method="POST", headers={"Content-Length": "1074790401"},
                           body=b"")
    assert status == 413


def test_a_node_that_is_not_ready_gets_no_requests_until_it_is(proxy):
    https, _, _, node2 = proxy
    node2.ready = False
    asked = node2.readyz_asked
    wait_for(lambda: node2.readyz_asked >= asked + 2, "two failed checks of node2")
    time.sleep(0.2)
    assert {json.loads(request(https)[2])["node"] for _ in range(8)} == {"node1"}
    node2.ready = True
    asked = node2.readyz_asked
    wait_for(lambda: node2.readyz_asked >= asked + 2, "two good checks of node2")
    time.sleep(0.2)
    assert "node2" in {json.loads(request(https)[2])["node"] for _ in range(8)}
