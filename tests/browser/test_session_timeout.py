"""The warning before the idle limit (WCAG 2.2.1) in a real Chromium, on a server whose staff and
reporter sessions end after one idle minute: the dialog comes (the page's clock is moved on rather
than waited for), takes the focus and says the time left; "Stay signed in" extends the session on
the server and closes the dialog; "Sign out" signs out. With JavaScript off the page says the limit.
The mailbox on the device warns too, keeps its bearer session alive, and at the limit takes what it
decrypted off the page."""
from __future__ import annotations

import itertools
import re

import pytest

from tests.browser.conftest import HEIGHT, SHIPPED_CHANNELS
from tests.browser.pages import credentials, sign_in
from tests.browser.test_e2e_reporter import open_on_device, write_report
from tests.e2e.server import Server

pytestmark = pytest.mark.browser

IDLE_MINUTES = 1
# The warning comes two minutes before the limit, or halfway through a limit shorter than four.
WARNING_AFTER_MS = IDLE_MINUTES * 60_000 // 2


@pytest.fixture(scope="module")
def short_site(tmp_path_factory):
    server = Server(tmp_path_factory.mktemp("short-idle-site"),
                    settings={"whistle.sessions.staff_idle_minutes": str(IDLE_MINUTES),
                              "whistle.sessions.reporter_idle_minutes": str(IDLE_MINUTES)})
    server.start()
    try:
        server.whistle("channels", "load", str(SHIPPED_CHANNELS))
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def sign_ins(short_site) -> itertools.count:
    """Each sign-in's TOTP step: a code is good once, so each test's sign-in uses a later one."""
    return itertools.count()


@pytest.fixture
def signed_in(chromium, short_site, sign_ins) -> dict:
    """A session of its own for each test (one of them signs out)."""
    return sign_in(chromium, short_site, credentials(short_site, "guardian"), next(sign_ins))


def open_inbox(chromium, site, state: dict, *, javascript: bool):
    context = chromium.new_context(viewport={"width": 390, "height": HEIGHT}, java_script_enabled=javascript,
                                   base_url=f"http://127.0.0.1:{site.port}", storage_state=state)
    page = context.new_page()
    if javascript:
        page.clock.install()
    page.goto("/staff/cases")
    assert "/staff/cases" in page.url, page.url
    return context, page


def stay_signed_in(page, dialog, keep_alive: str) -> None:
    """Answer the warning with "Stay signed in": the server gives a full idle limit again (`keep_alive`
    is the call's address pattern), and the dialog closes."""
    with page.expect_response(keep_alive) as answer:
        dialog.get_by_role("button", name="Stay signed in").click()
    assert answer.value.status == 200
    assert answer.value.json() == {"signed_in": True, "expires_in": IDLE_MINUTES * 60}
    dialog.wait_for(state="hidden")


def test_the_warning_comes_takes_the_focus_and_stay_signed_in_extends_the_session(chromium, short_site, signed_in):
    context, page = open_inbox(chromium, short_site, signed_in, javascript=True)
    try:
        dialog = page.locator("[role=alertdialog]")
        assert dialog.is_hidden()
        page.clock.fast_forward(WARNING_AFTER_MS + 1_000)
        dialog.wait_for(state="visible")
        assert dialog.get_attribute("aria-modal") == "true"
        assert dialog.get_attribute("aria-labelledby") == "session-timeout-title"
        assert page.inner_text("#session-timeout-title") == "Are you still there?"
        assert re.fullmatch(r"Time left: 0:[0-2]\d", page.inner_text(".session-timeout-left")), page.inner_text(
            ".session-timeout-left")
        assert page.evaluate("() => document.activeElement.textContent") == "Stay signed in"

        stay_signed_in(page, dialog, "**/staff/keep-alive")
        # The session goes on: the inbox opens in the same browser.
        assert "/staff/cases" in context.request.get("/staff/cases", max_redirects=0).url

        # It warns again before the new limit; this time the person signs out.
        page.clock.fast_forward(WARNING_AFTER_MS + 1_000)
        dialog.wait_for(state="visible")
        dialog.get_by_role("button", name="Sign out").click()
        page.wait_for_url("**/staff/login**")
    finally:
        context.close()


def test_escape_keeps_the_session_and_without_javascript_the_page_says_the_limit(chromium, short_site, signed_in):
    context, page = open_inbox(chromium, short_site, signed_in, javascript=True)
    try:
        page.clock.fast_forward(WARNING_AFTER_MS + 1_000)
        page.locator("[role=alertdialog]").wait_for(state="visible")
        with page.expect_response("**/staff/keep-alive") as answer:
            page.keyboard.press("Escape")
        assert answer.value.json()["signed_in"] is True
        page.locator("[role=alertdialog]").wait_for(state="hidden")
    finally:
        context.close()

    context, page = open_inbox(chromium, short_site, signed_in, javascript=False)
    try:
        assert page.inner_text("#session-limit") == (
            "For your safety you are signed out after 1 minute without activity.")
        assert page.locator("[role=alertdialog]").count() == 0
    finally:
        context.close()


def test_the_mailbox_on_the_device_warns_keeps_its_session_and_at_the_limit_clears_the_page(chromium, short_site):
    context = chromium.new_context(viewport={"width": 390, "height": HEIGHT},
                                   base_url=f"http://127.0.0.1:{short_site.port}")
    try:
        page = context.new_page()
        write_report(page, "The night rota is signed by people who were not there.", "Ward 4", [])
        page.get_by_role("button", name="Send securely").click()
        page.wait_for_url("**/receipt")
        receipt = page.locator(".receipt-code code").inner_text()
        page.clock.install()
        open_on_device(page, receipt)
        dialog = page.locator("[role=alertdialog]")
        assert dialog.is_hidden()

        page.clock.fast_forward(WARNING_AFTER_MS + 1_000)
        dialog.wait_for(state="visible")
        assert page.evaluate("() => document.activeElement.textContent") == "Stay signed in"
        stay_signed_in(page, dialog, "**/api/v1/reporter/session/keep-alive")
        assert page.locator("#what-you-sent").is_visible()

        # Nobody answers the next warning: at the limit the report leaves the page and the receipt
        # form comes back, saying why.
        page.clock.fast_forward(IDLE_MINUTES * 60_000 + 1_000)
        page.locator("#what-you-sent").wait_for(state="detached")
        assert "The night rota" not in page.inner_text("body")
        assert "Your visit has ended" in page.inner_text("main")
        assert page.locator("#receipt").is_visible()
    finally:
        context.close()
