"""Signing the demo guardian in through the sign-in page, as a person does, in tests that share
one server (the `site` fixture).

A TOTP code is good once: a second sign-in of the same account in the same 30-second step is
refused as a replay. Tests that sign the same account in one after another would fail whenever
two of them fall in one step, so a refused code is tried again with the next step's."""
from __future__ import annotations

import time

import pyotp
from playwright.sync_api import TimeoutError as PlaywrightTimeout

STEP_SECONDS = 30


def sign_in_on_the_device(page, credentials: dict, *, tries: int = 3, ahead: int = 0) -> None:
    """Sign in with `credentials` (username, password, TOTP secret) with JavaScript on: the page
    derives the keys, and lands on the inbox in device mode. `ahead`: the code of that many steps
    later (the server allows one step of drift), for an account signed in a moment ago with the
    current step's code."""
    totp = pyotp.TOTP(credentials["TOTP secret"])
    for attempt in range(tries):
        page.goto("/staff/login")
        page.fill("#username", credentials["username"])
        page.fill("#password", credentials["password"])
        page.fill("#otp", totp.at(time.time() + STEP_SECONDS * ahead))
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_selector("#error-summary, meta[name='whistle-mode'][content='device']", state="attached",
                               timeout=60_000)
        if "/staff/cases" in page.url:
            break
        if attempt == tries - 1:
            raise AssertionError(f"the sign-in was refused: {page.inner_text('#error-summary')}")
        time.sleep(STEP_SECONDS - time.time() % STEP_SECONDS + 1)  # the next step's code is a new one
    try:
        page.wait_for_url("**/staff/cases", timeout=60_000)
    except PlaywrightTimeout:
        raise AssertionError(f"the sign-in did not reach the inbox: {page.url}") from None
    assert page.get_attribute("meta[name='whistle-mode']", "content") == "device"
