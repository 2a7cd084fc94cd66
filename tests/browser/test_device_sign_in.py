"""Signing in with JavaScript on, in a real Chromium against a real server: no request the
browser sends carries the password, the guardian's key is kept in the tab's sessionStorage and
opens on the next page with keyring.loadKey(), and not after signing out; an account made before
device sign-in moves over through the page and is then kept the same way."""
from __future__ import annotations

import time

import pyotp
import pytest

from tests.factories import PASSWORD, make_legacy_staff, make_staff
from whistle.cli import env

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def accounts(site):
    """A guardian made now and one made as before device sign-in, in the browser server's database."""
    environment = env.load(str(site.ini))
    with env.dbsession(environment) as dbsession:
        made = {name: factory(dbsession, environment.settings, environment.clock, name)
                for name, factory in (("device.browser", make_staff), ("legacy.browser", make_legacy_staff))}
        return {name: {"username": name, "totp": staff.totp_secret, "public_key": staff.account.public_key.hex()}
                for name, staff in made.items()}


def sign_in_with_javascript(page, who: dict, step: int = 0) -> list:
    """Fill in and send the sign-in form with JavaScript on; every request the page sent."""
    sent = []
    page.on("request", lambda request: sent.append(request))
    page.goto("/staff/login")
    page.fill("#username", who["username"])
    page.fill("#password", PASSWORD)
    page.fill("#otp", pyotp.TOTP(who["totp"]).at(time.time() + 30 * step))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/staff/cases", timeout=30_000)
    return sent


LOAD_KEY = """async () => {
  const keyring = await import("/static/js/keyring.js");
  const c = await import("/static/js/crypto.js");
  const kept = keyring.loadKey();
  return kept && {publicKey: c.toHex(kept.publicKey), accountId: kept.accountId,
                  stored: sessionStorage.getItem("whistle.guardian-key") !== null};
}"""


def check_password_never_sent(sent: list) -> None:
    posts = [request for request in sent if request.method == "POST"]
    assert posts, "the page posted something"
    for request in sent:
        body = request.post_data or ""
        assert PASSWORD not in body and PASSWORD.replace(" ", "+") not in body, request.url
        assert PASSWORD.replace(" ", "%20") not in body, request.url


def test_the_password_stays_on_the_device_and_the_key_is_kept_for_the_tab(open_page, accounts):
    who = accounts["device.browser"]
    page = open_page(1280, javascript=True)
    sent = sign_in_with_javascript(page, who)
    check_password_never_sent(sent)
    posted = [request for request in sent if request.method == "POST" and request.url.endswith("/staff/login")]
    assert len(posted) == 1 and "auth_key=" in posted[0].post_data
    assert page.get_attribute('meta[name="whistle-mode"]', "content") == "device"

    kept = page.evaluate(LOAD_KEY)
    assert kept == {"publicKey": who["public_key"], "accountId": kept["accountId"], "stored": True}
    page.goto("/staff/sessions")  # the next page opens it too
    assert page.evaluate(LOAD_KEY)["publicKey"] == who["public_key"]

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/staff/login")
    assert page.evaluate("() => sessionStorage.getItem('whistle.guardian-key')") is None
    assert page.evaluate(LOAD_KEY) is None


def test_an_account_made_before_device_sign_in_moves_over_through_the_page(open_page, accounts):
    who = accounts["legacy.browser"]
    page = open_page(390, javascript=True)
    sign_in_with_javascript(page, who)  # its password posted this once: the server moves it over
    assert page.get_attribute('meta[name="whistle-mode"]', "content") == "device"
    assert page.evaluate(LOAD_KEY)["publicKey"] == who["public_key"]

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/staff/login")
    again = open_page(390, javascript=True)
    check_password_never_sent(sign_in_with_javascript(again, who, step=1))  # now on the device
    assert again.evaluate(LOAD_KEY)["publicKey"] == who["public_key"]


def test_a_wrong_password_is_said_in_the_form_as_without_javascript(open_page, accounts):
    who = accounts["device.browser"]
    page = open_page(1280, javascript=True)
    page.goto("/staff/login")
    page.fill("#username", who["username"])
    page.fill("#password", "not the right password at all")
    page.fill("#otp", "123456")
    page.get_by_role("button", name="Sign in").click()
    summary = page.locator("#error-summary")
    summary.wait_for(timeout=30_000)
    assert "That username, password and code do not match" in summary.inner_text()
    assert page.input_value("#username") == who["username"] and page.input_value("#password") == ""
    assert "/staff/login" in page.url
