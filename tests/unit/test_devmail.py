"""The debugging mail server: on loopback only, every message it receives printed to the log,
started by the app when whistle.dev.mail_server asks for it, stopped at exit."""
from __future__ import annotations

import atexit
import logging
import smtplib
import socket
from email.message import EmailMessage

import pytest

import whistle
from tests.smtp import free_port
from whistle.devmail import DevMailServer, start_if_enabled


def send(port: int, body: str = "Something needs your attention.") -> None:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "whistle@example.org", "ann@example.org", "A subject line"
    message.set_content(body)
    with smtplib.SMTP("127.0.0.1", port, timeout=5) as client:
        client.send_message(message)


def listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_it_prints_every_message_it_receives_headers_and_body(caplog):
    port = free_port()
    with caplog.at_level(logging.INFO, logger="whistle.devmail"):
        server = DevMailServer("127.0.0.1", port).start()
        try:
            send(port, "First line of the body.\nSecond line.")
            send(port)
        finally:
            server.stop()
    assert not listening(port), "stopped"
    started, *printed = [record.getMessage() for record in caplog.records if record.name == "whistle.devmail"]
    assert started == f"debugging mail server on 127.0.0.1 port {port}: every message it receives is printed here"
    assert len(printed) == 2
    first = printed[0]
    assert first.startswith("message 1 received, from whistle@example.org to ann@example.org:\n")
    for line in ("Subject: A subject line", "To: ann@example.org", "First line of the body.\nSecond line."):
        assert line in first, line
    assert first.endswith("(end of message 1)")
    assert printed[1].startswith("message 2 received")


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.5", "example.org"])
def test_it_refuses_to_listen_anywhere_but_loopback(host):
    with pytest.raises(ValueError):
        DevMailServer(host, 8025)


class Registry:
    def __init__(self, settings) -> None:
        self.whistle_settings = settings


def test_the_app_starts_it_when_the_setting_asks_and_stops_it_at_exit(raw_settings, settings, monkeypatch):
    assert start_if_enabled(Registry(settings)) is None, "off by default"
    at_exit = []
    monkeypatch.setattr(atexit, "register", at_exit.append)
    port = free_port()
    app = whistle.main({}, **dict(raw_settings, **{"whistle.dev.mail_server": f"127.0.0.1:{port}"}))
    try:
        assert isinstance(app.registry.dev_mail_server, DevMailServer) and listening(port)
        assert at_exit == [app.registry.dev_mail_server.stop]
    finally:
        for stop in at_exit:
            stop()
        app.registry["db_engine"].dispose()
    assert not listening(port)
