"""Changing the password on the guardian's device, in a real Chromium against a real server: the
page checks the new password against the service's rules (the common-password list included),
no request the browser sends carries either password, and afterwards the new password signs in
on the device, the old one does not, and the key kept for the tab is the same."""
from __future__ import annotations

import time
from urllib.parse import quote, quote_plus

import pyotp
import pytest

from tests.browser.test_device_sign_in import LOAD_KEY
from tests.factories import PASSWORD, make_staff
from whistle.cli import env

pytestmark = pytest.mark.browser

NEW_PASSWORD = "a new passphrase made on this device"


@pytest.fixture(scope="module")
def guardian(site):
    environment = env.load(str(site.ini))
    with env.dbsession(environment) as dbsession:
        staff = make_staff(dbsession, environment.settings, environment.clock, "password.browser")
        return {"username": staff.username, "totp": staff.totp_secret, "public_key": staff.account.public_key.hex()}


def sign_in(page, who: dict, password: str, step: int) -> None:
    page.goto("/staff/login")
    page.fill("#username", who["username"])
    page.fill("#password", password)
    page.fill("#otp", pyotp.TOTP(who["totp"]).at(time.time() + 30 * step))
    page.get_by_role("button", name="Sign in").click()


def change(page, current: str, new: str, again: str | None = None) -> None:
    page.fill("#current", current)
    page.fill("#new", new)
    page.fill("#again", new if again is None else again)
    page.get_by_role("button", name="Change password").click()
    # The page says it is working from the click until the answer (Argon2id takes a moment).
    page.locator("#password-status").wait_for(state="hidden", timeout=30_000)


def problem(page) -> str:
    summary = page.locator("#error-summary")
    summary.wait_for(timeout=30_000)
    return summary.inner_text()


def test_the_password_changes_on_the_device_and_the_new_one_signs_in(open_page, guardian):
    page = open_page(1280, javascript=True)
    sent: list = []
    page.on("request", lambda request: sent.append(request))
    sign_in(page, guardian, PASSWORD, step=0)
    page.wait_for_url("**/staff/cases", timeout=30_000)
    page.goto("/staff/password")

    # The rules the service would check, checked on the page: it never sees the new password.
    change(page, PASSWORD, "password1234")
    assert "New password: that password is on a list of common passwords" in problem(page)
    assert page.get_attribute("#new", "aria-invalid") == "true" and page.input_value("#new") == ""
    change(page, PASSWORD, "too short")
    assert "at least 12 characters" in problem(page)
    change(page, "not the current password", NEW_PASSWORD)
    assert "Current password: the current password is not right" in problem(page)

    change(page, PASSWORD, NEW_PASSWORD)
    page.locator("#password-done").wait_for(timeout=30_000)
    assert page.inner_text("#password-done") == "Your password is changed. Your other sessions have ended."
    assert page.locator("#error-summary").count() == 0

    listed = [request for request in sent if request.url.endswith("/static/common-passwords.txt")]
    assert listed and listed[0].response().status == 200
    changes = [request for request in sent if request.method == "POST" and request.url.endswith("/staff/password")]
    assert len(changes) == 2 and "new_key_by_device=" in changes[-1].post_data
    for request in sent:
        body = request.post_data or ""
        for password in (PASSWORD, NEW_PASSWORD, "password1234", "not the current password"):
            for form in (password, quote_plus(password), quote(password)):
                assert form not in body, request.url

    # Signed out, the old password is refused on the device and the new one opens the same key.
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/staff/login")
    sign_in(page, guardian, PASSWORD, step=1)
    assert "That username, password and code do not match" in problem(page)
    sign_in(page, guardian, NEW_PASSWORD, step=1)  # the refused one did not use up its code
    page.wait_for_url("**/staff/cases", timeout=30_000)
    assert page.get_attribute('meta[name="whistle-mode"]', "content") == "device"
    assert page.evaluate(LOAD_KEY)["publicKey"] == guardian["public_key"]
