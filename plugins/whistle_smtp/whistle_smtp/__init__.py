"""Notification emails over SMTP that say only "something needs your attention" and a link.

The email carries no case reference, channel, label, kind or text (security promise 4): its
subject is fixed and its body is two fixed sentences and the sign-in link. It is written in the
language the guardian chose for their notices (`notice.language`) or, when they chose none, in
each of the languages `whistle_smtp.languages` names (English alone by default; "cy en" sends
Welsh, then English, as a bilingual organisation writes), each with the link in its language. A
mailbox, a mail server's logs or a stolen phone then reveal only that a guardian was asked to log in.

Configuration: `whistle_smtp.*` keys in the .ini, which core hands over through
`whistle_configure` (see README.md). `CONFIG`, filled from Python, is used only when the .ini
has no `whistle_smtp.*` key, and `make_channel(...)` serves an organisation's own hook.
"""
from __future__ import annotations

import logging
import re
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

from whistle import hookimpl
from whistle.hooks import PluginSettingsError, keys_of
from whistle.hooks.types import Notice
from whistle.i18n import DEFAULT, LANGUAGES, _, in_language, link_in_language

log = logging.getLogger(__name__)

SUBJECT = _("Something needs your attention")
# Short lines, plain text, that any mail client shows as written.
BODY = (_("Something in the speak-up service needs your attention."), _("Please log in to see what it is:"))

# What an address must look like: one "@", something before it, a dotted domain after it.
EMAIL_PATTERN = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s.]{2,}$")

# The .ini keys this plugin reads (after the "whistle_smtp." prefix), and how each is parsed.
PREFIX = "whistle_smtp."
REQUIRED_KEYS = ("host", "from_address")
OPTIONAL_KEYS = ("port", "username", "password_file", "starttls", "timeout", "languages")

# The fallback for configuring from Python (see README.md): host, port, from_address, and
# optionally username, password or password_file, starttls, timeout.
CONFIG: dict[str, Any] = {}

# What the last `whistle_configure` found in the .ini (the app calls it at every start-up).
_from_settings: dict[str, Any] = {}


class SettingsError(PluginSettingsError):
    """A `whistle_smtp.*` setting is missing or malformed; the message names the key, never a value."""


