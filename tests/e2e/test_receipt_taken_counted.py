"""A case built on a client whose lookup value finds a case already is refused (receipt-taken) and
counted as a wrong receipt in the service-wide budget -- committed for real, through waitress, so the
count is not lost with the refused request's transaction."""
from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from tests.e2e.reporter_helpers import call_json
from tests.e2e.server import ROOT
from whistle import crypto
from whistle.client import report


def _receipt_failures(server) -> int:
    with sqlite3.connect(f"file:{server.directory / 'var' / 'whistle.sqlite'}?mode=ro", uri=True) as database:
        row = database.execute("SELECT count FROM throttles WHERE key = 'receipt-failures'").fetchone()
    return row[0] if row else 0


def test_a_taken_lookup_value_is_counted_and_the_count_is_committed(running_server):
    server = running_server
    server.whistle("channels", "load", str(ROOT / "config" / "channels.toml"))
    status, published = call_json(server.port, "GET", "/api/v1/channels/raise-a-concern/keys")
    assert status == 200, published
    directory = crypto.open_directory(published, crypto.directory.b64decode_exact(published["public_key"], 32),
                                      now=datetime.now(UTC))
    status, channels = call_json(server.port, "GET", "/api/v1/channels")
    channel = next(entry for entry in channels["channels"] if entry["slug"] == "raise-a-concern")
    checked = report.check_report(channel, text="The fire exit is locked.", answers={"ongoing": ["yes"]},
                                  identity_mode="anonymous", identity={}, left_out=(), directory=directory)
    first = report.build_case(checked, directory)
    status, answer = call_json(server.port, "POST", "/api/v1/disclosures", first.body)
    assert status == 201, answer
    assert _receipt_failures(server) == 0

    again = report.build_case(checked, directory)  # a new case, new reference ...
    again.body["reporter"] = first.body["reporter"]  # ... with a lookup value that finds the first one
    status, answer = call_json(server.port, "POST", "/api/v1/disclosures", again.body)
    assert status == 409 and answer["type"] == "/api/v1/problems/receipt-taken", answer
    assert _receipt_failures(server) == 1
