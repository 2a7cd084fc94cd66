"""Review: the receipt cookie can be tossed in from a sibling subdomain.

Session and CSRF cookies take the `__Host-` prefix, so nothing but this host can set them. The
receipt cookie is limited to the receipt page's path and so takes only `__Secure-`, which still
lets any HTTPS site on a sibling subdomain (intranet.example.org next to speakup.example.org)
set one with Domain=example.org. The attacker sends a report of their own, takes the sealed
value their browser got (valid for 15 minutes, and not bound to any browser) and plants it with
Path=/report/<channel> in the victim's browser. The browser then sends both cookies to the
receipt page, the victim's (longer path) first and the planted one last, and the page, which
takes the last, shows the victim the *attacker's* receipt: the victim writes it down, loses
their own report, and later writes to the attacker's case, which the attacker reads with it.
"""
from __future__ import annotations

from dataclasses import replace

import pytest
from webtest import TestApp

from tests.factories import make_live_channel
from tests.functional.reporters.helpers import RECEIPT
from whistle.config import make_configurator

NAME = "__Secure-whistle_receipt"


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
    sealed = next(h for h in sent.headers.getall("Set-Cookie") if h.startswith(f"{NAME}=")).split(";")[0].split("=", 1)[1]
    return RECEIPT.search(sent.follow().text).group(0), sealed


def test_a_receipt_cookie_planted_from_a_sibling_site_is_not_shown_to_the_victim(secure_wsgi, tm, dbsession, settings,
                                                                                 clock):
    make_live_channel(dbsession, settings, clock)
    attackers_receipt, planted = _send(_browser(secure_wsgi, tm, dbsession), "A decoy.")
    victim = _browser(secure_wsgi, tm, dbsession)
    victims_receipt, own = _send(victim, "The finance director signs his own expenses.")

    # What the victim's browser sends once the sibling site has planted its cookie: longer path first.
    victim.cookiejar.clear()
    page = victim.get("/report/staff/receipt", headers={"Cookie": f"{NAME}={own}; {NAME}={planted}"})

    shown = RECEIPT.search(page.text)
    assert shown is None or shown.group(0) == victims_receipt, (
        f"the victim is shown the attacker's receipt {attackers_receipt} instead of their own")
