"""The one rule for whistle's cookies: their names and attributes.

A Secure cookie takes the `__Host-` prefix. Browsers then accept it only when it is Secure,
has Path=/ and no Domain, and was set over HTTPS by this very host: a sibling subdomain or a
man in the middle on plain HTTP cannot plant or overwrite it ("cookie tossing"), which would
otherwise let them fix a session or a CSRF cookie in a visitor's browser. Over plain HTTP
(development, `whistle.cookies.secure = false`) browsers refuse the prefix, so the cookie keeps
its plain name there.
"""
from __future__ import annotations

import re
from datetime import timedelta

from webob.cookies import CookieProfile

HOST_PREFIX = "__Host-"
# The sealed receipt on its way from the report form's POST to the receipt page (whistle.intake.receipts).
RECEIPT_COOKIE = "whistle_receipt"


def cookie_name(base: str, secure: bool) -> str:
    """The name a cookie called `base` is sent under: `__Host-<base>` when Secure, else `base`."""
    return f"{HOST_PREFIX}{base}" if secure else base


class PlainText:
    """A cookie value that is an opaque ASCII token, kept as it is."""

    def dumps(self, value: str) -> bytes:
        return value.encode("ascii")

    def loads(self, value: bytes) -> str:
        return value.decode("ascii")


def cookie_profile(base: str, *, secure: bool, max_age: int | timedelta | None = None) -> CookieProfile:
    """A cookie profile following the rule: named by `cookie_name`, HttpOnly, SameSite=Strict,
    Path=/ and no Domain (what `__Host-` requires), Secure per the setting. Without `max_age`
    the cookie ends when the browser closes."""
    if isinstance(max_age, timedelta):
        max_age = int(max_age.total_seconds())
    return CookieProfile(cookie_name(base, secure), secure=secure, httponly=True, samesite="Strict", path="/",
                         domains=None, max_age=max_age, serializer=PlainText())


# --- the Cookie header, cut down to whistle's own cookies before anything parses it -------------
#
# WebOb parses the Cookie header with a regular expression whose time grows with the square of a
# run it cannot match (4 KB of "a": a quarter of a second; 16 KB: four seconds), holding the
# GIL, so one request with a long header stalls every other request of the process. So before
# anything reads a cookie, the header is split (in linear time) and only whistle's cookies with
# plain values are passed on: WebOb then parses a few hundred well-formed bytes. Anything else
# the browser sends (a parent domain's cookies, say) is dropped, so it cannot lock a reporter
# out either. A header longer than any browser sends to one site (and than nginx's default
# header buffer takes) is refused with 431 (whistle.errors.tweens).
MAX_COOKIE_HEADER_BYTES = 8192
OUR_COOKIE_NAME = re.compile(r"(?:__Host-|__Secure-)?whistle_[a-z]{1,32}")
# RFC 6265 cookie-octets, and more than any value whistle sets (a sealed receipt is under 300).
PLAIN_COOKIE_VALUE = re.compile(r"[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]{0,1024}")


def only_ours(header: str) -> str:
    """The Cookie header with only whistle's cookies (named by `cookie_name`, plain values) in it."""
    kept = []
    for pair in header.split(";"):
        name, equals, value = pair.strip().partition("=")
        if equals and OUR_COOKIE_NAME.fullmatch(name) and PLAIN_COOKIE_VALUE.fullmatch(value):
            kept.append(f"{name}={value}")
    return "; ".join(kept)


def receipt_cookie(secure: bool) -> CookieProfile:
    """The receipt's cookie, by the same rule: `__Host-` when Secure, so that no sibling site can
    plant a receipt of its own in a reporter's browser; Path=/, so that the mailbox's sign-in and
    Leave clear it as well as the receipt page's Leave; and no Max-Age, so that it ends with the
    browser (the sealed value carries its own quarter of an hour)."""
    return cookie_profile(RECEIPT_COOKIE, secure=secure)


def single_value(request, name: str) -> str | None:
    """The value of cookie `name` when the request carries it exactly once; None when it is
    absent or repeated: a second cookie of one name can only have been planted, and which of the
    two is this site's own cannot be told."""
    pairs = (part.partition("=") for part in request.headers.get("Cookie", "").split(";"))
    values = [value.strip() for key, _, value in pairs if key.strip() == name]
    return values[0] if len(values) == 1 and values[0] else None
