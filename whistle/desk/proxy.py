"""The desk's WSGI application: static files from this machine, everything else forwarded to the server.

- `/static/...`: from the installed package's whistle/static (the paths the server's pages use,
  `request.static_path("whistle:static/...")`), never from the server: the code that runs is the
  code on this machine.
- `/desk/organisation.json`: the pinned organisation key, for the page's scripts to verify key
  directories with instead of the server's word.
- Anything else is forwarded to the server, both bodies streamed (flat memory), with these changes:
  every answer gets the desk's own Content-Security-Policy (scripts only from the desk) and loses the
  server's, and any `Refresh`, `Link` and HSTS header; each keys answer is checked against the pin
  (502 if refused); a form post (or a query) with a plaintext field is refused (400) before anything
  is sent; cookies are renamed so a browser keeps them on http://127.0.0.1 (see `_cookie_to_browser`).
"""
from __future__ import annotations

import http.client
import json
import mimetypes
import re
from collections.abc import Iterable, Iterator
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

from whistle import crypto
from whistle.client import trust
from whistle.client.api import Api

from .pin import Pin

PACKAGE_STATIC = Path(__file__).resolve().parents[1] / "static"  # whistle/static of the installed package
# 'self' is the desk: the scripts it serves from this machine, and the server's answers it forwarded.
DESK_CSP = (
    "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'; style-src 'self'; "
    "img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
# The fields in which the app's forms carry words people wrote (or a password). In device mode the
# desk's scripts put an encrypted `item` in their place; a page that would post one of them in the
# clear is not the desk's scripts at work.
# `current`: the password page without its script posts the current password (and the new one); in
# device mode its script posts keys derived on the device instead, so through the desk only a page
# whose script did not run, or a hostile page, would send it.
# `passphrase`: the case export's; on the device it never leaves the page (export.js builds the archive).
PLAINTEXT_FIELDS = frozenset({"text", "learned", "changed", "reason", "password", "current", "name", "contact",
                              "q", "passphrase", "passphrase_again"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data", "text/plain")
KEYS_ANSWER = re.compile(r"/api/v1/channels/[^/?#]+/keys/?")
# The salt and Argon2id cost the sign-in page derives the auth key with. The server names the cost,
# and the auth key is sent to it: a server that named a trivial cost could guess the password from
# the auth key at the speed of a plain hash. So the desk lets no cost below its floor through.
# Checked under any path: the page follows only an address that ends so (login.js), and a server's
# page could name one with a prefix of its own.
SIGN_IN_PARAMETERS = re.compile(r"(?:/.*)?/api/v1/staff/sign-in-parameters/?")
MAX_SIGN_IN_PARAMETERS_BYTES = 64 * 1024
ORGANISATION_PATH = "/desk/organisation.json"
# The names the desk answers to: loopback only. A web page whose own name a DNS server points at
# 127.0.0.1 (DNS rebinding) would otherwise be the desk's origin and could read its answers and use
# it to reach the server from this machine.
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "[::1]"})
MAX_FORM_BYTES = 8 * 1024 * 1024  # a form post is checked whole: items in base64, never files
MAX_KEYS_ANSWER_BYTES = 8 * 1024 * 1024
CHUNK = 64 * 1024
# Hop-by-hop headers (RFC 9110 7.6.1), and what the desk sets itself.
HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
                        "transfer-encoding", "upgrade", "proxy-connection"})
