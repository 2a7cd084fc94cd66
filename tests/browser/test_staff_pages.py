"""The staff and admin pages in a real Chromium, as the demo guardian and the demo admin see them:
every page (forms with errors and the case page in each state included) at a phone's and a
desktop's width fits the screen without scrolling sideways, starts with a skip link, shows a strong
focus ring on whatever the keyboard reaches, and has controls big enough to hit. Screenshots of each
page at each width go where the harness puts them. That axe-core finds nothing to fix on them, in
every language, is test_accessibility_matrix.py's to check."""
from __future__ import annotations

import pytest

from tests.browser.conftest import WIDTHS
from tests.browser.pages import ADMIN, GUARDIAN, STAFF_PAGES, Workspace, english

pytestmark = pytest.mark.browser

TABS = 12  # how far the keyboard walks through each page, checking the focus ring


def open_as(open_page, ws: Workspace, who: str, width: int, **options):
    state = {GUARDIAN: ws.guardian, ADMIN: ws.admin}.get(who)
    return open_page(width, **options, **({"storage_state": state} if state else {}))


# --- what each page must do ---

OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const wide = [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > width + 0.5)
    .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className ? '.' + String(e.className).split(' ').join('.') : ''));
  return {scroll: document.documentElement.scrollWidth, width: window.innerWidth, wide: wide.slice(0, 8)};
}"""

TOO_SMALL = """() => {
  const visible = e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== 'hidden'; };
  const name = e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.name ? '[name=' + e.name + ']' : '') + ' ' + (e.innerText || '').trim().slice(0, 30);
  const small = [];
  for (const e of document.querySelectorAll('input[type=checkbox], input[type=radio]'))
    if (visible(e)) { const r = e.getBoundingClientRect(); if (r.width < 24 || r.height < 24) small.push(name(e) + ` ${r.width}x${r.height}`); }
  for (const e of document.querySelectorAll('input:not([type=hidden]):not([type=checkbox]):not([type=radio]), select, textarea, button'))
    if (visible(e) && !e.closest('.skip-link')) { const r = e.getBoundingClientRect(); if (r.height < 44) small.push(name(e) + ` ${r.height} tall`); }
  return small;
}"""

FOCUSED = """() => {
  const e = document.activeElement, s = getComputedStyle(e);
  return {tag: e.tagName.toLowerCase(), text: (e.innerText || e.value || e.name || '').trim().slice(0, 40), cls: String(e.className),
          style: s.outlineStyle, width: parseFloat(s.outlineWidth), offset: parseFloat(s.outlineOffset)};
}"""


@pytest.mark.parametrize("width", WIDTHS)
def test_every_staff_page_fits_the_screen_and_the_keyboard(open_page, screenshots, workspace, width):
    problems: dict[str, list] = {}
    for entry in STAFF_PAGES:
        name = entry.name
        page = open_as(open_page, workspace, entry.who, width)
        entry.step(page, workspace, english)
        # No script but the sign-in page's, which derives the keys on the device when it can run, and
        # on a signed-in page the warning before the idle limit.
        scripts = page.locator("script").evaluate_all("(nodes) => nodes.map((node) => node.getAttribute('src'))")
        allowed = ([["/static/js/login.js"]] if page.url.endswith("/staff/login")
                   else [[], ["/static/js/session-timeout.js"]])
        assert scripts in allowed, name
        screenshots(page, f"staff-{name}")
        found = []
        measured = page.evaluate(OVERFLOW)
        if measured["scroll"] > measured["width"]:
            found.append(f"{measured['scroll']} px wide in a {measured['width']} px window: {measured['wide']}")
        found += [f"too small: {what}" for what in page.evaluate(TOO_SMALL)]
        # The keyboard: the skip link first, then a strong ring on everything it reaches.
        page.keyboard.press("Tab")
        first = page.evaluate(FOCUSED)
        if first["text"] != "Skip to main content" or not page.locator(".skip-link").is_visible():
            found.append(f"the first Tab reaches {first}, not a visible skip link")
        for _ in range(TABS):
            focused = page.evaluate(FOCUSED)
            if focused["tag"] != "body" and (focused["style"] in ("none", "") or focused["width"] < 3):
                found.append(f"no strong focus ring on {focused}")
            page.keyboard.press("Tab")
        if found:
            problems[name] = found
        page.context.close()
    assert not problems, "\n".join(f"{name}:\n  " + "\n  ".join(found) for name, found in problems.items())


@pytest.mark.parametrize("width", WIDTHS)
def test_the_skip_link_goes_to_the_main_content(open_page, screenshots, workspace, width):
    page = open_as(open_page, workspace, GUARDIAN, width)
    page.goto(f"/staff/cases/{workspace.open_ref}")
    page.keyboard.press("Tab")
    screenshots(page, "staff-skip-link-focused")
    page.keyboard.press("Enter")
    assert page.url.endswith("#main")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('main') !== null"), "the next Tab is inside <main>"
    page.locator("#triage-form button").focus()
    screenshots(page, "staff-button-focused")


def test_the_case_page_reads_in_words(open_page, workspace):
    """What a guardian reads on a case in progress: labels, dates and a timeline of sentences."""
    page = open_as(open_page, workspace, GUARDIAN, 1280)
    page.goto(f"/staff/cases/{workspace.open_ref}")
    status = page.locator("#status").inner_text()
    assert "Assessing" in status and "High" in status and "medication, night-shift" in status
    assert "Confidential: only guardians know who they are" in page.inner_text("main")
    timeline = page.locator("#timeline").inner_text()
    for sentence in ("The reporter opened the case on the Raise a concern channel, sharing who they are with guardians only.",
                     "The reporter sent a message.", "The reporter sent 1 file.", "demo.guardian acknowledged receipt.",
                     "demo.guardian moved the case from acknowledged to assessing.", "demo.guardian replied to the reporter.",
                     "demo.guardian changed the priority from normal to high.",
                     "demo.guardian added the labels “medication” and “night-shift”.",
                     "demo.guardian sent the reporter 1 file.", "demo.guardian added 1 file for guardians only."):
        assert sentence in timeline, sentence
    files = page.locator("#files").inner_text()
    assert "from the reporter" in files and "10 bytes" in files
    # Side by side on a desktop: the status beside what the reporter said, not above it.
    status_box, told_box = page.locator("#status").bounding_box(), page.locator(".disclosure").bounding_box()
    assert status_box["x"] > told_box["x"] + told_box["width"], "the status is beside the content"
    assert page.locator("#actions").bounding_box()["x"] == pytest.approx(status_box["x"], abs=2)
