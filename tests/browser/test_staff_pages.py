"""The staff and admin pages in a real Chromium, as the demo guardian and the demo admin see them:
every page (forms with errors and the case page in each state included) at a phone's and a
desktop's width fits the screen without scrolling sideways, starts with a skip link, shows a strong
focus ring on whatever the keyboard reaches, has controls big enough to hit, and gives axe-core
nothing to report. Screenshots of each page at each width go where the harness puts them."""
from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

import pyotp
import pytest

from tests.browser.axe import axe_violations, describe
from tests.browser.conftest import WIDTHS
from tests.e2e.reporter_helpers import call, call_json

pytestmark = pytest.mark.browser

CHANNEL = "raise-a-concern"
# What people paste: a link, a hash, a reference with no space to break at.
LONG_WORD = "https://intranet.example.org/rotas/ward-7/" + "night-shift-handover-" * 6 + "0f3a9c2e7b1d5a8f4c6e0b2d9a7f3c1e"
DISCLOSURE = ("Medication is signed for on the night shift but not given. It has happened at least four times this "
              f"month; the rota is on {LONG_WORD}\n\nI am worried someone will be hurt.")
TABS = 12  # how far the keyboard walks through each page, checking the focus ring


@dataclass
class Workspace:
    """What the pages show: three cases in three states, and a signed-in guardian and admin."""

    open_ref: str  # acknowledged and being assessed: messages, notes, files, labels, a long word
    new_ref: str  # received, untouched
    closed_ref: str  # closed with its outcome
    guardian: dict  # Playwright storage state of a signed-in demo.guardian
    admin: dict  # ... of demo.admin


def credentials(site, name: str) -> dict[str, str]:
    text = (site.directory / "var" / f"demo-{name}.txt").read_text()
    return {key.strip(): value.strip() for key, _, value in (line.partition(":") for line in text.splitlines())}


def code(who: dict, step: int) -> str:
    """A TOTP code `step` periods ahead: each sign-in needs a later code than the last (the server
    allows one period of drift), so a second sign-in within 30 seconds uses the next one."""
    return pyotp.TOTP(who["TOTP secret"]).at(time.time() + 30 * step)


def api(site, method: str, path: str, data=None, headers=None, expect=(200, 201, 204)):
    status, body = call_json(site.port, method, path, data, headers)
    assert status in expect, (path, status, body)
    return body


def upload(site, path: str, name: str, content: bytes, headers: dict) -> None:
    status, _, body = call(site.port, "POST", path, content, dict(headers, **{
        "Content-Type": "application/pdf", "X-Filename": quote(name)}))
    assert status == 201, body