REQUEST_DROPPED = HOP_BY_HOP | {"host", "content-length", "accept-encoding", "cookie", "origin", "referer",
                                "forwarded", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto"}
ANSWER_DROPPED = HOP_BY_HOP | {"content-security-policy", "content-security-policy-report-only", "refresh", "link",
                               "strict-transport-security", "set-cookie", "content-length", "location",
                               "report-to", "reporting-endpoints", "nel", "alt-svc", "x-content-type-options",
                               "referrer-policy", "x-frame-options", "cross-origin-opener-policy",
                               "cross-origin-resource-policy"}  # the last five: the desk sets its own
TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm", ".css": "text/css"}

# Cookies. The server names its cookies `__Host-whistle_...` and marks them Secure when it is served
# over HTTPS; the desk is http://127.0.0.1. Chromium counts loopback as a secure origin and keeps such
# a cookie there, but a browser need not (the cookie specifications allow Secure and `__Host-` only
# from a "secure" origin, and browsers differ on loopback). So on the way to the browser the prefix
# becomes one of the desk's own and Secure is dropped (HttpOnly, SameSite=Strict, Path and Max-Age
# stay); on the way to the server the name is mapped back. The cookie travels only between the
# browser and the desk, on this machine; the desk talks to the server over HTTPS. The mapping needs
# no state: a restarted desk maps alike.
COOKIE_PREFIXES = (("__Host-", "desk-host-"), ("__Secure-", "desk-secure-"))
# Only the server's cookies go to the server: not those other programs on 127.0.0.1 set in the browser.
SERVER_COOKIE = re.compile(r"(?:desk-host-|desk-secure-)?whistle_[a-z]{1,32}")


class Desk:
    """The WSGI application; `static` is the directory `/static/` serves (the package's by default)."""

    def __init__(self, api: Api, pin: Pin, *, static: Path = PACKAGE_STATIC, timeout: float = 120.0,
                 lowest_cost: crypto.KdfCost | None = None) -> None:
        self.api = api
        self.pin = pin
        self.static = static.resolve()
        self.timeout = timeout
        # The least Argon2id cost a sign-in may derive with (libsodium's "interactive" by default).
        self.lowest_cost = lowest_cost or crypto.KdfCost.interactive()

    def __call__(self, environ: dict[str, Any], start_response) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        host = environ.get("HTTP_HOST")
        if host is not None and _host_name(host) not in LOOPBACK_NAMES:
            return _page(start_response, "421 Misdirected Request", "Not the desk's name",
                         "The desk answers only at 127.0.0.1 or localhost. Nothing was sent.")
        if path == ORGANISATION_PATH:
            return _json(start_response, "200 OK", self.pin.organisation())
        if path == "/static" or path.startswith("/static/"):
            return self._static(path, method, start_response)
        refused = _plaintext_in_query(environ.get("QUERY_STRING", ""))
        if refused:
            return _refused(start_response, refused)
        body: bytes | None = None
        content_type = environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
        if content_type in FORM_TYPES:
            body = _read_limited(environ, MAX_FORM_BYTES)
            if body is None:
                return _page(start_response, "413 Content Too Large", "The desk did not send this form",
                             "The form is larger than any the workspace sends without a file. Nothing was sent.")
            refused = _plaintext_in_form(content_type, environ.get("CONTENT_TYPE", ""), body)
            if refused:
                return _refused(start_response, refused)
        return self._forward(environ, start_response, method, body)

    # --- static files from this machine ------------------------------------------------------------

    def _static(self, path: str, method: str, start_response) -> Iterable[bytes]:
        if method not in ("GET", "HEAD"):
            return _page(start_response, "405 Method Not Allowed", "Not here", "Static files are only read.")
        relative = unquote(path[len("/static/"):])
        target = (self.static / relative).resolve()
        if not relative or not target.is_relative_to(self.static) or not target.is_file():
            return _page(start_response, "404 Not Found", "Not found", "The desk has no such file.")
        kind = TYPES.get(target.suffix) or mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        data = target.read_bytes()
        start_response("200 OK", [("Content-Type", kind), ("Content-Length", str(len(data))),
                                  ("Cache-Control", "no-store"), *_desk_headers()])
        return [] if method == "HEAD" else [data]

    # --- forwarding ---------------------------------------------------------------------------------

    def _forward(self, environ: dict[str, Any], start_response, method: str, body: bytes | None) -> Iterable[bytes]:
        target = environ.get("REQUEST_URI") or (environ.get("PATH_INFO", "/") + (
            "?" + environ["QUERY_STRING"] if environ.get("QUERY_STRING") else ""))
        if not target.startswith("/"):
            return _page(start_response, "400 Bad Request", "Not forwarded", "The desk forwards paths only.")
        connection = (http.client.HTTPSConnection if self.api.scheme == "https" else http.client.HTTPConnection)(
            self.api.host, self.api.port, timeout=self.timeout)
        try:
            connection.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
            default_port = 443 if self.api.scheme == "https" else 80
            connection.putheader("Host", self.api.host if self.api.port == default_port else
                                 f"{self.api.host}:{self.api.port}")
            for name, value in _request_headers(environ):
                connection.putheader(name, value)
            cookies = _cookies_to_server(environ.get("HTTP_COOKIE", ""))
            if cookies:
                connection.putheader("Cookie", cookies)
            length = len(body) if body is not None else _content_length(environ)
            if length is not None:
                connection.putheader("Content-Length", str(length))
            connection.endheaders()
            if body is not None:
                connection.send(body)
            elif length:
                stream = environ["wsgi.input"]
                left = length
                while left > 0:
                    chunk = stream.read(min(CHUNK, left))
                    if not chunk:
                        break
                    connection.send(chunk)
                    left -= len(chunk)
            answer = connection.getresponse()
        except (OSError, http.client.HTTPException) as error:
            connection.close()
            return _page(start_response, "502 Bad Gateway", "The server did not answer",
                         f"The desk could not reach {self.api.origin}: {error}.")
        try:
            return self._answer(environ, start_response, connection, answer)
        except BaseException:
            connection.close()
            raise

    def _answer(self, environ: dict[str, Any], start_response, connection: http.client.HTTPConnection,
                answer: http.client.HTTPResponse) -> Iterable[bytes]:
        headers = [(name, value) for name, value in answer.getheaders() if name.lower() not in ANSWER_DROPPED]
        headers += [("Set-Cookie", _cookie_to_browser(value)) for value in answer.headers.get_all("Set-Cookie") or []]
        location = answer.getheader("Location")
        if location is not None:
            headers.append(("Location", self._local_location(location, environ)))
        headers += _desk_headers()
        status = f"{answer.status} {answer.reason}"
        path = environ.get("PATH_INFO", "")
        if 200 <= answer.status < 300 and SIGN_IN_PARAMETERS.fullmatch(path):
            data = answer.read(MAX_SIGN_IN_PARAMETERS_BYTES + 1)
            connection.close()
            refusal = self._weak_sign_in_parameters(data)
            if refusal:
                return _json(start_response, "502 Bad Gateway", {
                    "type": "about:blank", "title": "The desk refused the server's sign-in parameters",
                    "status": 502, "detail": refusal}, content_type="application/problem+json")
            start_response(status, [*headers, ("Content-Length", str(len(data)))])
            return [data]
        if answer.status == 200 and KEYS_ANSWER.fullmatch(path):
            data = answer.read(MAX_KEYS_ANSWER_BYTES + 1)
            connection.close()
            try:
                if len(data) > MAX_KEYS_ANSWER_BYTES:
                    raise trust.Refused("The key directory the server sent is too large to be one.")
                self.pin.check_answer(data)
            except trust.Refused as refusal:
                return _page(start_response, "502 Bad Gateway", "The desk refused the server's key directory",
                             f"{refusal} The desk did not pass it on.")
            start_response(status, [*headers, ("Content-Length", str(len(data)))])
            return [data]
        length = answer.getheader("Content-Length")
        if length is not None and length.isdigit():
            headers.append(("Content-Length", length))
        start_response(status, headers)
        return _streamed(connection, answer)

    def _weak_sign_in_parameters(self, data: bytes) -> str | None:
        """Why a sign-in parameters answer may not reach the page (None: it may): a device/1 answer
        whose Argon2id cost is below the desk's floor, or one the page could not read."""
        try:
            answer = json.loads(data) if len(data) <= MAX_SIGN_IN_PARAMETERS_BYTES else None
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            return "The server's answer is not one the sign-in page reads. Nothing was sent."
        if answer.get("scheme") != "device/1":
            return None  # "password": the page posts the password as a form, which the desk refuses
        opslimit, memlimit = answer.get("opslimit"), answer.get("memlimit")
        lowest = self.lowest_cost
        if (type(opslimit) is not int or type(memlimit) is not int or opslimit < lowest.opslimit
                or memlimit < lowest.memlimit):
            return (f"The server asked this page to protect your password with less work than the desk allows "
                    f"(at least opslimit {lowest.opslimit}, memlimit {lowest.memlimit}), which would let whoever "
                    "runs the server guess it quickly. Nothing was sent. Tell the organisation.")
        return None

    def _local_location(self, location: str, environ: dict[str, Any]) -> str:
        """A redirect to the server's own origin, pointed at the desk instead (the browser stays here)."""
        for origin in (self.api.origin, f"{self.api.scheme}://{self.api.host}"):
            if location == origin or location.startswith(origin + "/"):
                return location[len(origin):] or "/"
        return location


def _host_name(host: str) -> str:
    """The name in a Host header, without its port, lower-cased ("[::1]" keeps its brackets)."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[:host.find("]") + 1] if "]" in host else host
    return host.rsplit(":", 1)[0] if ":" in host else host


def _streamed(connection: http.client.HTTPConnection, answer: http.client.HTTPResponse) -> Iterator[bytes]:
    try:
        while chunk := answer.read(CHUNK):
            yield chunk
    finally:
        connection.close()


def _desk_headers() -> list[tuple[str, str]]:
    return [("Content-Security-Policy", DESK_CSP), ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "no-referrer"), ("X-Frame-Options", "DENY"),
            ("Cross-Origin-Opener-Policy", "same-origin"), ("Cross-Origin-Resource-Policy", "same-origin")]


def _request_headers(environ: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[5:].replace("_", "-").title()
            if name.lower() not in REQUEST_DROPPED:
                yield name, value
    if environ.get("CONTENT_TYPE"):
        yield "Content-Type", environ["CONTENT_TYPE"]


def _content_length(environ: dict[str, Any]) -> int | None:
    value = environ.get("CONTENT_LENGTH", "")
    return int(value) if value.isdigit() else None


def _read_limited(environ: dict[str, Any], limit: int) -> bytes | None:
    length = _content_length(environ)
    if length is not None and length > limit:
        return None
    data = environ["wsgi.input"].read(limit + 1 if length is None else length)
    return None if len(data) > limit else data


# --- plaintext refused --------------------------------------------------------------------------------

def _plaintext_in_query(query: str) -> str | None:
    names = {name for name, _ in parse_qsl(query, keep_blank_values=True)}
    found = sorted(names & PLAINTEXT_FIELDS)
    return found[0] if found else None


def _plaintext_in_form(content_type: str, full_type: str, body: bytes) -> str | None:
    """The first field of the form that would carry plaintext (or a file), or None if it carries none."""
    if content_type == "application/x-www-form-urlencoded":
        names = {name for name, _ in parse_qsl(body.decode("latin-1"), keep_blank_values=True)}
    elif content_type == "multipart/form-data":
        names = set()
        for disposition in re.findall(rb"(?im)^content-disposition:([^\r\n]*)", body):
            field = re.search(rb'(?i)\bname="([^"]*)"', disposition)
            names.add(field.group(1).decode("latin-1") if field else "")
            if re.search(rb"(?i)\bfilename\*?=", disposition):
                return "a file"  # a file posted in a form is a file sent unencrypted
    else:
        return "text/plain"  # no page of the workspace posts one; its fields would be plaintext
    found = sorted(names & PLAINTEXT_FIELDS)
    return found[0] if found else None


def _refused(start_response, field: str) -> list[bytes]:
    return _page(start_response, "400 Bad Request", "The desk refused to send unencrypted text",
                 f"This page tried to send {'a form field named ' + repr(field) if field.isidentifier() else field} "
                 "to the server unencrypted. The desk sends only what the workspace's own scripts encrypted on "
                 "this machine, so nothing was sent. If the page's scripts did not run, reload the page; if this "
                 "happens again, tell the organisation: the page may not be the one it should be.")


# --- cookies ------------------------------------------------------------------------------------------

def _cookie_to_browser(header: str) -> str:
    """A server's Set-Cookie as the browser keeps it on http://127.0.0.1: the name's __Host-/__Secure-
    prefix mapped to the desk's, without Secure (see COOKIE_PREFIXES)."""
    first, *attributes = header.split(";")
    name, equals, value = first.strip().partition("=")
    for server_prefix, desk_prefix in COOKIE_PREFIXES:
        if name.startswith(server_prefix):
            name = desk_prefix + name[len(server_prefix):]
    kept = [attribute.strip() for attribute in attributes
            if attribute.strip() and attribute.strip().split("=")[0].strip().lower() not in ("secure", "domain")]
    return "; ".join([f"{name}{equals}{value}", *kept])


def _cookies_to_server(header: str) -> str:
    sent = []
    for pair in header.split(";"):
        name, equals, value = pair.strip().partition("=")
        if not equals or not SERVER_COOKIE.fullmatch(name):
            continue
        for server_prefix, desk_prefix in COOKIE_PREFIXES:
            if name.startswith(desk_prefix):
                name = server_prefix + name[len(desk_prefix):]
        sent.append(f"{name}={value}")
    return "; ".join(sent)


# --- the desk's own answers ------------------------------------------------------------------------------

def _json(start_response, status: str, value: Any, *, content_type: str = "application/json") -> list[bytes]:
    data = json.dumps(value).encode("utf-8")
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(data))),
                            ("Cache-Control", "no-store"), *_desk_headers()])
    return [data]


def _page(start_response, status: str, title: str, words: str) -> list[bytes]:
    data = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f'<link rel="stylesheet" href="/static/whistle.css"></head><body><main><h1>{escape(title)}</h1>'
            f"<p>{escape(words)}</p></main></body></html>").encode()
    start_response(status, [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(data))),
                            ("Cache-Control", "no-store"), *_desk_headers()])
    return [data]
