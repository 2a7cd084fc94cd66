"""The one rule for whistle's cookies: their names and attributes.

A Secure cookie takes the `__Host-` prefix. Browsers then accept it only when it is Secure,
has Path=/ and no Domain, and was set over HTTPS by this very host: a sibling subdomain or a
man in the middle on plain HTTP cannot plant or overwrite it ("cookie tossing"), which would
otherwise let them fix a session or a CSRF cookie in a visitor's browser. Over plain HTTP
(development, `whistle.cookies.secure = false`) browsers refuse the prefix, so the cookie keeps
its plain name there.
"""
from __future__ import annotations

from datetime import timedelta

from webob.cookies import CookieProfile

HOST_PREFIX = "__Host-"
# For a Secure cookie limited to one path: `__Host-` would need Path=/ (and so send the cookie
# with every request); `__Secure-` asks only that the browser got it over HTTPS.
SECURE_PREFIX = "__Secure-"


def cookie_name(base: str, secure: bool, *, one_path: bool = False) -> str:
    """The name a cookie called `base` is sent under: `__Host-<base>` when Secure (`__Secure-<base>`
    for a cookie limited to `one_path`), else `base`."""
    if not secure:
        return base
    return f"{SECURE_PREFIX if one_path else HOST_PREFIX}{base}"


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
