"""The cookie that takes a new report's receipt to the receipt page: a `__Host-` cookie that no
sibling site can plant or shadow, that ends with the browser, and that the mailbox's sign-in and
Leave clear, as the receipt page's Leave does."""
from __future__ import annotations

from dataclasses import replace

import pytest
from webtest import TestApp

from tests.factories import make_live_channel
from tests.functional.reporters.helpers import RECEIPT, receipt_of, submit_disclosure
from whistle.config import make_configurator

NAME = "__Host-whistle_receipt"


def test_leaving_the_mailbox_also_forgets_the_receipt_still_carried_for_the_receipt_page(testapp, dbsession, settings,
                                                                                         clock):
    make_live_channel(dbsession, settings, clock, "young", title="Young voices", wording={"plain": True})
    receipt_page = submit_disclosure(testapp, "Young voices", text="Someone at home hurts me.")
    receipt = receipt_of(receipt_page)

    # The link under the code: "Go back to my message", then the code typed in.
    login = receipt_page.click(description="Go back to my message")
    form = login.forms[0]
    form["receipt"] = receipt
    mailbox = form.submit().follow()
    assert "Someone at home hurts me." in mailbox.text
    left = mailbox.forms["leave-form"].submit()
    assert "closed on this device" in left.text

    again = testapp.get("/report/young/receipt")
    assert not RECEIPT.search(again.text), \
        "after 'Your message is closed on this device', the receipt page must not show the secret code again"


def test_the_receipt_cookie_dies_with_the_browser(testapp, dbsession, settings, clock):
    """The sealed value carries its own 15-minute expiry; Max-Age would make the browser keep the
    cookie on disk across a restart, for the next person at a shared computer."""
    make_live_channel(dbsession, settings, clock)
    form = testapp.get("/report/staff").forms[0]
    form["text"] = "The agency nurses are not checked."
    form["answers.ongoing"] = "yes"
    sent = form.submit(status=303)

    header = next(h for h in sent.headers.getall("Set-Cookie") if h.startswith("whistle_receipt="))
    attributes = {part.strip().split("=", 1)[0].lower() for part in header.split(";")[1:]}
    assert not attributes & {"max-age", "expires"}, f"a persistent cookie: {header[:20]}...{header[-120:]}"


@pytest.fixture
def secure_wsgi(raw_settings, settings, clock):
    return make_configurator(raw_settings, settings=replace(settings, cookies_secure=True), clock=clock).make_wsgi_app()


def _browser(secure_wsgi, tm, dbsession) -> TestApp:
    return TestApp(secure_wsgi, extra_environ={"HTTP_HOST": "example.com", "wsgi.url_scheme": "https",
                                               "tm.active": True, "tm.manager": tm, "app.dbsession": dbsession})


def _send(browser, text: str) -> tuple[str, str]:
    """(the receipt shown, the sealed cookie value) for a report sent from `browser`."""
    form = browser.get("/report/staff").forms[0]
    form["text"] = text
    form["answers.ongoing"] = "yes"
    sent = form.submit(status=303)
    header = next(h for h in sent.headers.getall("Set-Cookie") if h.startswith(f"{NAME}="))
    sealed = header.split(";")[0].split("=", 1)[1]
    return RECEIPT.search(sent.follow().text).group(0), sealed


def test_a_receipt_cookie_planted_from_a_sibling_site_is_never_shown(secure_wsgi, tm, dbsession, settings,
                                                                                 clock):
    make_live_channel(dbsession, settings, clock)
    attackers_receipt, planted = _send(_browser(secure_wsgi, tm, dbsession), "A decoy.")
    victim = _browser(secure_wsgi, tm, dbsession)
    victims_receipt, own = _send(victim, "The finance director signs his own expenses.")

    # A sibling site can set only unprefixed or __Secure- names; the page reads the __Host- one alone.
    victim.cookiejar.clear()
    page = victim.get("/report/staff/receipt", headers={
        "Cookie": f"{NAME}={own}; __Secure-whistle_receipt={planted}; whistle_receipt={planted}"})
    assert RECEIPT.search(page.text).group(0) == victims_receipt

    # Two of the same name (however they came): which is ours cannot be told, so neither is shown.
    page = victim.get("/report/staff/receipt", headers={"Cookie": f"{NAME}={own}; {NAME}={planted}"})
    shown = RECEIPT.search(page.text)
    assert shown is None or shown.group(0) == victims_receipt, (
        f"the victim is shown the attacker's receipt {attackers_receipt} instead of their own")
