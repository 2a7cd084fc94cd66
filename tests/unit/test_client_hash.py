"""whistle.throttles.client_hash: how a client is told apart without anyone being named, the same
way on every node."""
from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

from whistle.clock import Clock, ManualClock
from whistle.throttles import client_hash

SESSION_KEY = bytes(range(32))


def test_one_address_gives_unlinkable_hashes_for_different_purposes():
    environ, clock = {"REMOTE_ADDR": "203.0.113.9"}, Clock()
    reports = client_hash(environ, clock, "reports", SESSION_KEY)
    sign_in = client_hash(environ, clock, "sign-in", SESSION_KEY)
    assert reports and sign_in and reports != sign_in
    assert client_hash(environ, clock, "reports", SESSION_KEY) == reports, "the same client, the same row, this hour"


def test_loopback_and_missing_addresses_are_no_client_and_ipv6_counts_by_its_64():
    clock = Clock()
    for address in ("", "127.0.0.1", "::1", "not an address"):
        assert client_hash({"REMOTE_ADDR": address}, clock, "reports", SESSION_KEY) is None
    assert client_hash({}, clock, "reports", SESSION_KEY) is None
    one, other = (client_hash({"REMOTE_ADDR": a}, clock, "reports", SESSION_KEY)
                  for a in ("2001:db8:1:2::5", "2001:db8:1:2::9"))
    assert one == other
    assert client_hash({"REMOTE_ADDR": "2001:db8:1:3::5"}, clock, "reports", SESSION_KEY) != one


def test_another_process_with_the_same_key_file_hashes_a_client_the_same_so_nodes_share_its_budget():
    # Each node is its own process: a hash that depended on anything in a process's memory would
    # give a client one budget per node.
    moment = datetime(2025, 12, 5, 12, 30, tzinfo=UTC)
    here = client_hash({"REMOTE_ADDR": "203.0.113.9"}, ManualClock(moment), "reports", SESSION_KEY)
    program = ("from datetime import datetime\n"
               "from whistle.clock import ManualClock\n"
               "from whistle.throttles import client_hash\n"
               f"clock = ManualClock(datetime.fromisoformat({moment.isoformat()!r}))\n"
               "print(client_hash({'REMOTE_ADDR': '203.0.113.9'}, clock, 'reports', bytes(range(32))))\n")
    there = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True).stdout.strip()
    assert here == there == "1bdb2850e2bd5622ba9361e0"  # docs/crypto.md 6.17


def test_a_new_hour_gives_a_new_hash_and_another_session_key_another():
    clock = ManualClock(datetime(2025, 12, 5, 12, 59, tzinfo=UTC))
    environ = {"REMOTE_ADDR": "203.0.113.9"}
    before = client_hash(environ, clock, "reports", SESSION_KEY)
    assert client_hash(environ, clock, "reports", bytes(32)) != before
    clock.advance(timedelta(minutes=1))
    assert client_hash(environ, clock, "reports", SESSION_KEY) != before
