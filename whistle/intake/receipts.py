"""The receipt page after sending: the receipt travels to it in a short-lived sealed cookie.

The form's POST answers 303 to a GET page (so Back and reload never send or show the report
again), and that page needs the receipt without the server keeping it anywhere: the POST seals
it, with the case reference and channel, under a subkey of the session key file
(whistle.crypto.seal_for_client) into a cookie that only the receipt page's path receives, for
a quarter of an hour, or until the reporter presses Leave.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

from whistle import crypto
from whistle.security import cookies

PURPOSE = "receipt"
LIFETIME = timedelta(minutes=15)
COOKIE = "whistle_receipt"


@dataclass(frozen=True)
class CarriedReceipt:
    receipt: str
    case_ref: str
    channel_slug: str


def cookie_name(settings) -> str:
    # Limited to the receipt page's path, so a Secure one is "__Secure-", not "__Host-" (which needs Path=/).
    return cookies.cookie_name(COOKIE, settings.cookies_secure, one_path=True)


def _cookie_attributes(request, slug: str) -> dict:
    return {"path": request.route_path("intake.receipt", slug=slug), "secure": request.whistle_settings.cookies_secure,
            "httponly": True, "samesite": "Strict"}


def carry(request, response, *, receipt: str, case_ref: str, slug: str) -> None:
    """Set the cookie that takes the receipt to the receipt page."""
    value = json.dumps({"receipt": receipt, "case": case_ref, "channel": slug}).encode("utf-8")
    sealed = crypto.seal_for_client(value, request.whistle_settings.session_key, purpose=PURPOSE,
                                    now=request.clock.now(), lifetime=LIFETIME)
    response.set_cookie(cookie_name(request.whistle_settings), sealed, max_age=int(LIFETIME.total_seconds()),
                        **_cookie_attributes(request, slug))


def carried(request, slug: str) -> CarriedReceipt | None:
    """The receipt the cookie carries for channel `slug`, or None: no cookie, expired, left, or not ours."""
    sealed = request.cookies.get(cookie_name(request.whistle_settings))
    if not sealed:
        return None
    try:
        value = json.loads(crypto.open_from_client(sealed, request.whistle_settings.session_key, purpose=PURPOSE,
                                                   now=request.clock.now()))
    except crypto.DecryptionFailed:
        return None
    if value.get("channel") != slug:
        return None
    return CarriedReceipt(receipt=value["receipt"], case_ref=value["case"], channel_slug=slug)


def forget(request, response, slug: str) -> None:
    """Tell the browser to drop the cookie now. Set with the same attributes, not
    Response.delete_cookie: a browser ignores a "__Secure-" cookie that comes without Secure."""
    response.set_cookie(cookie_name(request.whistle_settings), "", max_age=0, **_cookie_attributes(request, slug))
