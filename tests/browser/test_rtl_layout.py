"""Right to left in a real Chromium: the report form and the mailbox in Arabic at a phone's width
mirror (the page's dir is rtl, the heading's text sits at the right), the receipt and the case
reference still read left to right, and nothing scrolls sideways; in English the same pages are
left to right as before."""
from __future__ import annotations

import pytest

from tests.browser.languages import CHANNEL, api, open_mailbox, prefixed

pytestmark = pytest.mark.browser

WIDTH = 390
# How far from the viewport's side the heading's text may start: main's padding (1.25rem) and a little.
EDGE = 32


def heading_text_box(page) -> dict:
    """Where the h1's words are drawn (not its block, which is as wide as the page either way)."""
    page.wait_for_load_state("load")  # the stylesheet sets the alignment
    return page.evaluate("""() => {
        const range = document.createRange();
        range.selectNodeContents(document.querySelector('h1'));
        const box = range.getBoundingClientRect();
        return {left: box.left, right: box.right, viewport: document.documentElement.clientWidth};
    }""")


def assert_no_sideways_scroll(page) -> None:
    page.wait_for_load_state("load")  # measured before the stylesheet applies, anything may overflow
    sizes = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert sizes[0] <= sizes[1], f"the page scrolls sideways: {sizes}"


def assert_direction(page, code: str) -> None:
    rtl = code == "ar"
    assert page.get_attribute("html", "dir") == ("rtl" if rtl else "ltr")
    box = heading_text_box(page)
    if rtl:
        assert box["right"] >= box["viewport"] - EDGE, box
    else:
        assert box["left"] <= EDGE, box
    assert_no_sideways_scroll(page)


def assert_left_to_right(page, selector: str) -> None:
    element = page.locator(selector).first
    assert element.get_attribute("dir") == "ltr", selector
    assert element.evaluate("node => getComputedStyle(node).direction") == "ltr", selector


@pytest.mark.parametrize("code", ["ar", "en"])
def test_the_report_form_and_its_receipt_mirror_in_arabic_only(open_page, site, code):
    page = open_page(WIDTH)
    page.goto(prefixed(code, f"/report/{CHANNEL}"))
    assert_direction(page, code)
    page.fill("#text", "الباب مغلق بالسلسلة. The fire exit is chained shut.")
    page.check("input[name='answers.ongoing'][value='yes']")
    page.click("#disclosure-form button[type=submit]")
    page.wait_for_url(f"**/report/{CHANNEL}/receipt")
    assert_direction(page, code)
    assert_left_to_right(page, ".receipt-code code")


@pytest.mark.parametrize("code", ["ar", "en"])
def test_the_mailbox_mirrors_in_arabic_only_and_keeps_the_reference_left_to_right(open_page, site, code):
    text = "أنا قلق بشأن الجناح السابع."  # "I am worried about the seventh ward."
    sent = api(site, "POST", "/api/v1/disclosures", {"channel": CHANNEL, "text": text, "answers": {"ongoing": "yes"}})
    page = open_page(WIDTH)
    page.goto(prefixed(code, "/mailbox"))
    assert_direction(page, code)
    assert_left_to_right(page, "#receipt")
    open_mailbox(page, code, sent["receipt"])
    assert_direction(page, code)
    assert_left_to_right(page, ".meta .ref")
    assert page.locator(".meta .ref").inner_text() == sent["case"]
    # What the reporter wrote runs the way its own words do: Arabic right to left, on any page.
    assert page.locator(".disclosure").evaluate("node => getComputedStyle(node).direction") == "rtl"
