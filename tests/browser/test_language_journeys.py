"""A reporter's whole journey in Welsh, Polish and Arabic with JavaScript off: the English home page,
the language chosen from its list, a channel, the form sent, the receipt, a guardian's reply, the
mailbox opened with the receipt, the reply read and answered. On every page the address keeps the
language's prefix, <html lang> is the language, and the h1 is the catalogue's translation of the
English one.

With WHISTLE_TEST_SCREENSHOTS naming a directory, the form and the mailbox are saved there at 390 px,
full page, as <code>-intake-390.png and <code>-mailbox-390.png."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.browser.languages import (
    CHANNEL,
    RECEIPT,
    SCREENSHOTS,
    assert_in_language,
    english_h1_of,
    fill_and_send,
    guardian_headers,
    guardian_replies,
    open_mailbox,
)

pytestmark = pytest.mark.browser

WIDTH = 390
# The receipt page shows the receipt once: asked again, the same address says it is no longer shown,
# so its English h1 is named here rather than fetched.
RECEIPT_H1 = "Thank you. Your concern has been sent."


@pytest.fixture(scope="module")
def guardian(site) -> dict:
    return guardian_headers(site)


def save(page, code: str, name: str) -> None:
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{code}-{name}-{WIDTH}.png"), full_page=True)


def path_of(page) -> str:
    return re.sub(r"^https?://[^/]+", "", page.url)


def english(path: str, code: str) -> str:
    return path.removeprefix(f"/{code}")


@pytest.mark.parametrize("code", ["cy", "pl", "ar"])
def test_a_reporter_without_javascript_from_the_home_page_to_a_reply_in_each_language(open_page, site, guardian,
                                                                                       code):
    page = open_page(WIDTH)
    page.goto("/")
    assert page.get_attribute("html", "lang") == "en"
    page.click(f"nav.language-choice a[lang='{code}']")
    page.wait_for_url(f"**/{code}/")
    assert_in_language(page, code, english_h1_of(page, "/"))

    page.click(f"ul.channels a[href$='/report/{CHANNEL}']")
    page.wait_for_url(f"**/{code}/report/{CHANNEL}")
    assert_in_language(page, code, english_h1_of(page, english(path_of(page), code)))
    save(page, code, "intake")

    fill_and_send(page, f"({code}) The fire exit on ward 7 is chained shut at night.")
    assert_in_language(page, code, RECEIPT_H1)
    receipt = page.locator(".receipt-code code").inner_text()
    assert RECEIPT.fullmatch(receipt), receipt

    reply = f"({code}) Thank you for telling us. Which nights was it chained?"
    guardian_replies(site, guardian, receipt, reply)

    open_mailbox(page, code, receipt)
    assert path_of(page) == f"/{code}/mailbox/case"
    assert_in_language(page, code, english_h1_of(page, "/mailbox/case"))
    assert reply in page.inner_text("#conversation")
    save(page, code, "mailbox")

    answer = f"({code}) Every night this week."
    page.fill("#message-form #text", answer)
    page.click("#message-form button[type=submit]")
    page.wait_for_load_state()
    assert path_of(page).startswith(f"/{code}/mailbox/"), page.url
    assert page.get_attribute("html", "lang") == code
    page.goto(f"/{code}/mailbox/case")
    assert_in_language(page, code, english_h1_of(page, "/mailbox/case"))
    assert answer in page.inner_text("#conversation")
