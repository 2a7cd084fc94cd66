"""Whole journeys with the keyboard alone: a reporter sends a report (start page -> channel -> form
-> receipt), with JavaScript on and off, and a guardian signs in, opens the case and writes a reply,
with JavaScript on. Only keyboard.press and keyboard.type: no click, no fill.

On the way every element the keyboard reaches shows a visible focus indicator, and the focus
order follows the reading order: the next element focused is not above the one before it, unless it
is in another column (no horizontal overlap) or another part of the page (header, nav, main, aside,
footer, section)."""
from __future__ import annotations

import time

import pyotp
import pytest

from tests.browser.pages import YOUNG, credentials

pytestmark = pytest.mark.browser

MAX_TABS = 150
STEP_SECONDS = 30

# The focused element: where it is on the page, which part of the page it is in, and its focus indicator.
FOCUSED = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  const r = e.getBoundingClientRect(), s = getComputedStyle(e);
  const part = e.closest('header, nav, main, aside, footer, section, fieldset, .quick-exit, .skip-link');
  const parts = part ? [...document.querySelectorAll(part.tagName)].indexOf(part) : -1;
  return {html: e.outerHTML.slice(0, 120), top: r.top + window.scrollY, left: r.left, right: r.right, height: r.height,
          part: part ? part.tagName + parts + (part.className ? '.' + part.className : '') : '',
          ring: (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2) || s.boxShadow !== 'none'};
}"""


class Keyboard:
    """Tab through a page as a person does, noting what goes wrong with focus on the way."""

    def __init__(self, page):
        self.page = page
        self.problems: list[str] = []
        self.last: dict | None = None
        self.reached = 0  # how many elements the keyboard focused, all pages together

    def note(self) -> dict | None:
        now = self.page.evaluate(FOCUSED)
        if now is None:
            return None
        self.reached += 1
        if not now["ring"]:
            self.problems.append(f"no visible focus indicator on {now['html']}")
        last = self.last
        if last is not None and now["top"] < last["top"] - 4 and now["part"] == last["part"] \
                and now["left"] < last["right"] and last["left"] < now["right"]:
            self.problems.append(f"focus goes up the page, from {last['html']} to {now['html']}")
        self.last = now
        return now

    def tab_to(self, selector: str) -> None:
        """Tab until an element matching `selector` has the focus."""
        for _ in range(MAX_TABS):
            self.page.keyboard.press("Tab")
            self.note()
            if self.page.evaluate("(selector) => document.activeElement.matches(selector)", selector):
                return
        raise AssertionError(f"{MAX_TABS} presses of Tab never reached {selector} on {self.page.url}")

    def choose(self, group: str, value: str) -> None:
        """Tab into a group of radio buttons, then the arrow keys to `value` (which ticks it)."""
        self.tab_to(f"input[type=radio][name='{group}']")
        target = f"input[type=radio][name='{group}'][value='{value}']"
        for _ in range(10):
            if self.page.evaluate("(selector) => document.activeElement.matches(selector)", target):
                break
            self.page.keyboard.press("ArrowDown")
        self.page.keyboard.press("Space")
        assert self.page.locator(target).is_checked(), target

    def new_page(self) -> None:
        """After a page loads, positions compare from the top again."""
        self.last = None

    def assert_fine(self) -> None:
        assert self.reached >= 10, f"the keyboard reached only {self.reached} elements: is the focus noted?"
        assert not self.problems, "\n".join(self.problems)


@pytest.mark.parametrize("javascript", [False, True], ids=["js-off", "js-on"])
def test_a_report_is_sent_with_the_keyboard_alone(open_page, javascript):
    page = open_page(1280, javascript=javascript)
    keys = Keyboard(page)
    page.goto("/")
    keys.tab_to(f"a[href$='/report/{YOUNG}']")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/report/{YOUNG}")
    keys.new_page()

    keys.tab_to("#text")
    page.keyboard.type("Someone keeps taking my phone at break time.")
    keys.choose("answers.happening_now", "yes")
    keys.tab_to("input[type=checkbox][name='answers.about'][value='Me']")
    page.keyboard.press("Space")
    keys.tab_to("#disclosure-form button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/report/{YOUNG}/receipt", timeout=60_000)
    keys.new_page()
    assert page.locator(".receipt-code code").count() == 1, "the receipt is shown"
    keys.tab_to(f"form[action$='/report/{YOUNG}/receipt/leave'] button")
    keys.assert_fine()


def test_a_guardian_answers_a_case_with_the_keyboard_alone(open_page, workspace, site):
    page = open_page(1280, javascript=True)
    keys = Keyboard(page)
    guardian = credentials(site, "guardian")
    totp = pyotp.TOTP(guardian["TOTP secret"])
    # A code is good once, and the other tests signed this guardian in with the codes of the
    # current and the next step: a refused code is tried again with a later step's.
    for attempt in range(4):
        page.goto("/staff/login")
        keys.new_page()
        keys.tab_to("#username")
        page.keyboard.type(guardian["username"])
        keys.tab_to("#password")
        page.keyboard.type(guardian["password"])
        keys.tab_to("#otp")
        page.keyboard.type(totp.at(time.time()))
        page.keyboard.press("Enter")
        page.wait_for_selector("#error-summary, meta[name='whistle-mode'][content='device']", state="attached",
                               timeout=60_000)
        if "/staff/cases" in page.url:
            break
        assert attempt < 3, f"the sign-in was refused: {page.inner_text('#error-summary')}"
        time.sleep(STEP_SECONDS - time.time() % STEP_SECONDS + 1)
    page.wait_for_url("**/staff/cases", timeout=60_000)
    keys.new_page()

    keys.tab_to(f"a[href$='/staff/cases/{workspace.new_ref}']")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/staff/cases/{workspace.new_ref}")
    keys.new_page()
    reply = "Thank you for telling us. We are looking at the fire door tonight."
    keys.tab_to("#reply-form textarea")
    page.keyboard.type(reply)
    keys.tab_to("#reply-form button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_function("(reply) => document.body.innerText.includes(reply) && !document.querySelector('#reply-form textarea').value",
                           arg=reply, timeout=60_000)
    keys.assert_fine()
