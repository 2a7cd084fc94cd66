"""whistle.throttles.client_hash: how a client is told apart without anyone being named."""
from __future__ import annotations

from whistle.clock import Clock
from whistle.throttles import client_hash


def test_one_address_gives_unlinkable_hashes_for_different_purposes():
    environ, clock = {"REMOTE_ADDR": "203.0.113.9"}, Clock()
    reports, sign_in = client_hash(environ, clock, "reports"), client_hash(environ, clock, "sign-in")
    assert reports and sign_in and reports != sign_in
    assert client_hash(environ, clock, "reports") == reports, "the same client, the same row, within the hour"


def test_loopback_and_missing_addresses_are_no_client_and_ipv6_counts_by_its_64():
    clock = Clock()
    for address in ("", "127.0.0.1", "::1", "not an address"):
        assert client_hash({"REMOTE_ADDR": address}, clock, "reports") is None
    assert client_hash({}, clock, "reports") is None
    one, other = (client_hash({"REMOTE_ADDR": a}, clock, "reports") for a in ("2001:db8:1:2::5", "2001:db8:1:2::9"))
    assert one == other
    assert client_hash({"REMOTE_ADDR": "2001:db8:1:3::5"}, clock, "reports") != one
