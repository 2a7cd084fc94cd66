"""Review: one request with a long Cookie header holds the whole server for seconds to minutes.

Every page asks who is calling, which parses the Cookie header with WebOb's cookie regex; its
time grows with the square of the header's length (8 KB: about half a second, 16 KB: two, 100 KB:
over a minute here), and the regex holds the GIL, so every other request of the process waits.
nginx's default header buffer caps a header at 8 KB, but the onion-service sample offers pointing
Tor straight at waitress, which takes headers up to 256 KB: a handful of anonymous requests
keeps the speak-up service down for as long as someone wants it down.
"""
from __future__ import annotations

import time

COOKIE_BYTES = 24 * 1024  # under waitress's 256 KB header limit, a tenth of what it accepts
BUDGET_SECONDS = 1.0


def test_a_long_cookie_header_is_refused_or_parsed_quickly(testapp):
    started = time.perf_counter()
    response = testapp.get("/", headers={"Cookie": "a" * COOKIE_BYTES}, expect_errors=True)
    took = time.perf_counter() - started
    assert response.status_int < 500
    assert took < BUDGET_SECONDS, f"a {COOKIE_BYTES}-byte Cookie header took {took:.1f} s of the server's time"
