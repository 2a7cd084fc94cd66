"""The receipt after sending, sealed for its page: the receipt travels there in a short-lived cookie.

The form's POST answers 303 to a GET page (so Back and reload never send or show the report
again), and that page needs the receipt without the server keeping it anywhere: the POST seals
it, with the case reference and channel, under a subkey of the session key file
(whistle.crypto.seal_for_client), and the page opens it again, for a quarter of an hour. The
cookie that carries it (only the receipt page's path receives it, until the reporter presses
Leave) is set and read by whistle.intake.views.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

from whistle import crypto
from whistle.clock import Clock
from whistle.settings import Settings

PURPOSE = "receipt"
LIFETIME = timedelta(minutes=15)


@dataclass(frozen=True)
class CarriedReceipt:
    receipt: str
    case_ref: str
    channel_slug: str


def seal(settings: Settings, clock: Clock, *, receipt: str, case_ref: str, slug: str) -> str:
    """The receipt, its case and channel, sealed for the client to carry for LIFETIME."""
    value = json.dumps({"receipt": receipt, "case": case_ref, "channel": slug}).encode("utf-8")
    return crypto.seal_for_client(value, settings.session_key, purpose=PURPOSE, now=clock.now(), lifetime=LIFETIME)


def unseal(settings: Settings, clock: Clock, sealed: str, slug: str) -> CarriedReceipt | None:
    """The receipt `sealed` carries for channel `slug`, or None: expired, or not ours."""
    try:
        value = json.loads(crypto.open_from_client(sealed, settings.session_key, purpose=PURPOSE, now=clock.now()))
    except crypto.DecryptionFailed:
        return None
    if value.get("channel") != slug:
        return None
    return CarriedReceipt(receipt=value["receipt"], case_ref=value["case"], channel_slug=slug)
