"""The SMTP channel against a real SMTP server (aiosmtpd) on loopback, plain and STARTTLS+AUTH."""
from __future__ import annotations

import email
import logging
import smtplib
import socket
import ssl
import subprocess
from email import policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword

import whistle_smtp
from whistle.hooks import Hooks
from whistle.hooks.types import Notice
from whistle_smtp import SUBJECT, make_channel

# aiosmtpd logs from its own thread, sometimes after the test that caused it has ended and pytest
# has closed that test's log capture ("--- Logging error ---" in the output): keep it to itself.
logging.getLogger("mail.log").addHandler(logging.NullHandler())
logging.getLogger("mail.log").propagate = False

LINK = "https://speakup.example.org/login"
# What the core knows when it notifies, none of which may reach the email.
CASE_REF, CHANNEL, LABEL, TEXT = "QWERT-ASDFG", "young-peoples-voice", "urgent-risk", "my manager hit me"
NOTICE = Notice(recipient_id=987654321, kind="eu.ack-breach", link=LINK)


class Inbox:
    """An aiosmtpd handler that keeps what it receives."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def plain_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1, made with the system's openssl."""
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )
    return cert, key


@pytest.fixture
def tls_server(certificate):
    cert, key = certificate
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        assert isinstance(auth_data, LoginPassword)
        logins.append((mechanism, auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.login == b"mailer" and auth_data.password == b"s3cret", handled=False)

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), tls_context=server_context,
                            require_starttls=True, authenticator=authenticator, auth_required=True,
                            auth_require_tls=True)
    controller.start()
    yield controller, inbox, logins, ssl.create_default_context(cafile=str(cert))
    controller.stop()


def assert_content_free(raw: bytes) -> email.message.EmailMessage:
    message = email.message_from_bytes(raw, policy=policy.default)
    assert message["Subject"] == SUBJECT == "Something needs your attention"
    assert message["From"] == "whistle@example.org"
    assert message["To"] == "guardian@example.org"
    assert message["Message-ID"].endswith("@example.org>")
    assert set(message.keys()) == {"Subject", "From", "To", "Date", "Message-ID", "Content-Type",
                                   "Content-Transfer-Encoding", "MIME-Version"}
    assert message["Content-Transfer-Encoding"] == "7bit"
    body = message.get_content().replace("\r\n", "\n")
    assert body == ("Something in the speak-up service needs your attention.\n"
                    f"Please log in to see what it is:\n\n{LINK}\n")
    text = raw.decode()
    for secret in (CASE_REF, CHANNEL, LABEL, TEXT, NOTICE.kind, str(NOTICE.recipient_id)):
        assert secret not in text
    return message


def test_delivers_a_content_free_email(plain_server):
    controller, inbox = plain_server
    channel = make_channel("127.0.0.1", controller.port, "whistle@example.org", starttls=False)
    channel.deliver(NOTICE, "guardian@example.org")
    (envelope,) = inbox.envelopes
    assert envelope.mail_from == "whistle@example.org" and envelope.rcpt_tos == ["guardian@example.org"]
    assert_content_free(envelope.original_content)


def test_a_bilingual_notice_says_the_same_words_in_welsh_then_english_and_still_nothing_else(plain_server):
    controller, inbox = plain_server
    channel = make_channel("127.0.0.1", controller.port, "whistle@example.org", starttls=False,
                           languages=("cy", "en"))
    channel.deliver(NOTICE, "guardian@example.org")
    (envelope,) = inbox.envelopes
    message = email.message_from_bytes(envelope.original_content, policy=policy.default)
    assert message["Subject"] == "Mae angen eich sylw ar rywbeth / Something needs your attention"
    body = message.get_content().replace("\r\n", "\n")
    assert body == ("Mae angen eich sylw ar rywbeth yn y gwasanaeth codi llais.\n"
                    f"Mewngofnodwch i weld beth ydyw:\n\n{LINK}\n\n"
                    "Something in the speak-up service needs your attention.\n"
                    f"Please log in to see what it is:\n\n{LINK}\n")
    decoded = str(message)  # the headers and body as sent, decoded: still no case content
    for secret in (CASE_REF, CHANNEL, LABEL, TEXT, NOTICE.kind, str(NOTICE.recipient_id)):
        assert secret not in decoded and secret not in body