def _bool(key: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("true", "yes", "on", "1"):
        return True
    if lowered in ("false", "no", "off", "0"):
        return False
    raise SettingsError(f"{PREFIX}{key} must be true or false")


def _number(key: str, value: str, kind: type) -> Any:
    try:
        return kind(value.strip())
    except ValueError:
        raise SettingsError(f"{PREFIX}{key} must be a number") from None


def _languages(value: str) -> tuple[str, ...]:
    codes = tuple(value.split())
    unknown = [code for code in codes if code not in LANGUAGES]
    if not codes or unknown or len(set(codes)) != len(codes):
        raise SettingsError(f"{PREFIX}languages must name shipped languages ({', '.join(LANGUAGES)}), each once, "
                            "separated by spaces")
    return codes


def notice_text(link: str, languages: tuple[str, ...] = (DEFAULT,)) -> tuple[str, str]:
    """(subject, body) of a notice e-mail: the fixed words in each language, in order, each with the
    link. In several languages, each gets the link to the sign-in page in its own; in one, the link
    is as given (core's, in the guardian's language, or the one the organisation configured)."""
    subject = " / ".join(in_language(code, SUBJECT) for code in languages)
    body = "\n\n".join("\n".join(in_language(code, sentence) for sentence in BODY)
                       + f"\n\n{link_in_language(link, code) if len(languages) > 1 else link}"
                       for code in languages)
    return subject, body + "\n"


def config_from_settings(settings: Mapping[str, str]) -> dict[str, Any]:
    """The `CONFIG`-style options from the .ini's `whistle_smtp.*` keys ({} if there are none)."""
    try:
        ours = keys_of(settings, PREFIX, required=REQUIRED_KEYS, optional=OPTIONAL_KEYS, file_only=("password",))
    except PluginSettingsError as error:
        raise SettingsError(str(error)) from None
    if not ours:
        return {}
    config: dict[str, Any] = {"host": ours["host"], "from_address": ours["from_address"],
                              "port": _number("port", ours.get("port", "587"), int),
                              "starttls": _bool("starttls", ours.get("starttls", "true"))}
    if "timeout" in ours:
        config["timeout"] = _number("timeout", ours["timeout"], float)
    if "languages" in ours:
        config["languages"] = _languages(ours["languages"])
    if ours.get("username"):
        config["username"] = ours["username"]
    if ours.get("password_file"):
        config["password_file"] = ours["password_file"]
    if "username" in config and not config["starttls"]:
        raise SettingsError(f"{PREFIX}username needs {PREFIX}starttls = true (the password would cross the "
                            "network in the clear)")
    return config


@dataclass(frozen=True)
class EmailChannel:
    """A NotificationChannel that sends one short, content-free email per notice."""

    host: str
    port: int
    from_address: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = True
    timeout: float = 10
    ssl_context: ssl.SSLContext | None = field(default=None, repr=False)
    languages: tuple[str, ...] = (DEFAULT,)
    name: str = "email"

    def message(self, notice: Notice, address: str) -> EmailMessage:
        # The guardian's own choice of language, when they made one, over the organisation's.
        subject, body = notice_text(notice.link, (notice.language,) if notice.language else self.languages)
        message = EmailMessage()
        message["Subject"] = subject
        message["From"] = self.from_address
        message["To"] = address
        message["Date"] = formatdate(localtime=False)
        # The sender's domain, not this server's hostname, which make_msgid would use by default.
        message["Message-ID"] = make_msgid(domain=self.from_address.rpartition("@")[2] or None)
        message.set_content(body)
        return message

    def address_problem(self, address: str) -> str | None:
        """What is wrong with a guardian's address for this channel, as a marked sentence (the form
        shows it in the page's language), or None: it must look like an email address (core has
        checked that it is one line without spaces)."""
        if len(address) > 254 or not EMAIL_PATTERN.match(address):
            return _("That does not look like an email address (name@example.org).")
        return None

    def deliver(self, notice: Notice, address: str) -> None:
        """Send it, or raise (an smtplib or ssl error): the outbox retries later."""
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls(context=self.ssl_context or ssl.create_default_context())
            if self.username is not None:
                smtp.login(self.username, self.password or "")
            smtp.send_message(self.message(notice, address))


def make_channel(host: str, port: int, from_address: str, username: str | None = None, password: str | None = None,
                 starttls: bool = True, timeout: float = 10, ssl_context: ssl.SSLContext | None = None,
                 languages: tuple[str, ...] = (DEFAULT,)) -> EmailChannel:
    """An email channel. `ssl_context` defaults to the system's trusted CAs with hostname checks;
    `languages` are the notice's languages, in order (shipped ones: whistle.i18n.LANGUAGES)."""
    if username is not None and not starttls:
        # smtplib would send the password in the clear.
        raise ValueError("SMTP AUTH needs STARTTLS: set starttls=True or drop the username")
    unknown = [code for code in languages if code not in LANGUAGES]
    if unknown or not languages:
        raise ValueError(f"languages must be some of {', '.join(LANGUAGES)}")
    return EmailChannel(host=host, port=int(port), from_address=from_address, username=username,
                        password=password, starttls=starttls, timeout=timeout, ssl_context=ssl_context,
                        languages=tuple(languages))


def channel_from_config(config: dict[str, Any]) -> EmailChannel:
    options = dict(config)
    password_file = options.pop("password_file", None)
    if password_file is not None:
        # A file keeps the secret out of Python source and out of the .ini.
        options["password"] = Path(password_file).read_text().strip()
    return make_channel(**options)


@hookimpl
def whistle_configure(settings: Mapping[str, str]) -> None:
    """Keep the .ini's `whistle_smtp.*` settings for the channel (checked now, so a mistake is
    logged at start-up, naming the key)."""
    global _from_settings
    _from_settings = {}
    try:
        _from_settings = config_from_settings(settings)
    except SettingsError as error:
        log.error("whistle_smtp offers no email channel: %s", error)
        raise


@hookimpl
def whistle_notification_channels() -> list[EmailChannel] | None:
    config = _from_settings or CONFIG
    if not config:
        log.warning("whistle_smtp is enabled but not configured (no whistle_smtp.* settings): no email channel")
        return None
    try:
        return [channel_from_config(config)]
    except OSError as error:  # an unreadable password file: say which setting, not the path's content
        log.error("whistle_smtp offers no email channel: cannot read %spassword_file (%s)", PREFIX,
                  type(error).__name__)
        raise
