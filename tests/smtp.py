"""A real SMTP server for tests: aiosmtpd on loopback, optionally refusing the first messages."""
from __future__ import annotations

import contextlib
import logging
import socket
from collections.abc import Iterator

from aiosmtpd.controller import Controller

# aiosmtpd logs from its own thread, sometimes after the test that caused it has ended.
logging.getLogger("mail.log").addHandler(logging.NullHandler())
logging.getLogger("mail.log").propagate = False


class SmtpInbox:
    """An aiosmtpd handler that answers 451 (try again later) to the first `refuse` messages
    and keeps the envelopes it accepts."""

    def __init__(self, refuse: int = 0) -> None:
        self.refuse, self.attempts, self.accepted = refuse, 0, []

    async def handle_DATA(self, server, session, envelope):
        self.attempts += 1
        if self.attempts <= self.refuse:
            return "451 4.3.0 Try again later"
        self.accepted.append(envelope)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def running_smtp(refuse: int = 0) -> Iterator[tuple[Controller, SmtpInbox]]:
    inbox = SmtpInbox(refuse)
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller, inbox
    finally:
        controller.stop()


def smtp_settings(controller: Controller) -> dict[str, str]:
    """The .ini keys that point the smtp plugin at `controller` (read through whistle_configure)."""
    return {"whistle_smtp.host": "127.0.0.1", "whistle_smtp.port": str(controller.port),
            "whistle_smtp.from_address": "whistle@example.org", "whistle_smtp.starttls": "false",
            "whistle_smtp.timeout": "5"}