def test_an_unknown_notice_language_is_refused_by_name():
    with pytest.raises(whistle_smtp.SettingsError, match=r"whistle_smtp\.languages must name shipped languages"):
        whistle_smtp.config_from_settings({"whistle_smtp.host": "h", "whistle_smtp.from_address": "a@b.c",
                                           "whistle_smtp.languages": "cy fr"})
    assert whistle_smtp.config_from_settings({"whistle_smtp.host": "h", "whistle_smtp.from_address": "a@b.c",
                                              "whistle_smtp.languages": "ar en"})["languages"] == ("ar", "en")


def test_starttls_and_auth(tls_server):
    controller, inbox, logins, client_context = tls_server
    channel = make_channel("127.0.0.1", controller.port, "whistle@example.org", username="mailer",
                           password="s3cret", ssl_context=client_context)
    channel.deliver(NOTICE, "guardian@example.org")
    assert [login for _, login, _ in logins] == [b"mailer"]
    (envelope,) = inbox.envelopes
    assert_content_free(envelope.original_content)


def test_a_wrong_password_raises_so_the_outbox_retries(tls_server):
    controller, inbox, _, client_context = tls_server
    channel = make_channel("127.0.0.1", controller.port, "whistle@example.org", username="mailer",
                           password="wrong", ssl_context=client_context)
    with pytest.raises(smtplib.SMTPAuthenticationError):
        channel.deliver(NOTICE, "guardian@example.org")
    assert inbox.envelopes == []


def test_the_server_certificate_is_verified(tls_server):
    controller, inbox, _, _ = tls_server
    # The system's CAs do not trust the test's self-signed certificate: STARTTLS must fail.
    channel = make_channel("127.0.0.1", controller.port, "whistle@example.org", username="mailer", password="s3cret")
    with pytest.raises(ssl.SSLCertVerificationError):
        channel.deliver(NOTICE, "guardian@example.org")
    assert inbox.envelopes == []


def test_auth_without_starttls_is_refused():
    with pytest.raises(ValueError, match="STARTTLS"):
        make_channel("127.0.0.1", 25, "whistle@example.org", username="mailer", password="x", starttls=False)


@pytest.fixture(autouse=True)
def unconfigured():
    """The plugin keeps what whistle_configure gave it: start and end each test without it."""
    whistle_smtp.whistle_configure({})
    yield
    whistle_smtp.whistle_configure({})


def test_the_hook_builds_the_channel_from_config(plain_server, tmp_path, monkeypatch):
    controller, inbox = plain_server
    hooks = Hooks.from_names(["smtp"])
    assert hooks.call("whistle_notification_channels") == []  # not configured: no channel
    password_file = tmp_path / "password"
    password_file.write_text("from-a-file\n")
    monkeypatch.setattr(whistle_smtp, "CONFIG", {"host": "127.0.0.1", "port": controller.port,
                                                 "from_address": "whistle@example.org", "starttls": False})
    ((channel,),) = hooks.call("whistle_notification_channels")
    assert channel.name == "email"
    channel.deliver(NOTICE, "guardian@example.org")
    assert len(inbox.envelopes) == 1
    with_file = whistle_smtp.channel_from_config({"host": "h", "port": "587", "from_address": "a@b.c",
                                                  "username": "u", "password_file": str(password_file)})
    assert with_file.password == "from-a-file" and with_file.port == 587 and with_file.starttls


def test_whistle_configure_reads_the_ini_keys_with_the_password_from_a_file(tls_server, tmp_path):
    controller, inbox, logins, client_context = tls_server
    password_file = tmp_path / "smtp_password"
    password_file.write_text("s3cret\n")
    hooks = Hooks.from_names(["smtp"])
    hooks.call("whistle_configure", settings={
        "whistle_smtp.host": "127.0.0.1", "whistle_smtp.port": str(controller.port),
        "whistle_smtp.from_address": "whistle@example.org", "whistle_smtp.username": "mailer",
        "whistle_smtp.password_file": str(password_file), "whistle_smtp.starttls": "yes",
        "whistle_smtp.timeout": "5", "whistle_webhook.secret_file": "/not/ours", "here": "/etc/whistle"})
    ((channel,),) = hooks.call("whistle_notification_channels")
    assert (channel.host, channel.port, channel.username, channel.password, channel.starttls, channel.timeout) == (
        "127.0.0.1", controller.port, "mailer", "s3cret", True, 5.0)
    # The test's own CA, as an organisation with an internal CA would pass in its own hook.
    channel = make_channel(channel.host, channel.port, channel.from_address, username=channel.username,
                           password=channel.password, ssl_context=client_context)
    channel.deliver(NOTICE, "guardian@example.org")
    assert [login for _, login, _ in logins] == [b"mailer"] and len(inbox.envelopes) == 1
    assert whistle_smtp.config_from_settings({"whistle_smtp.host": "h", "whistle_smtp.from_address": "a@b.c"}) == {
        "host": "h", "from_address": "a@b.c", "port": 587, "starttls": True}, "the defaults"


