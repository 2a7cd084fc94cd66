"""Signed webhook notifications: a POST that says only "attention needed" and a link.

The body is `{"type": "attention-needed", "link": ..., "sent_at": ...}` and nothing else (no
case reference, channel, label or text: security promise 4). Receivers check it with `verify`:

    X-Whistle-Timestamp: <unix seconds>
    X-Whistle-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>

Signing the timestamp with the body lets a receiver reject a captured request replayed later.
Only the standard library is used, so receivers can copy `verify` as it is.

Configuration: `whistle_webhook.secret_file` (and optionally `whistle_webhook.timeout`) in the
.ini, handed over by core through `whistle_configure`; `CONFIG`, filled from Python, is used only
when the .ini has no `whistle_webhook.*` key (see README.md).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from whistle import hookimpl
from whistle.hooks import PluginSettingsError, keys_of
from whistle.hooks.types import Notice
from whistle.i18n import _

log = logging.getLogger(__name__)

TIMESTAMP_HEADER = "X-Whistle-Timestamp"
SIGNATURE_HEADER = "X-Whistle-Signature"

# The fallback for configuring from Python (see README.md): secret or secret_file, and
# optionally timeout.
CONFIG: dict[str, Any] = {}

PREFIX = "whistle_webhook."

# What the last `whistle_configure` found in the .ini (the app calls it at every start-up).
_from_settings: dict[str, Any] = {}


class SettingsError(PluginSettingsError):
    """A `whistle_webhook.*` setting is missing or malformed; the message names the key, never a value."""


def config_from_settings(settings: Mapping[str, str]) -> dict[str, Any]:
    """The `CONFIG`-style options from the .ini's `whistle_webhook.*` keys ({} if there are none)."""
    try:
        ours = keys_of(settings, PREFIX, required=("secret_file",), optional=("timeout",), file_only=("secret",))
    except PluginSettingsError as error:
        raise SettingsError(str(error)) from None
    if not ours:
        return {}
    config: dict[str, Any] = {"secret_file": ours["secret_file"]}
    if "timeout" in ours:
        try:
            config["timeout"] = float(ours["timeout"])
        except ValueError:
            raise SettingsError(f"{PREFIX}timeout must be a number") from None
    return config


def _key(secret: str | bytes) -> bytes:
    return secret.encode() if isinstance(secret, str) else secret


def sign(secret: str | bytes, timestamp: str, body: bytes) -> str:
    """The X-Whistle-Signature value for `body` sent at `timestamp`."""
    digest = hmac.new(_key(secret), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret: str | bytes, timestamp: str, body: bytes, signature: str, now: float,
           tolerance: int = 300) -> bool:
    """Whether a received webhook is genuine and fresh.

    :param timestamp: the X-Whistle-Timestamp header, as received.
    :param body: the raw request body, before any JSON parsing.
    :param signature: the X-Whistle-Signature header.
    :param now: the receiver's clock, in unix seconds.
    :param tolerance: how many seconds old (or ahead, for clock skew) a request may be.
    """
    try:
        sent = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs(now - sent) > tolerance:  # a replay of an old request, or a forged future one
        return False
    # compare_digest: the time taken must not tell an attacker how much of a guess was right.
    return hmac.compare_digest(sign(secret, timestamp, body).encode(), signature.encode())


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect would turn the POST into a GET to somewhere else: fail, and let the outbox retry.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


@dataclass(frozen=True)
class WebhookChannel:
    """A NotificationChannel whose address is the receiver's http(s) URL."""

    secret: bytes = field(repr=False)
    timeout: float = 10
    clock: Callable[[], float] = field(default=time.time, repr=False)
    name: str = "webhook"

    def address_problem(self, address: str) -> str | None:
        """What is wrong with a guardian's address for this channel, as a marked sentence (the form
        shows it in the page's language), or None: it must be an http(s) URL with a host."""
        parts = urlsplit(address)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return _("A webhook address must be an http:// or https:// URL.")
        return None

    def request(self, notice: Notice, url: str) -> urllib.request.Request:
        if urlsplit(url).scheme not in ("http", "https"):
            # urllib would also open file:, ftp: and data: URLs.
            raise ValueError("a webhook address must be an http or https URL")
        now = int(self.clock())
        sent_at = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        # `language`: the one the guardian chose for their notices (the link is in it), or null.
        body = json.dumps({"type": "attention-needed", "link": notice.link, "language": notice.language,
                           "sent_at": sent_at}, separators=(",", ":")).encode()
        timestamp = str(now)
        return urllib.request.Request(url, data=body, method="POST", headers={
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(self.secret, timestamp, body),
        })

    def deliver(self, notice: Notice, address: str) -> None:
        """POST it, or raise (any non-2xx answer, a redirect, a timeout): the outbox retries."""
        with _opener.open(self.request(notice, address), timeout=self.timeout) as response:
            if not 200 <= response.status < 300:
                raise OSError(f"webhook answered {response.status}")


def make_channel(secret: str | bytes, timeout: float = 10, clock: Callable[[], float] = time.time) -> WebhookChannel:
    if len(_key(secret)) < 16:
        raise ValueError("the webhook secret must be at least 16 bytes")
    return WebhookChannel(secret=_key(secret), timeout=timeout, clock=clock)


def channel_from_config(config: dict[str, Any]) -> WebhookChannel:
    options = dict(config)
    secret_file = options.pop("secret_file", None)
    if secret_file is not None:
        options["secret"] = Path(secret_file).read_text().strip()
    return make_channel(**options)


@hookimpl
def whistle_configure(settings: Mapping[str, str]) -> None:
    """Keep the .ini's `whistle_webhook.*` settings (checked now, so a mistake is logged at
    start-up, naming the key)."""
    global _from_settings
    _from_settings = {}
    try:
        _from_settings = config_from_settings(settings)
    except SettingsError as error:
        log.error("whistle_webhook offers no webhook channel: %s", error)
        raise


@hookimpl
def whistle_notification_channels() -> list[WebhookChannel] | None:
    config = _from_settings or CONFIG
    if not config:
        log.warning("whistle_webhook is enabled but not configured (no whistle_webhook.* settings): "
                    "no webhook channel")
        return None
    try:
        return [channel_from_config(config)]
    except OSError as error:  # an unreadable secret file: say which setting, never the secret
        log.error("whistle_webhook offers no webhook channel: cannot read %ssecret_file (%s)", PREFIX,
                  type(error).__name__)
        raise
    except ValueError as error:  # a secret too short: the message names no value
        log.error("whistle_webhook offers no webhook channel: %s", error)
        raise
