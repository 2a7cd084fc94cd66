"""Notification emails over SMTP that say only "something needs your attention" and a link.

The email carries no case reference, channel, label, kind or text (security promise 4): its
subject is fixed and its body is two fixed sentences and `notice.link`. A mailbox, a mail
server's logs or a stolen phone then reveal only that a guardian was asked to log in.

Configuration: core does not pass settings to plugins yet, so the organisation either fills
`CONFIG` from a tiny module of its own loaded before this one, or writes its own
`whistle_notification_channels` calling `make_channel(...)` (see README.md).
"""
from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

from whistle import hookimpl
from whistle.hooks.types import Notice

log = logging.getLogger(__name__)

SUBJECT = "Something needs your attention"
# Short lines, so the message stays plain 7-bit text that any mail client shows as written.
BODY = "Something in the speak-up service needs your attention.\nPlease log in to see what it is:\n\n{link}\n"

# Filled by the organisation (see README.md): host, port, from_address, and optionally
# username, password or password_file, starttls, timeout.
CONFIG: dict[str, Any] = {}


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
    name: str = "email"

    def message(self, notice: Notice, address: str) -> EmailMessage:
        message = EmailMessage()
        message["Subject"] = SUBJECT
        message["From"] = self.from_address
        message["To"] = address
        message["Date"] = formatdate(localtime=False)
        # The sender's domain, not this server's hostname, which make_msgid would use by default.
        message["Message-ID"] = make_msgid(domain=self.from_address.rpartition("@")[2] or None)
        message.set_content(BODY.format(link=notice.link))
        return message

    def deliver(self, notice: Notice, address: str) -> None:
        """Send it, or raise (an smtplib or ssl error): the outbox retries later."""
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls(context=self.ssl_context or ssl.create_default_context())
            if self.username is not None:
                smtp.login(self.username, self.password or "")
            smtp.send_message(self.message(notice, address))


def make_channel(host: str, port: int, from_address: str, username: str | None = None, password: str | None = None,
                 starttls: bool = True, timeout: float = 10, ssl_context: ssl.SSLContext | None = None) -> EmailChannel:
    """An email channel. `ssl_context` defaults to the system's trusted CAs with hostname checks."""
    if username is not None and not starttls:
        # smtplib would send the password in the clear.
        raise ValueError("SMTP AUTH needs STARTTLS: set starttls=True or drop the username")
    return EmailChannel(host=host, port=int(port), from_address=from_address, username=username,
                        password=password, starttls=starttls, timeout=timeout, ssl_context=ssl_context)


def channel_from_config(config: dict[str, Any]) -> EmailChannel:
    options = dict(config)
    password_file = options.pop("password_file", None)
    if password_file is not None:
        # A file keeps the secret out of Python source and out of the .ini.
        options["password"] = Path(password_file).read_text().strip()
    return make_channel(**options)


@hookimpl
def whistle_notification_channels() -> list[EmailChannel] | None:
    if not CONFIG:
        log.warning("whistle_smtp is enabled but whistle_smtp.CONFIG is empty: no email channel")
        return None
    return [channel_from_config(CONFIG)]
