"""The reporter's say in a real Chromium with JavaScript off, at a phone's and a desktop's width:
the public "you said, we did" board (reached from the start page), and a reporter withdrawing their
report from the mailbox. Screenshots go where the `screenshots` fixture prints (board-*.png,
withdraw-*.png); and axe-core finds nothing to fix on either page."""
from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass

import pyotp
import pytest

from tests.browser.axe import axe_violations, describe
from tests.browser.conftest import WIDTHS
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


def api(site, method: str, path: str, data=None, headers=None) -> dict:
    status, body = call_json(site.port, method, path, data, headers)
    assert status in (200, 201, 204), (path, status, body)
    return body


@pytest.fixture(scope="module")
def board(site) -> Board:
    """An improvement lead of the ideas channel (an account of its own, so that no other test's
    authenticator code is spent here) publishes two entries about two ideas."""
    enrolled = subprocess.run([str(BIN / "whistle"), "-c", str(site.ini), "guardian", "add", "board.lead",
                               "--channel", IDEAS, "--password-stdin"], input=LEAD_PASSWORD + "\n",
                              capture_output=True, text=True, check=True, timeout=120, env=site.env).stdout
    secret = re.search(r"TOTP secret:\s+(\S+)", enrolled).group(1)
    token = api(site, "POST", "/api/v1/staff/session",
                {"username": "board.lead", "password": LEAD_PASSWORD, "otp": pyotp.TOTP(secret).now()})["token"]
    lead = {"Authorization": f"Bearer {token}"}
    for entry in ENTRIES:
        idea = api(site, "POST", "/api/v1/disclosures", {"channel": IDEAS, "text": entry["you_said"], "answers": {}})
        reporter = {"Authorization": "Bearer " + api(site, "POST", "/api/v1/reporter/session",
                                                     {"receipt": idea["receipt"]})["token"]}
        api(site, "POST", "/api/v1/reporter/board-consent", {"consent": True}, reporter)
        api(site, "POST", f"/api/v1/cases/{idea['case']}/board", entry, lead)
    return Board(entries=api(site, "GET", "/api/v1/board")["entries"])


def no_sideways_scrolling(page) -> bool:
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
