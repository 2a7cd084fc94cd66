"""Signed webhooks, delivered to a real http.server receiver on loopback."""
from __future__ import annotations

import json
import threading
import urllib.error
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import whistle_webhook
from whistle.hooks import Hooks
from whistle.hooks.types import Notice
from whistle_webhook import make_channel, sign, verify

SECRET = "a-shared-secret-of-32-characters"
NOW = 1_790_000_000  # 2026-09-21T14:13:20Z
LINK = "https://speakup.example.org/login"
NOTICE = Notice(recipient_id=987654321, kind="eu.feedback-breach", link=LINK)


class ReceivingServer(ThreadingHTTPServer):
    """An HTTP server that keeps each request it receives and answers with `status`."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Receiver)
        self.received: list[tuple[str, dict[str, str], bytes]] = []
        self.status = 204


class Receiver(BaseHTTPRequestHandler):
    """Keeps each request; answers with the server's `status`."""

    server: ReceivingServer

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append((self.path, dict(self.headers), body))
        self.send_response(self.server.status)
        if self.server.status in (301, 302, 307):
            self.send_header("Location", "http://127.0.0.1:9/elsewhere")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):  # keep the test output quiet
        pass


@pytest.fixture
def receiver():
    server = ReceivingServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield server, f"http://127.0.0.1:{server.server_port}/hooks/whistle"
    server.shutdown()
    server.server_close()


def deliver(url: str) -> None:
    make_channel(SECRET, clock=lambda: NOW).deliver(NOTICE, url)


def test_delivers_a_signed_content_free_payload(receiver):
    server, url = receiver
    deliver(url)
    ((path, headers, body),) = server.received
    assert path == "/hooks/whistle"
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Whistle-Timestamp"] == str(NOW)
    assert verify(SECRET, headers["X-Whistle-Timestamp"], body, headers["X-Whistle-Signature"], now=NOW + 5)
    assert json.loads(body) == {"type": "attention-needed", "link": LINK, "language": None,
                                "sent_at": "2026-09-21T14:13:20Z"}
    assert NOTICE.kind.encode() not in body and str(NOTICE.recipient_id).encode() not in body


def test_the_guardians_language_is_named_beside_its_link(receiver):
    server, url = receiver
    welsh = Notice(recipient_id=NOTICE.recipient_id, kind=NOTICE.kind, language="cy",
                   link="https://speakup.example.org/cy/staff/login")
    make_channel(SECRET, clock=lambda: NOW).deliver(welsh, url)
    ((_path, _headers, body),) = server.received
    assert json.loads(body) == {"type": "attention-needed", "link": "https://speakup.example.org/cy/staff/login",
                                "language": "cy", "sent_at": "2026-09-21T14:13:20Z"}


def test_a_tampered_body_or_signature_is_rejected(receiver):
    server, url = receiver
    deliver(url)
    ((_, headers, body),) = server.received
    timestamp, signature = headers["X-Whistle-Timestamp"], headers["X-Whistle-Signature"]
    tampered = body.replace(b"speakup.example.org", b"phishing.example.net")
    assert not verify(SECRET, timestamp, tampered, signature, now=NOW)
    assert not verify("another-secret-of-32-characters!", timestamp, body, signature, now=NOW)
    assert not verify(SECRET, str(NOW + 1), body, signature, now=NOW)  # timestamp is signed too
    assert not verify(SECRET, timestamp, body, signature.upper(), now=NOW)
    assert not verify(SECRET, "not-a-number", body, signature, now=NOW)


def test_an_old_or_future_timestamp_is_rejected_even_with_a_good_signature(receiver):
    server, url = receiver
    deliver(url)
    ((_, headers, body),) = server.received
    timestamp, signature = headers["X-Whistle-Timestamp"], headers["X-Whistle-Signature"]
    assert verify(SECRET, timestamp, body, signature, now=NOW + 300)
    assert not verify(SECRET, timestamp, body, signature, now=NOW + 301)  # a replay
    assert not verify(SECRET, timestamp, body, signature, now=NOW - 301)  # from the future
    assert verify(SECRET, timestamp, body, signature, now=NOW + 3000, tolerance=3600)


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body():
    # A known answer, so a receiver in another language can check its implementation.
    assert sign("key", "1700000000", b'{"a":1}') == (
        "sha256=a438e398bfafc57e4396bb7fc2304422f0f768e965d073ca313cb52e22e6ad03")  # openssl dgst -sha256 -hmac key


