"""What a log may never hold, and the scan that finds it (tests/conftest.py over the whole suite's
logging, tests/e2e/test_log_allowlist.py over a live server's output).

The scan looks for shapes, so it catches what no test planted: client addresses (IPv4 and IPv6),
user agent strings, receipts and recovery keys (Crockford groups of four: five or six groups, seven
for a recovery key; eight, a fingerprint of the organisation's public key, is public), bearer
headers, and whatever exact values a test adds (the tokens, passwords and content it used).

Addresses: a log line may name the address the server itself listens on (waitress's "Serving on
http://127.0.0.1:PORT", the debugging mail server's "on 127.0.0.1 port N"): that is configuration,
not a caller. Any other address could be a client's, so it fails the check, whoever it belongs to.
"""
from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass

CROCKFORD = "[0-9A-HJKMNP-TV-Z]"
# Five or six groups: a receipt (version 1 or 2); seven: a recovery key. Not part of a longer chain.
SECRET_CODE = re.compile(rf"(?<![0-9A-Za-z-]){CROCKFORD}{{4}}(?:-{CROCKFORD}{{4}}){{4,6}}(?![0-9A-Za-z-])")
CODE_GROUPS = re.compile(rf"{CROCKFORD}{{4}}(?:-{CROCKFORD}{{4}})*")
IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
IPV6_CANDIDATE = re.compile(r"(?<![0-9A-Za-z:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![0-9A-Za-z:])")
USER_AGENT = re.compile(r"Mozilla/\d|AppleWebKit|Gecko/|Chrome/\d|Safari/\d|python-requests|python-urllib|curl/\d|"
                        r"HeadlessChrome|User-Agent", re.IGNORECASE)
BEARER = re.compile(r"Bearer\s+[A-Za-z0-9_-]{16,}")


@dataclass(frozen=True)
class Finding:
    kind: str
    where: int  # the character offset in the log
    context: str  # the line it is on, the value itself masked

    def __str__(self) -> str:
        return f"{self.kind} at character {self.where}: {self.context}"


def _line_around(text: str, start: int, end: int) -> str:
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line = text[line_start:line_end if line_end != -1 else len(text)]
    masked = line[:start - line_start] + "<…>" + line[end - line_start:]
    return masked[:300]


def findings(text: str, *, secrets: Iterable[tuple[str, str]] = (), own_addresses: Iterable[str] = ("127.0.0.1",),
             near: Iterable[tuple[str, re.Pattern]] = ()) -> list[Finding]:
    """What `text` (a log) holds that it must not. `secrets`: (kind, exact value) a test used
    (tokens, passwords, markers planted in content); `own_addresses`: the server's own listening
    addresses; `near`: (value, pattern) pairs where the value may appear, but never within 200
    characters of a match of the pattern (a case reference and a reporter's action)."""
    found: list[Finding] = []

    def add(kind: str, match_start: int, match_end: int) -> None:
        found.append(Finding(kind, match_start, _line_around(text, match_start, match_end)))

    own = set(own_addresses)
    for match in IPV4.finditer(text):
        try:
            ipaddress.IPv4Address(match.group(0))
        except ValueError:
            continue  # a version number such as 1.2.3.4000, not an address
        if match.group(0) not in own:
            add("an IPv4 address", match.start(), match.end())
    for match in IPV6_CANDIDATE.finditer(text):
        if match.group(0).count(":") < 2:
            continue
        try:
            address = ipaddress.IPv6Address(match.group(0))
        except ValueError:
            continue  # a time of day, 12:34:56, is not an address
        if match.group(0) not in own and str(address) not in own:
            add("an IPv6 address", match.start(), match.end())
    for match in USER_AGENT.finditer(text):
        add("a user agent", match.start(), match.end())
    for match in CODE_GROUPS.finditer(text):
        groups = match.group(0).count("-") + 1
        if groups in (5, 6, 7) and SECRET_CODE.fullmatch(match.group(0)):
            add("a receipt or recovery key", match.start(), match.end())
    for match in BEARER.finditer(text):
        add("a bearer token", match.start(), match.end())
    for kind, value in secrets:
        if not value:
            continue
        start = text.find(value)
        while start != -1:
            add(kind, start, start + len(value))
            start = text.find(value, start + 1)
    for value, pattern in near:
        start = text.find(value)
        while start != -1:
            window = text[max(0, start - 200):start + len(value) + 200]
            if pattern.search(window):
                add("a case reference near a reporter's action", start, start + len(value))
            start = text.find(value, start + 1)
    return sorted(found, key=lambda finding: finding.where)
