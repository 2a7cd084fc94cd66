"""A debugging mail server for development: SMTP on loopback, inside the app's process, writing
every message it receives (headers and body) to the log, so `make run` shows a notice arrive.

Started by `whistle.main` when `whistle.dev.mail_server` names an address (development.ini:
127.0.0.1:8025, where the smtp plugin sends); stopped when the process exits. It refuses any
address that is not loopback: it accepts mail from anyone who can reach it and prints it all.
aiosmtpd comes with the `dev` extra (`make install`), and is imported only when it is used.
"""
from __future__ import annotations

import atexit
import itertools
import logging
from typing import TYPE_CHECKING

from whistle.settings import loopback_address

if TYPE_CHECKING:  # for the annotation only: aiosmtpd is imported when the server starts
    from aiosmtpd.controller import Controller

log = logging.getLogger("whistle.devmail")


class PrintingHandler:
    """An aiosmtpd handler that accepts every message and logs it whole, numbered."""

    def __init__(self) -> None:
        self._numbers = itertools.count(1)

    async def handle_DATA(self, server, session, envelope) -> str:
        number = next(self._numbers)
        text = envelope.original_content.decode("utf-8", errors="replace").replace("\r\n", "\n").rstrip("\n")
        log.info("message %d received, from %s to %s:\n%s\n(end of message %d)", number, envelope.mail_from,
                 ", ".join(envelope.rcpt_tos), text, number)
        return "250 Message accepted"


class DevMailServer:
    """The debugging mail server on `host:port` (loopback only); start() it, stop() it."""

    def __init__(self, host: str, port: int) -> None:
        loopback_address(f"[{host}]:{port}")  # a second check: never listen anywhere else
        self.host, self.port = host, port
        self._controller: Controller | None = None

    def start(self) -> DevMailServer:
        try:
            # aiosmtpd is an optional dependency (the `dev` extra): imported only when the server starts.
            from aiosmtpd.controller import Controller
        except ImportError:
            raise RuntimeError("whistle.dev.mail_server needs aiosmtpd: install whistle with its dev extra "
                               "(pip install -e '.[dev]', which `make install` does)") from None
        # server_hostname: the name in the greeting; the default looks up the machine's FQDN.
        self._controller = Controller(PrintingHandler(), hostname=self.host, port=self.port,
                                      server_hostname="localhost")
        self._controller.start()
        log.info("debugging mail server on %s port %d: every message it receives is printed here",
                 self.host, self.port)
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


def start_if_enabled(registry) -> DevMailServer | None:
    """Start the debugging mail server if the settings ask for one; it stops at exit."""
    address = registry.whistle_settings.dev_mail_server
    if address is None:
        return None
    server = DevMailServer(*address).start()
    registry.dev_mail_server = server
    atexit.register(server.stop)
    return server