@pytest.mark.parametrize("status", [500, 404, 302])
def test_a_failed_delivery_raises_so_the_outbox_retries(receiver, status):
    server, url = receiver
    server.status = status
    with pytest.raises(urllib.error.HTTPError):
        deliver(url)
    assert len(server.received) == 1  # a redirect is not followed


def test_only_http_urls_and_real_secrets():
    with pytest.raises(ValueError, match="http"):
        make_channel(SECRET).deliver(NOTICE, "file:///etc/passwd")
    with pytest.raises(ValueError, match="16 bytes"):
        make_channel("short")


@pytest.fixture(autouse=True)
def unconfigured():
    """The plugin keeps what whistle_configure gave it: start and end each test without it."""
    whistle_webhook.whistle_configure({})
    yield
    whistle_webhook.whistle_configure({})


def test_the_hook_builds_the_channel_from_config(receiver, tmp_path, monkeypatch):
    server, url = receiver
    hooks = Hooks.from_names(["webhook"])
    assert hooks.call("whistle_notification_channels") == []  # not configured: no channel
    secret_file = tmp_path / "secret"
    secret_file.write_text(SECRET + "\n")
    monkeypatch.setattr(whistle_webhook, "CONFIG", {"secret_file": str(secret_file), "timeout": 5})
    ((channel,),) = hooks.call("whistle_notification_channels")
    assert channel.name == "webhook"
    channel.deliver(NOTICE, url)
    ((_, headers, body),) = server.received
    assert verify(SECRET, headers["X-Whistle-Timestamp"], body, headers["X-Whistle-Signature"],
                  now=int(headers["X-Whistle-Timestamp"]))


def test_whistle_configure_reads_the_secret_file_from_the_ini(receiver, tmp_path):
    server, url = receiver
    secret_file = tmp_path / "secret"
    secret_file.write_text(SECRET + "\n")
    hooks = Hooks.from_names(["webhook"])
    hooks.call("whistle_configure", settings={"whistle_webhook.secret_file": str(secret_file),
                                              "whistle_webhook.timeout": "3", "whistle_smtp.host": "not ours"})
    ((channel,),) = hooks.call("whistle_notification_channels")
    assert channel.timeout == 3.0
    channel.deliver(NOTICE, url)
    ((_, headers, body),) = server.received
    assert verify(SECRET, headers["X-Whistle-Timestamp"], body, headers["X-Whistle-Signature"],
                  now=int(headers["X-Whistle-Timestamp"]))


@pytest.mark.parametrize(("settings", "named"), [
    ({"whistle_webhook.secret": "in-the-ini-secret"}, "whistle_webhook.secret is not read from the .ini"),
    ({"whistle_webhook.timeout": "5"}, "missing setting whistle_webhook.secret_file"),
    ({"whistle_webhook.secret_file": "/x", "whistle_webhook.timout": "5"}, "unknown setting whistle_webhook.timout"),
])
def test_a_bad_setting_is_logged_by_name_and_offers_no_channel(settings, named, caplog):
    hooks = Hooks.from_names(["webhook"])
    errors = []
    hooks.call("whistle_configure", on_error=lambda *args: errors.append(args), settings=settings)
    assert errors == [("webhook", "whistle_configure", "SettingsError")]
    assert named in caplog.text and "in-the-ini-secret" not in caplog.text
    assert hooks.call("whistle_notification_channels") == []


def test_a_short_secret_in_the_file_offers_no_channel(tmp_path, caplog):
    secret_file = tmp_path / "secret"
    secret_file.write_text("short")
    hooks = Hooks.from_names(["webhook"])
    hooks.call("whistle_configure", settings={"whistle_webhook.secret_file": str(secret_file)})
    assert hooks.call("whistle_notification_channels") == []
    assert "at least 16 bytes" in caplog.text and "short" not in caplog.text.replace("at least 16 bytes", "")


@pytest.mark.parametrize(("address", "problem"), [
    ("https://chat.example.org/hooks/T0", None),
    ("http://127.0.0.1:8080/hook", None),
    ("ftp://chat.example.org/hook", "A webhook address must be an http:// or https:// URL."),
    ("https:///no-host", "A webhook address must be an http:// or https:// URL."),
    ("chat.example.org/hook", "A webhook address must be an http:// or https:// URL."),
])
def test_the_channel_says_what_is_wrong_with_an_address(address, problem):
    assert make_channel(SECRET).address_problem(address) == problem
