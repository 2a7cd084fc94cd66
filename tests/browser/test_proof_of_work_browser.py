"""Proof of work in the reporter's browser (docs/crypto.md 6.15): the report form's JavaScript
fetches a challenge, solves it while the reporter writes, and sends the proof with the report; on
a service whose budget across the whole service is spent (a flood), that proof is what lets the
report in."""
from __future__ import annotations

import json
import re

import pytest

from tests.browser.conftest import SHIPPED_CHANNELS
from tests.e2e.reporter_helpers import call_json
from tests.e2e.server import Server
from whistle import crypto

pytestmark = pytest.mark.browser

CHANNEL = "raise-a-concern"


PROOF_BITS = 12


@pytest.fixture(scope="module")
def flooded(tmp_path_factory):
    """A server whose budget across the whole service is one report a minute (the per-client one stays high).
    The proof is of low difficulty, so that the search never outlasts the form's 5 s wait for it on a
    test machine busy with other servers (the default's cost is measured in bench/flood_bench.py)."""
    server = Server(tmp_path_factory.mktemp("flooded"), limits={
        "whistle.intake.reports_per_minute": 1, "whistle.intake.surge_reports_per_minute": 1,
        "whistle.intake.proof_of_work_bits": PROOF_BITS})
    server.start()
    try:
        channels = re.sub(r"(?m)^(retention_days = \d+)$", r'\1\nguardians = ["demo.guardian"]',
                          SHIPPED_CHANNELS.read_text())
        path = server.directory / "channels.toml"
        path.write_text(channels)
        server.whistle("channels", "load", str(path))
        yield server
    finally:
        server.stop()


def test_the_javascript_form_sends_a_valid_proof_that_gets_the_report_past_a_flood(chromium, flooded):
    # Someone else spends the service's budget for this minute: a report without a proof is refused.
    body = {"channel": CHANNEL, "text": "Junk, to spend the budget.", "answers": {"ongoing": "no"}}
    assert call_json(flooded.port, "POST", "/api/v1/disclosures", body, source="127.0.0.5")[0] == 201
    assert call_json(flooded.port, "POST", "/api/v1/disclosures", body, source="127.0.0.6")[0] == 429

    context = chromium.new_context(viewport={"width": 390, "height": 900}, base_url=f"http://127.0.0.1:{flooded.port}")
    try:
        page = context.new_page()
        challenges, posts = [], []
        page.on("response", lambda response: challenges.append(response.json())
                if response.url.endswith("/api/v1/disclosures/challenge") and response.ok else None)
        page.on("request", lambda request: posts.append(json.loads(request.post_data_buffer))
                if request.method == "POST" and request.url.endswith("/api/v1/disclosures") else None)
        page.goto(f"/report/{CHANNEL}")
        page.wait_for_selector("#key-fingerprint")
        page.fill("#text", "A genuine concern, sent while the service is flooded.")
        page.check("input[name='answers.ongoing'][value='yes']")
        page.get_by_role("button", name="Send securely").click()
        page.wait_for_url(f"**/report/{CHANNEL}/receipt")
        assert page.locator(".receipt-code code").inner_text()
    finally:
        context.close()

    [sent] = posts
    proof = sent["proof"]
    issued = challenges[0]
    assert proof["challenge"] == issued["challenge"], "the challenge the server handed out"
    assert crypto.solves(proof["challenge"], proof["solution"], issued["bits"])
    assert issued["bits"] == PROOF_BITS, "the configured difficulty"
    # The proof is used: the same one does not get another report past the budget.
    again = {**body, "proof": proof}
    assert call_json(flooded.port, "POST", "/api/v1/disclosures", again, source="127.0.0.7")[0] == 429
