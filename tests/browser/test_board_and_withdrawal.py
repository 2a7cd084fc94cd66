"""The reporter's say in a real Chromium. With JavaScript off, at a phone's and a desktop's width:
the public "you said, we did" board (reached from the start page), and a reporter withdrawing their
report from the mailbox; screenshots go where the `screenshots` fixture prints (board-*.png,
withdraw-*.png), and axe-core finds nothing to fix on either page. With JavaScript on: the mailbox
answers "would you speak up again?" with a comment encrypted on the device, agrees to be quoted and
withdraws another report, and the guardian reads the comment decrypted on their own device."""
from __future__ import annotations

import re
import secrets
import subprocess
import time
from dataclasses import dataclass

import pyotp
import pytest

from tests.browser.axe import axe_violations, describe
from tests.browser.conftest import WIDTHS
from tests.browser.test_e2e_reporter import Wire
from tests.e2e.reporter_helpers import call_json
from tests.e2e.server import BIN

pytestmark = pytest.mark.browser

IDEAS = "ideas-for-improvement"
LEAD_PASSWORD = "seven quiet lanterns over the harbour wall"
ENTRIES = [
    {"title": "Handover notes for agency staff",
     "you_said": "Agency nurses starting a night shift were not shown the handover notes, so they did not know "
                 "which patients needed checks through the night.",
     "we_did": "Every ward now prints the handover sheet for agency staff at the start of each shift, and the "
               "nurse in charge goes through it with them."},
    {"title": "Dimmable lights on the wards",
     "you_said": "Bright corridor lights kept patients on ward 7 awake, and staff had no way to turn them down.",
     "we_did": "We fitted dimmable lights on all six wards in March. Night staff set them low after 10 pm."},
]


@dataclass
class Board:
    entries: list[dict]  # as GET /api/v1/board gives them, newest first
    receipts: list[str]  # of the ideas, in the order of ENTRIES


@dataclass
class Lead:
    headers: dict  # a bearer session of board.lead (server-assisted: it holds the key)
    secret: str  # their TOTP secret, for a sign-in on the device later


def api(site, method: str, path: str, data=None, headers=None) -> dict:
    status, body = call_json(site.port, method, path, data, headers)
    assert status in (200, 201, 204), (path, status, body)
    return body


@pytest.fixture(scope="module")
def lead(site) -> Lead:
    """An improvement lead of the ideas channel: an account of its own, so that no other test's
    authenticator code is spent here."""
    enrolled = subprocess.run([str(BIN / "whistle"), "-c", str(site.ini), "guardian", "add", "board.lead",
                               "--channel", IDEAS, "--password-stdin"], input=LEAD_PASSWORD + "\n",
                              capture_output=True, text=True, check=True, timeout=120, env=site.env).stdout
    secret = re.search(r"TOTP secret:\s+(\S+)", enrolled).group(1)
    token = api(site, "POST", "/api/v1/staff/session",
                {"username": "board.lead", "password": LEAD_PASSWORD, "otp": pyotp.TOTP(secret).now()})["token"]
    return Lead(headers={"Authorization": f"Bearer {token}"}, secret=secret)


@pytest.fixture(scope="module")
def board(site, lead) -> Board:
    """The lead publishes two entries about two ideas, whose reporters agreed to be quoted; the
    first idea's case is closed as well."""
    receipts = []
    for entry in ENTRIES:
        idea = api(site, "POST", "/api/v1/disclosures", {"channel": IDEAS, "text": entry["you_said"], "answers": {}})
        reporter = {"Authorization": "Bearer " + api(site, "POST", "/api/v1/reporter/session",
                                                     {"receipt": idea["receipt"]})["token"]}
        api(site, "POST", "/api/v1/reporter/board-consent", {"consent": True}, reporter)
        api(site, "POST", f"/api/v1/cases/{idea['case']}/board", entry, lead.headers)
        receipts.append(idea["receipt"])
        if len(receipts) == 1:
            for step in ({"to": "acknowledged"}, {"to": "assessing"},
                         {"to": "closed", "substantiated": "yes", "changes": ["process"], "learned": "Done."}):
                api(site, "POST", f"/api/v1/cases/{idea['case']}/transitions", step, lead.headers)
    return Board(entries=api(site, "GET", "/api/v1/board")["entries"], receipts=receipts)


