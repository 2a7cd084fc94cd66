"""The limits per client through the real server: waitress sets REMOTE_ADDR from the connection,
or, behind the local proxy (the production .ini's trusted_proxy lines), from the X-Forwarded-For
it sets; a header from anyone else is dropped. No address reaches the disk or the log."""
from __future__ import annotations

from tests.e2e.reporter_helpers import call_json
from tests.e2e.server import Server

REPORT = {"channel": "raise-a-concern", "text": "The fire door on level 2 is propped open.", "answers": {"ongoing": "yes"}}
PROXY_LINES = ("trusted_proxy = 127.0.0.1\ntrusted_proxy_count = 1\n"
               "trusted_proxy_headers = x-forwarded-proto x-forwarded-for\n")


def report(server: Server, source: str, forwarded_for: str | None = None) -> int:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return call_json(server.port, "POST", "/api/v1/disclosures", REPORT, headers=headers, source=source)[0]


def test_each_client_has_its_own_budget_and_its_address_is_kept_nowhere(tmp_path):
    server = Server(tmp_path, limits={"whistle.intake.reports_per_client": 2})
    server.ini.write_text(server.ini.read_text().replace("[server:main]\n", "[server:main]\n" + PROXY_LINES, 1))
    server.start()
    try:
        # Straight from a browser: its connection's address.
        assert [report(server, "127.0.0.2") for _ in range(3)] == [201, 201, 429]
        assert report(server, "127.0.0.4") == 201

        # Through the proxy on this host: the address it forwards, one client per address.
        assert [report(server, "127.0.0.1", "203.0.113.77") for _ in range(3)] == [201, 201, 429]
        assert report(server, "127.0.0.1", "198.51.100.23") == 201

        # Anyone else's X-Forwarded-For is dropped: 127.0.0.2 is still the client that spent its budget.
        assert report(server, "127.0.0.2", "192.0.2.1") == 429
    finally:
        server.stop()

    log = (server.directory / "server.log").read_bytes()
    for address in (b"203.0.113.77", b"198.51.100.23", b"192.0.2.1"):
        assert address not in log
        for path in server.files_at_rest():
            assert address not in path.read_bytes(), f"{address!r} in {path}"
