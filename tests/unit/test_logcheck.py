"""The log scan (tests/logcheck.py) finds what it is for, and not what merely looks alike."""
from __future__ import annotations

import re

from tests import logcheck

RECEIPT = "ABCD-EFGH-JKMN-PQRS-TVWX"


def kinds(text: str, **options) -> list[str]:
    return [finding.kind for finding in logcheck.findings(text, **options)]


def test_client_addresses_are_found_and_the_servers_own_is_not():
    assert kinds("INFO [waitress] Serving on http://127.0.0.1:6543") == []
    assert kinds("a request from 10.0.0.7 at 12:34:56,789") == ["an IPv4 address"]
    assert set(kinds("from 2001:db8::1 and ::ffff:10.0.0.1")) == {"an IPv4 address", "an IPv6 address"}
    assert kinds("at 12:34:56 on 2026-03-31, version 1.2.3") == []


def test_receipts_and_recovery_keys_are_found_and_a_fingerprint_is_not():
    assert kinds(f"receipt {RECEIPT}") == ["a receipt or recovery key"]
    assert kinds(f"receipt {RECEIPT}-2345") == ["a receipt or recovery key"]  # version 2
    assert kinds(f"recovery {RECEIPT}-2345-6789") == ["a receipt or recovery key"]
    assert kinds(f"fingerprint {RECEIPT}-2345-6789-ABCD") == []  # the organisation key's: public
    assert kinds("a case ABCDE-FGHJK, a date 2026-03-31-2026") == []


def test_user_agents_bearer_tokens_and_planted_values_are_found():
    assert kinds("Mozilla/5.0 (X11) Gecko/20100101") == ["a user agent", "a user agent"]
    assert kinds("Authorization: Bearer abcdefghijklmnopqrstuvwxyz012345") == ["a bearer token"]
    assert kinds("the text MARKER123 twice MARKER123", secrets=[("a marker", "MARKER123")]) == ["a marker"] * 2


def test_a_case_reference_is_found_only_near_a_reporters_action():
    near = [("ABCDE-FGHJK", re.compile("mailbox"))]
    assert kinds("guardian opened ABCDE-FGHJK", near=near) == []
    assert kinds("mailbox login for ABCDE-FGHJK", near=near) == ["a case reference near a reporter's action"]
