"""The review's swap attacks on the browser path, in a real Chromium against a real server: a
database writer replaces a guardian's, a case's or a team's public key (or the reporter's grant with
a case key of their own), and the reporter, with JavaScript on, sends a report, a reply with a file,
or who they are. Every value any request body carries is tried with the attacker's private key, and
so is everything the server stored: none opens. Where the reporter's page is the one to notice, it
refuses in plain words and sends nothing.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest

from tests.browser.conftest import HEIGHT, SHIPPED_CHANNELS
from tests.browser.test_e2e_reporter import CHANNEL, Wire, marker, write_report
from tests.e2e.reporter_helpers import call_json
from tests.e2e.server import Server
from tests.e2e.swaps import (
    ATTACKER,
    count,
    forge_team_key,
    replace_reporter_grant,
    sent_to,
    staff_headers,
    stored_to,
    swap_case_key,
    swap_guardian_key,
)
from tests.e2e.test_workspace import enrol

pytestmark = pytest.mark.browser

REFUSED_REPLY = "Your message was not sent"
REFUSED_OPEN = "Your report could not be opened safely: its keys do not match your receipt."


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    """The shipped channels, each received by the demo guardian; alex receives the staff channel too."""
    server = Server(tmp_path_factory.mktemp("swap-site"))
    server.start()
    try:
        channels = re.sub(r"(?m)^(retention_days = \d+)$", r'\1\nguardians = ["demo.guardian"]',
                          SHIPPED_CHANNELS.read_text())
        (server.directory / "channels.toml").write_text(channels)
        server.whistle("channels", "load", str(server.directory / "channels.toml"))
        server.alex = enrol(server, "alex", "--channel", CHANNEL)
        yield server
    finally:
        server.stop()


@pytest.fixture
def page(chromium, server):
    context = chromium.new_context(viewport={"width": 1280, "height": HEIGHT}, java_script_enabled=True,
                                   base_url=f"http://127.0.0.1:{server.port}")
    yield context.new_page()
    context.close()



def send_report(page, text: str) -> tuple[str, str]:
    """A report sent with JavaScript on: (receipt, case reference)."""
    write_report(page, text, marker("WHERE"), [])
    page.get_by_role("button", name="Send securely").click()
    page.wait_for_url(f"**/report/{CHANNEL}/receipt")
    return page.locator(".receipt-code code").inner_text(), page.locator("[data-slot='case-ref']").inner_text()


def open_mailbox(page, receipt: str) -> None:
    page.goto("/mailbox")
    page.fill("#receipt", receipt)
    page.get_by_role("button", name="Open my report").click()


def bodies_since(wire: Wire, start: int) -> list[bytes]:
    return [body for _, _, body in wire.bodies[start:]]


def writes_since(wire: Wire, start: int) -> list[str]:
    return [f"{method} {url}" for method, url, _ in wire.bodies[start:] if method != "GET"
            and not url.endswith("/api/v1/reporter/session")]


def test_a_guardian_key_swapped_before_the_report_gets_no_grant_and_the_guardian_reads_it(page, server):
    text = marker("TEXT-swapped-guardian")
    genuine = swap_guardian_key(server, "alex", ATTACKER.public)
    try:
        # The next change of guardians signs a new directory: it must list alex's signed key, not the swapped one.
        enrol(server, f"blair{len(text)}", "--channel", CHANNEL)
        wire = Wire(page)
        receipt, ref = send_report(page, text)
    finally:
        swap_guardian_key(server, "alex", genuine)

    [body] = [json.loads(body) for method, url, body in wire.bodies
              if method == "POST" and url.endswith("/api/v1/disclosures")]
    alex_id = next(int(key) for key, entry in published_guardians(server).items() if entry["username"] == "alex")
    assert alex_id in {grant.get("account_id") for grant in body["grants"]}, "alex is a recipient"
    assert sent_to(ATTACKER, bodies_since(wire, 0)) == []
    assert stored_to(server, ref, ATTACKER) == []
    assert receipt
    # The key the directory lists is alex's own: alex reads the report.
    status, case = call_json(server.port, "GET", f"/api/v1/cases/{ref}", headers=staff_headers(server, server.alex),
                             source="127.0.0.3")
    assert status == 200, case
    assert case["text"] == text


def published_guardians(server: Server) -> dict:
    status, published = call_json(server.port, "GET", f"/api/v1/channels/{CHANNEL}/keys")
    assert status == 200
    return json.loads(published["document"])["guardians"] if isinstance(published["document"], str) \
        else published["document"]["guardians"]


@pytest.mark.parametrize("attack", ["case key", "grant and case key"])
def test_a_case_key_swapped_while_the_mailbox_is_open_gets_no_reply_or_file(page, server, tmp_path, attack):
    reply, file_body = marker("REPLY-to-the-attacker"), marker("FILE-to-the-attacker")
    (tmp_path / "notes.txt").write_text(file_body)
    wire = Wire(page)
    receipt, ref = send_report(page, marker("TEXT-case-swap"))
    open_mailbox(page, receipt)
    page.wait_for_selector("#what-you-sent")
    items, files = count(server, "case_items", ref), count(server, "attachments", ref)

    (swap_case_key if attack == "case key" else replace_reporter_grant)(server, ref)
    swapped = len(wire.bodies)
    page.fill("#text", reply)
    page.set_input_files("#reply-files", [str(tmp_path / "notes.txt")])
    page.get_by_role("button", name="Send securely").click()
    page.wait_for_selector("#error-text, #reply-status:text('Sent.')")  # refused, or (wrongly) sent
    assert sent_to(ATTACKER, bodies_since(wire, swapped)) == []
    refusal = page.locator("#error-text")
    assert REFUSED_REPLY in refusal.inner_text() and "tell the organisation" in refusal.inner_text()
    assert page.input_value("#text") == reply, "the words stay on the page"

    # Coming back with the receipt is refused too, before anything is shown.
    open_mailbox(page, receipt)
    page.locator("#error-receipt").wait_for()
    assert REFUSED_OPEN in page.inner_text("#error-receipt")
    assert page.locator("#what-you-sent").count() == 0

    assert sent_to(ATTACKER, bodies_since(wire, swapped)) == []
    assert writes_since(wire, swapped) == [], "nothing was sent"
    assert wire.carrying(reply) == [] and wire.carrying(file_body) == []
    assert (count(server, "case_items", ref), count(server, "attachments", ref)) == (items, files)
    assert stored_to(server, ref, ATTACKER) == []


def test_a_team_key_swapped_while_the_mailbox_is_open_gets_no_identity(page, server):
    name = marker("NAME-to-the-attacker")
    wire = Wire(page)
    receipt, ref = send_report(page, marker("TEXT-team-swap"))
    open_mailbox(page, receipt)
    page.wait_for_selector("#identity-form")

    forge_team_key(server, ref)
    swapped = len(wire.bodies)
    page.check("#identity-form input[name='identity_mode'][value='confidential']")
    page.fill("[id='identity.name']", name)
    page.get_by_role("button", name="Tell them who I am").click()
    page.wait_for_selector("#identity-status:text('could not be'), #identity :text('You told us who you are.')")
    assert sent_to(ATTACKER, bodies_since(wire, swapped)) == []
    status = page.locator("#identity-status").inner_text()
    assert "Your details were not sent" in status and "tell the organisation" in status

    assert sent_to(ATTACKER, bodies_since(wire, swapped)) == []
    assert writes_since(wire, swapped) == [], "nothing was sent"
    assert wire.carrying(name) == []
    assert count(server, "case_items", ref, "kind = 'identity'") == 0
    assert stored_to(server, ref, ATTACKER) == []