@pytest.mark.parametrize(("settings", "named"), [
    ({"whistle_smtp.password": "in-the-ini"}, "whistle_smtp.password is not read from the .ini"),
    ({"whistle_smtp.pasword_file": "/x"}, "unknown setting whistle_smtp.pasword_file"),
    ({"whistle_smtp.from_address": ""}, "missing setting whistle_smtp.from_address"),
    ({"whistle_smtp.port": "smtp-port-secret"}, "whistle_smtp.port must be a number"),
    ({"whistle_smtp.starttls": "maybe"}, "whistle_smtp.starttls must be true or false"),
    ({"whistle_smtp.starttls": "false", "whistle_smtp.username": "u"}, "needs whistle_smtp.starttls = true"),
])
def test_a_bad_setting_is_logged_by_name_and_offers_no_channel(settings, named, caplog):
    hooks = Hooks.from_names(["smtp"])
    errors = []
    hooks.call("whistle_configure", on_error=lambda *args: errors.append(args),
               settings={"whistle_smtp.host": "127.0.0.1", "whistle_smtp.from_address": "w@example.org", **settings})
    assert errors == [("smtp", "whistle_configure", "SettingsError")]
    assert named in caplog.text
    assert "in-the-ini" not in caplog.text and "smtp-port-secret" not in caplog.text, "names the key, not the value"
    assert hooks.call("whistle_notification_channels") == [], "unconfigured: no channel"


@pytest.mark.parametrize(("address", "problem"), [
    ("sam@example.org", None),
    ("s.o'neil+speakup@mail.example.co.uk", None),
    ("not an address@", "That does not look like an email address (name@example.org)."),
    ("sam@localhost", "That does not look like an email address (name@example.org)."),
    ("sam@@example.org", "That does not look like an email address (name@example.org)."),
    ("s" * 64 + "@" + "e" * 186 + ".org", "That does not look like an email address (name@example.org)."),  # 255
])
def test_the_channel_says_what_is_wrong_with_an_address(address, problem):
    assert make_channel("127.0.0.1", 25, "whistle@example.org").address_problem(address) == problem


def test_the_guardians_own_language_wins_over_the_organisations(plain_server):
    controller, inbox = plain_server
    channel = make_channel("127.0.0.1", controller.port, "whistle@example.org", starttls=False,
                           languages=("cy", "en"))
    chosen = Notice(recipient_id=NOTICE.recipient_id, kind=NOTICE.kind, language="ar",
                    link="https://speakup.example.org/ar/staff/login")
    channel.deliver(chosen, "guardian@example.org")
    (envelope,) = inbox.envelopes
    message = email.message_from_bytes(envelope.original_content, policy=policy.default)
    assert message["Subject"] == "هناك أمر يحتاج إلى انتباهك"
    body = message.get_content().replace("\r\n", "\n")
    assert "Something" not in body and "Mae angen" not in body, "Arabic alone, not the organisation's two"
    assert body.endswith("\n\nhttps://speakup.example.org/ar/staff/login\n")


def test_each_language_of_a_bilingual_notice_links_to_its_own_sign_in_page():
    _subject, body = whistle_smtp.notice_text("https://speakup.example.org/staff/login", ("cy", "en"))
    welsh, english = body.split("\n\nSomething")
    assert welsh.endswith("\n\nhttps://speakup.example.org/cy/staff/login")
    assert english.endswith("\n\nhttps://speakup.example.org/staff/login\n")


def test_a_notice_in_one_language_keeps_the_link_as_given():
    """The organisation's configured link (here the Welsh sign-in page) or core's link in the
    guardian's language: one language's notice does not move it."""
    _subject, body = whistle_smtp.notice_text("https://speakup.example.org/cy/staff/login", ("en",))
    assert body.endswith("\n\nhttps://speakup.example.org/cy/staff/login\n")