def no_sideways_scrolling(page) -> bool:
    page.wait_for_load_state("load")  # measured before the stylesheet applies, anything may overflow
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("width", WIDTHS)
def test_the_public_board_without_javascript(open_page, screenshots, board, width):
    page = open_page(width)
    page.goto("/")
    page.get_by_role("link", name="Read the “you said, we did” board").click()
    page.wait_for_url("**/board")
    assert page.locator("script").count() == 0
    titles = page.locator("article.board-entry h2").all_inner_texts()
    assert titles[:2] == [ENTRIES[1]["title"], ENTRIES[0]["title"]], "newest first"
    first = page.locator(f"#entry-{board.entries[0]['id']}")
    assert first.locator(".board-said h3").inner_text().lower() == "you said"
    assert first.locator(".board-did h3").inner_text().lower() == "we did"
    assert first.locator(".board-said p").inner_text() == ENTRIES[1]["you_said"]
    assert first.locator(".board-did p").inner_text() == ENTRIES[1]["we_did"]
    assert re.fullmatch(r"[A-Z][a-z]+ \d{4}", first.locator(".board-when").inner_text()), "the month, no more"
    assert no_sideways_scrolling(page)
    path = screenshots(page, "board")
    print(f"board screenshot: {path}")

    # The reporter of the first idea, its case closed: asked whether they would speak up again, and
    # told that their idea was acted on, with the way to the entry.
    page.goto("/mailbox")
    page.fill("#receipt", board.receipts[0])
    page.get_by_role("button", name="Open my report").click()
    page.wait_for_url("**/mailbox/case")
    assert "Would you speak up again?" in page.inner_text("#speak-up")
    assert "Your idea was acted on: " + ENTRIES[0]["title"] in page.inner_text("#board")
    assert no_sideways_scrolling(page)
    print(f"mailbox screenshot: {screenshots(page, 'board-mailbox')}")
    page.get_by_role("link", name=ENTRIES[0]["title"]).click()
    page.wait_for_url(f"**/board#entry-{board.entries[1]['id']}")


@pytest.mark.parametrize("width", WIDTHS)
def test_a_reporter_withdraws_without_javascript(open_page, screenshots, site, width):
    sent = api(site, "POST", "/api/v1/disclosures", {"channel": "raise-a-concern",
                                                      "text": "The fire door on level 2 is propped open.", "answers": {"ongoing": "yes"}})
    page = open_page(width)
    page.goto("/mailbox")
    page.fill("#receipt", sent["receipt"])
    page.get_by_role("button", name="Open my report").click()
    page.wait_for_url("**/mailbox/case")
    page.get_by_role("link", name="Withdraw my report").click()
    page.wait_for_url("**/mailbox/case/withdraw")
    warning = page.locator("#withdraw-warning").inner_text()
    assert "stop working on it" in warning and "You cannot undo this." in warning
    assert no_sideways_scrolling(page)
    print(f"withdraw screenshot: {screenshots(page, 'withdraw-warning')}")

    page.get_by_role("button", name="Withdraw my report").click()  # not confirmed: refused, nothing done
    assert "Tick the box" in page.locator("#field-confirm").inner_text()
    page.get_by_label("I understand, and I want to withdraw my report").check()
    page.get_by_role("button", name="Withdraw my report").click()
    page.wait_for_url("**/mailbox/case#withdrawn")
    assert "You withdrew this report on" in page.locator("#withdrawn").inner_text()
    assert page.locator("#message-form").count() == 0 and page.locator("#withdraw").count() == 0
    assert no_sideways_scrolling(page)
    print(f"withdrawn screenshot: {screenshots(page, 'withdraw-done')}")
    assert api(site, "GET", "/api/v1/reporter/case", headers={"Authorization": "Bearer " + api(
        site, "POST", "/api/v1/reporter/session", {"receipt": sent["receipt"]})["token"]})["withdrawn_on"]


@pytest.mark.parametrize("width", WIDTHS)
def test_the_board_and_the_withdrawal_page_have_no_accessibility_violations(open_page, site, board, width):
    page = open_page(width, javascript=True, bypass_csp=True)
    found = {}
    page.goto("/board")
    found["board"] = axe_violations(page)
    sent = api(site, "POST", "/api/v1/disclosures", {"channel": "raise-a-concern", "text": "Checking the pages.", "answers": {"ongoing": "yes"}})
    page.goto("/mailbox")
    page.fill("#receipt", sent["receipt"])
    page.get_by_role("button", name="Open my report").click()
    page.wait_for_url("**/mailbox/case")
    found["mailbox"] = axe_violations(page)
    page.goto("/mailbox/case/withdraw")
    found["withdraw"] = axe_violations(page)
    found = {name: violations for name, violations in found.items() if violations}
    assert not found, "\n\n".join(f"{name}:\n{describe(v)}" for name, v in found.items())


