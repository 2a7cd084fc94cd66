"""Refusing an address that is not UTF-8, or a Cookie header too long, before anything reads it.

Every later layer decodes the path as UTF-8 through `request.path_info` (pyramid_tm's
transaction note asks the security policy who is calling, which looks at the path, before any
exception view can answer), and any view reading `request.params` decodes the query string; so
an address such as /api/v1/cases/%ED%A0%80 or /staff/cases?status=%FF would escape as a 500.
This tween sits just inside the security headers, so even this answer carries them.
"""
from __future__ import annotations

from webob.compat import parse_qsl_text  # type: ignore[attr-defined]  # in webob 1.8, missing from types-WebOb

from whistle.errors.problems import Problem
from whistle.errors.views import respond
from whistle.i18n import _
from whistle.security.cookies import MAX_COOKIE_HEADER_BYTES, only_ours


def _decodable(environ) -> bool:
    try:
        environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8")
        for _ in parse_qsl_text(environ.get("QUERY_STRING", "")):  # how WebOb will decode request.GET
            pass
    except UnicodeError:
        return False
    return True


def undecodable_address_tween_factory(handler, registry):
    def undecodable_address_tween(request):
        if not _decodable(request.environ):
            # Not identified: finding the session decodes the path, which is what cannot be done.
            return respond(request, Problem(400, _("This address is not valid: it is not UTF-8.")), ask_who=False)
        return handler(request)

    return undecodable_address_tween


def cookie_header_tween_factory(handler, registry):
    """Only whistle's own cookies reach the app, and a Cookie header over MAX_COOKIE_HEADER_BYTES
    is a 431: WebOb's cookie parser takes quadratic time on a long malformed header (see
    whistle.security.cookies.only_ours). Outside every tween that might read a cookie."""

    def cookie_header_tween(request):
        header = request.environ.get("HTTP_COOKIE")
        if header is None:
            return handler(request)
        request.environ["HTTP_COOKIE"] = only_ours(header[:MAX_COOKIE_HEADER_BYTES + 1])
        if len(header) > MAX_COOKIE_HEADER_BYTES:
            # Not identified: a browser of ours never sends such a header.
            return respond(request, Problem(431, _("The Cookie header of this request is too long.")), ask_who=False)
        return handler(request)

    return cookie_header_tween
