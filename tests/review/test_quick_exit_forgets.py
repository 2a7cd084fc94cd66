"""Review: the quick exit on the young people's channel leaves the receipt and the open report
one Back press away.

A child who presses "Exit this page" because someone walked in expects the page, and what it
showed, to be gone. The quick exit is a plain link to a neutral site: it ends nothing. The
receipt cookie (15 minutes) and the mailbox session (idle minutes) live on, so whoever presses
Back, or opens the address from the history, reads the secret code, or the whole report.
"""
from __future__ import annotations

import re

import pytest

from tests.browser.conftest import chromium, open_page, site  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser

YOUNG = "young-peoples-voice"
NEUTRAL_PAGE = "https://www.bbc.co.uk/weather"
WORDS = "My step-dad hits me when mum is at work."


def _neutral_site(page) -> None:
    page.context.route("https://www.bbc.co.uk/**", lambda route: route.fulfill(
        status=200, content_type="text/html", body="<title>Weather</title><p>Sunny</p>"))


def _send(page) -> str:
    page.goto(f"/report/{YOUNG}")
    page.fill("#text", WORDS)
    page.get_by_role("button", name="Send").click()
    page.wait_for_url(f"**/report/{YOUNG}/receipt")
    return page.locator(".receipt-code code").inner_text()


@pytest.mark.parametrize("javascript", [False, True], ids=["js-off", "js-on"])
def test_back_after_the_quick_exit_on_the_receipt_page_does_not_show_the_receipt(open_page, javascript):
    page = open_page(390, javascript=javascript)
    _neutral_site(page)
    receipt = _send(page)

    page.locator(".quick-exit-link").click()
    page.wait_for_url(NEUTRAL_PAGE)
    page.go_back()
    page.wait_for_url(f"**/report/{YOUNG}/receipt")
    assert receipt not in page.content(), "the quick exit must forget the receipt, as Leave does"


@pytest.mark.parametrize("javascript", [False, True], ids=["js-off", "js-on"])
def test_back_after_the_quick_exit_in_the_mailbox_does_not_show_the_report(open_page, javascript):
    page = open_page(390, javascript=javascript)
    _neutral_site(page)
    receipt = _send(page)
    page.get_by_role("button", name="Leave").click()
    page.goto("/mailbox")
    page.fill("#receipt", receipt)
    page.get_by_role("button", name="Open my report").click()
    page.wait_for_url("**/mailbox/case")
    assert WORDS in page.content()

    page.locator(".quick-exit-link").click()
    page.wait_for_url(NEUTRAL_PAGE)
    page.go_back()
    page.wait_for_url(re.compile(r".*/mailbox/case$"))
    assert WORDS not in page.content(), "the quick exit must end the mailbox visit, as Leave does"