def send_on_the_device(page, channel: str, text: str, answers: dict[str, str] | None = None) -> tuple[str, str]:
    """The report form with JavaScript: encrypted on the device; (receipt, case reference)."""
    page.goto(f"/report/{channel}")
    page.wait_for_selector("#key-fingerprint")  # the page is ready to encrypt
    page.fill("#text", text)
    for name, value in (answers or {}).items():
        page.check(f"input[name='answers.{name}'][value='{value}']")
    page.get_by_role("button", name="Send securely").click()
    page.wait_for_url("**/receipt")
    receipt, ref = page.locator(".receipt-code code").inner_text(), page.locator("[data-slot='case-ref']").inner_text()
    page.get_by_role("button", name="Leave").click()
    return receipt, ref


def open_on_the_device(page, receipt: str) -> None:
    page.goto("/mailbox")
    page.fill("#receipt", receipt)
    page.get_by_role("button", name="Open my report").click()
    page.wait_for_selector("#what-you-sent")


def test_with_javascript_the_comment_is_encrypted_on_both_devices(open_page, site, lead, screenshots):
    comment = "COMMENT-they-listened-" + secrets.token_hex(6)
    page = open_page(1280, javascript=True)
    wire = Wire(page)
    receipt, ref = send_on_the_device(page, IDEAS, "Quieter trolleys at night.")
    for step in ({"to": "acknowledged"}, {"to": "assessing"},
                 {"to": "closed", "substantiated": "yes", "changes": ["process"], "learned": "New wheels."}):
        api(site, "POST", f"/api/v1/cases/{ref}/transitions", step, lead.headers)

    open_on_the_device(page, receipt)
    assert page.locator("#encryption-mode").inner_text().startswith("Encrypted on this device")
    assert "Would you speak up again?" in page.inner_text("#speak-up")
    page.check("#speak-up-form input[name='answer'][value='yes']")
    page.fill("#comment", comment)
    page.get_by_role("button", name="Send my answer").click()
    page.wait_for_selector("#speak-up-status:text('Sent.')")
    assert "You answered: Yes" in page.inner_text("#speak-up")
    page.check("#board-consent-form input[name='consent']")
    page.get_by_role("button", name="Save my choice").click()
    page.wait_for_selector("#board-status:text('Sent.')")
    screenshots(page, "speak-up-on-device")
    assert wire.carrying(comment) == [], "the comment left the browser only encrypted"
    assert any(url.endswith("/api/v1/reporter/speak-up") for _, url, _ in wire.bodies)

    # Another report, open, withdrawn on the device.
    receipt, other = send_on_the_device(page, IDEAS, "A bench by the car park.")
    open_on_the_device(page, receipt)
    page.get_by_role("button", name="Withdraw my report").click()
    page.get_by_role("button", name="Withdraw my report").click()  # not confirmed: refused
    assert "Tick the box" in page.inner_text("#withdraw-form")
    page.check("#withdraw-form input[name='confirm']")
    page.get_by_role("button", name="Withdraw my report").click()
    page.wait_for_selector("#withdrawn")
    assert page.locator("#message-form").count() == 0
    status, case = call_json(site.port, "GET", f"/api/v1/cases/{other}", headers=lead.headers)
    assert status == 200 and case["status"] == "closed" and case["withdrawn_on"]

    # The lead reads the comment on their own device (device mode: the server decrypts nothing).
    guardian = open_page(1280, javascript=True)
    guardian.goto("/staff/login")
    guardian.fill("#username", "board.lead")
    guardian.fill("#password", LEAD_PASSWORD)
    guardian.fill("#otp", pyotp.TOTP(lead.secret).at(time.time() + 30))  # a later code than the fixture's
    guardian.get_by_role("button", name="Sign in").click()
    guardian.wait_for_url("**/staff/cases", timeout=60_000)
    assert guardian.get_attribute("meta[name='whistle-mode']", "content") == "device"
    guardian.goto(f"/staff/cases/{ref}")
    guardian.wait_for_selector("html[data-case-opened='true']", timeout=30_000)
    section = guardian.inner_text("#speak-up-answer")
    assert "The reporter answered: Yes" in section and comment in section
    assert "The reporter agreed that their words may be quoted" in guardian.inner_text("#board")
    screenshots(guardian, "speak-up-guardian-device")