def sign_in(chromium, site, who: dict, step: int) -> dict:
    """Sign in through the form, without JavaScript; the session's cookies, for other contexts."""
    context = chromium.new_context(base_url=f"http://127.0.0.1:{site.port}", java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto("/staff/login")
        page.fill("#username", who["username"])
        page.fill("#password", who["password"])
        page.fill("#otp", code(who, step))
        page.get_by_role("button", name="Sign in").click()
        assert "/staff/login" not in page.url, page.inner_text("main")
        return context.storage_state()
    finally:
        context.close()


@pytest.fixture(scope="module")
def workspace(site, chromium) -> Workspace:
    def disclose(text: str, **extra) -> dict:
        return api(site, "POST", "/api/v1/disclosures", {"channel": CHANNEL, "text": text, "answers": {"ongoing": "yes"},
                                                          **extra})

    opened = disclose(DISCLOSURE, answers={"ongoing": "yes", "where": "Ward 7", "concern_type": "Patient or client safety"},
                      identity_mode="confidential", identity={"name": "Sam Carter", "contact": "sam.carter@example.org"})
    new = disclose("The fire door on level 2 is propped open every night.")
    closed = disclose("Agency staff are not shown the handover notes.")

    reporter = {"Authorization": "Bearer " + api(site, "POST", "/api/v1/reporter/session", {"receipt": opened["receipt"]})["token"]}
    api(site, "POST", "/api/v1/reporter/messages", {"text": "I have found the rota for last week too."}, reporter)
    upload(site, "/api/v1/reporter/attachments", "rota-week-49-night-shift-ward-7-signed-for-not-given.pdf", b"%PDF- rota",
           reporter)

    guardian = credentials(site, "guardian")
    token = api(site, "POST", "/api/v1/staff/session", {"username": guardian["username"], "password": guardian["password"],
                                                        "otp": code(guardian, 0)})["token"]
    staff = {"Authorization": f"Bearer {token}"}
    ref = opened["case"]
    for to in ("acknowledged", "assessing"):
        api(site, "POST", f"/api/v1/cases/{ref}/transitions", {"to": to}, staff)
    api(site, "POST", f"/api/v1/cases/{ref}/messages", {"text": "Thank you. Could you tell me which nights?"}, staff)
    api(site, "POST", f"/api/v1/cases/{ref}/notes", {"text": f"Check the drug round records against {LONG_WORD}"}, staff)
    api(site, "POST", f"/api/v1/cases/{ref}/triage", {"priority": "high", "add_labels": ["medication", "night-shift"]}, staff)
    upload(site, f"/api/v1/cases/{ref}/attachments", "what-happens-next.pdf", b"%PDF- next", staff)
    upload(site, f"/api/v1/cases/{ref}/attachments?internal=true", "drug-round-audit-december.pdf", b"%PDF- audit", staff)
    for step in ({"to": "acknowledged"}, {"to": "assessing"},
                 {"to": "closed", "substantiated": "partly", "changes": ["training", "process"],
                  "learned": "Agency staff now get the handover notes at the start of each shift."}):
        api(site, "POST", f"/api/v1/cases/{closed['case']}/transitions", step, staff)

    return Workspace(open_ref=ref, new_ref=new["case"], closed_ref=closed["case"],
                     guardian=sign_in(chromium, site, guardian, 1), admin=sign_in(chromium, site, credentials(site, "admin"), 0))


# --- every page, and how to get to it ---

def go(path: str) -> Callable:
    return lambda page, ws: page.goto(path.format(ws=ws))


def refused_sign_in(page, ws):
    page.goto("/staff/login")
    page.fill("#username", "nobody.here")
    page.fill("#password", "not the password")
    page.fill("#otp", "123456")
    page.get_by_role("button", name="Sign in").click()


def refused_password_reset(page, ws):
    page.goto("/staff/forgot-password")
    page.fill("#username", "nobody.here")
    page.fill("#recovery_key", "NOT-THE-KEY")
    page.fill("#new", "a perfectly long new passphrase")
    page.fill("#again", "a perfectly long new passphrase")
    page.get_by_role("button", name="Reset password").click()


def refused_authenticator_reset(page, ws):
    page.goto("/staff/reset-authenticator")
    page.fill("#username", "nobody.here")
    page.fill("#recovery_key", "NOT-THE-KEY")
    page.get_by_role("button", name="Set up my authenticator again").click()


def refused_password_change(page, ws):
    page.goto("/staff/password")
    page.fill("#current", "not checked: the new ones differ")
    page.fill("#new", "a perfectly long new passphrase")
    page.fill("#again", "a different long new passphrase")
    page.get_by_role("button", name="Change password").click()


def refused_notifications(page, ws):
    page.goto("/staff/notifications")
    page.select_option("#channel", "email")
    page.fill("#address", "not an address")
    page.get_by_role("button", name="Save").click()


def refused_close(page, ws):
    page.goto(f"/staff/cases/{ws.open_ref}")
    page.locator("#move-closed [name=learned]").fill("We learned that the night shift needs a second signature.")
    page.get_by_role("button", name="Close the case").click()


def refused_account(page, ws):
    page.goto("/admin/guardians")
    page.fill("#username", "new.guardian")
    page.fill("#password", "a perfectly long first passphrase")
    page.fill("#again", "a different long first passphrase")
    page.get_by_role("button", name="Add account").click()


def account_page(page, ws):
    page.goto("/admin/guardians")
    page.locator("tr", has_text="demo.guardian").get_by_role("link", name=re.compile(r"^Change")).click()


def confirm_disabling(page, ws):
    account_page(page, ws)
    page.check("[name=disabled]")
    page.get_by_role("button", name="Save").click()
    assert page.locator("#confirm").is_visible(), "the confirm step"


NOBODY, GUARDIAN, ADMIN = "nobody", "guardian", "admin"
PAGES: list[tuple[str, str, Callable]] = [
    ("staff-login", NOBODY, go("/staff/login")),
    ("staff-login-refused", NOBODY, refused_sign_in),
    ("forgot-password", NOBODY, go("/staff/forgot-password")),
    ("forgot-password-refused", NOBODY, refused_password_reset),
    ("reset-authenticator", NOBODY, go("/staff/reset-authenticator")),
    ("reset-authenticator-refused", NOBODY, refused_authenticator_reset),
    ("inbox", GUARDIAN, go("/staff/cases")),
    ("inbox-filtered", GUARDIAN, go("/staff/cases?label=night-shift&sort=priority&unread=true")),
    ("inbox-refused", GUARDIAN, go("/staff/cases?status=nonsense&priority=loud")),
    ("inbox-surge", GUARDIAN, go("/staff/cases?surge=2026-12-05")),
    ("surge", GUARDIAN, go("/staff/surges/2026-12-05")),
    ("case-received", GUARDIAN, go("/staff/cases/{ws.new_ref}")),
    ("case-in-progress", GUARDIAN, go("/staff/cases/{ws.open_ref}")),
    ("case-closed", GUARDIAN, go("/staff/cases/{ws.closed_ref}")),
    ("case-refused", GUARDIAN, refused_close),
    ("password", GUARDIAN, go("/staff/password")),
    ("password-refused", GUARDIAN, refused_password_change),
    ("sessions", GUARDIAN, go("/staff/sessions")),
    ("notifications", GUARDIAN, go("/staff/notifications")),
    ("notifications-refused", GUARDIAN, refused_notifications),
    ("statistics", GUARDIAN, go("/staff/statistics")),
    ("statistics-refused", GUARDIAN, go("/staff/statistics?from=2026-13&to=soon")),
    ("not-found", GUARDIAN, go("/staff/cases/NO-SUCH-CASE")),
    ("learning", GUARDIAN, go("/staff/learning")),
    ("learning-refused", GUARDIAN, go("/staff/learning?factors=weather&from=someday")),
    ("learning-report", GUARDIAN, go("/staff/learning/report")),
    ("admin-overview", ADMIN, go("/admin")),
    ("admin-accounts", ADMIN, go("/admin/guardians")),
    ("admin-accounts-refused", ADMIN, refused_account),
    ("admin-account", ADMIN, account_page),
    ("admin-account-confirm", ADMIN, confirm_disabling),
    ("admin-channels", ADMIN, go("/admin/channels")),
    ("admin-audit", ADMIN, go("/admin/audit")),
    ("admin-statistics", ADMIN, go("/admin/statistics")),
    ("admin-statistics-one-channel", ADMIN, go(f"/admin/statistics?channel={CHANNEL}")),
    ("admin-notifications", ADMIN, go("/admin/notifications")),
    ("admin-not-found", ADMIN, go("/admin/guardians/999999")),
]


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
    for name, who, visit in PAGES:
        page = open_as(open_page, workspace, who, width)
        visit(page, workspace)
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


@pytest.mark.parametrize("width", WIDTHS)
def test_the_staff_pages_have_no_accessibility_violations(open_page, workspace, width):
    found: dict[str, list[dict]] = {}
    for name, who, visit in PAGES:
        page = open_as(open_page, workspace, who, width, javascript=True, bypass_csp=True)
        visit(page, workspace)
        violations = axe_violations(page)
        if violations:
            found[name] = violations
        page.context.close()
    assert not found, "\n\n".join(f"{name}:\n{describe(v)}" for name, v in found.items())


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
