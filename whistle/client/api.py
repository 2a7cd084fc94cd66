"""The reporter API over HTTP (http.client): JSON calls, raw bodies, streamed downloads, problems.

No cookies, no redirects followed, no proxy taken from the environment: the client talks to the
address it was given and nothing else.
"""
from __future__ import annotations

import http.client
import ipaddress
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

USER_AGENT = "whistle-report"
# A connection that fails or a server that stops answering is an error the caller can retry.
TRANSPORT_ERRORS = (OSError, http.client.HTTPException)


class ApiError(Exception):
    """The server answered with an error: `status` and its RFC 9457 problem (or {})."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        self.status = status
        self.problem = problem
        super().__init__(self.words())

    @property
    def type(self) -> str:
        return str(self.problem.get("type", ""))

    def words(self) -> str:
        title = self.problem.get("title") or f"the server answered {self.status}"
        detail = self.problem.get("detail")
        said = f"{title}: {detail}" if detail and detail != title else str(title)
        errors = self.problem.get("errors")
        if isinstance(errors, dict) and errors:
            said += "".join(f"\n  {name}: {message}" for name, message in errors.items())
        return said


MAX_ANSWER_BYTES = 64 * 1024 * 1024


def _private_path(host: str) -> bool:
    """Whether plain HTTP to `host` stays off the network (this machine) or is encrypted by Tor."""
    if host == "localhost" or host.endswith(".onion"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class Api:
    """One server, given by its base URL (https://speakup.example.org)."""

    url: str
    timeout: float = 60.0
    token: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) address: {self.url!r}")
        if parts.query or parts.fragment or parts.username or parts.password:
            raise ValueError("give the server's address without a query, fragment or user name")
        if parts.scheme == "http" and not _private_path(parts.hostname):
            # The lookup value opens a session on the case, and the session token is its key: over
            # plain HTTP anyone on the way could take both.
            raise ValueError(f"{self.url} is plain http: use https (http only to this machine or a .onion service)")
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.prefix = parts.path.rstrip("/")

    @property
    def origin(self) -> str:
        """scheme://host:port, what the client keeps its state under."""
        return f"{self.scheme}://{self.host}:{self.port}"

    def _connection(self) -> http.client.HTTPConnection:
        if self.scheme == "https":
            return http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout)
        return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return {**headers, **(extra or {})}

    def request(self, method: str, path: str, *, body: bytes | None = None,
                content_type: str | None = None) -> tuple[int, bytes]:
        """(status, body) of one request; raises a TRANSPORT_ERRORS error if it does not complete."""
        connection = self._connection()
        try:
            headers = self._headers({"Content-Type": content_type} if content_type else None)
            connection.request(method, self.prefix + path, body=body, headers=headers)
            response = connection.getresponse()
            # A JSON answer is small (the largest, the envelopes, is the case's items): a server
            # that sends more is not one to read to the end.
            raw = response.read(MAX_ANSWER_BYTES + 1)
            if len(raw) > MAX_ANSWER_BYTES:
                raise ApiError(502, {"title": "Answer too large", "detail": "the server's answer is too large to read"})
            return response.status, raw
        finally:
            connection.close()

    def call(self, method: str, path: str, data: Any = None) -> Any:
        """A JSON call: the decoded answer of a 2xx (None for an empty body), else ApiError."""
        body = None if data is None else json.dumps(data, ensure_ascii=False).encode("utf-8")
        status, raw = self.request(method, path, body=body, content_type="application/json" if body else None)
        return _answer(status, raw)

    def put_bytes(self, path: str, data: bytes) -> Any:
        status, raw = self.request("PUT", path, body=data, content_type="application/octet-stream")
        return _answer(status, raw)

    @contextmanager
    def stream(self, path: str) -> Iterator[http.client.HTTPResponse]:
        """A GET whose body is read as it arrives (`.read(n)`); ApiError unless 200."""
        connection = self._connection()
        try:
            connection.request("GET", self.prefix + path, headers=self._headers({"Accept": "*/*"}))
            response = connection.getresponse()
            if response.status != 200:
                _answer(response.status, response.read())
                raise ApiError(response.status, {})  # a 2xx other than 200: not what a download answers
            yield response
        finally:
            connection.close()


def path(*segments: str | int) -> str:
    """An API path from segments, each quoted: path("channels", slug, "keys")."""
    return "/api/v1/" + "/".join(quote(str(segment), safe="") for segment in segments)


def _answer(status: int, raw: bytes) -> Any:
    try:
        value = json.loads(raw) if raw else None
    except ValueError:
        value = None
    if 200 <= status < 300:
        if raw and value is None:
            raise ApiError(status, {"title": "The server's answer is not JSON"})
        return value
    raise ApiError(status, value if isinstance(value, dict) else {})
