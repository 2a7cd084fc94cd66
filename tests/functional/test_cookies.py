"""Cookie names: `__Host-` when Secure, plain names over plain HTTP (development)."""
from __future__ import annotations

from dataclasses import replace

import pytest
from webtest import TestApp

from tests.factories import fresh_code, html_login, make_live_channel, make_staff
from tests.functional.reporters.helpers import come_back, receipt_of, submit_disclosure
from whistle.config import make_configurator
from whistle.security.cookies import cookie_name


def cookies(testapp) -> dict[str, str]:
    return {c.name: c.value for c in testapp.cookiejar if c.value}


@pytest.fixture
def secure_app(raw_settings, settings, clock, tm, dbsession):
    """The app as production runs it (whistle.cookies.secure = true), reached over https."""
    app = make_configurator(raw_settings, settings=replace(settings, cookies_secure=True), clock=clock).make_wsgi_app()
    return TestApp(app, extra_environ={"HTTP_HOST": "example.com", "wsgi.url_scheme": "https", "tm.active": True,
                                       "tm.manager": tm, "app.dbsession": dbsession})


def set_cookie_headers(response) -> dict[str, str]:
    return {header.split("=", 1)[0]: header for header in response.headers.getall("Set-Cookie")}


def test_secure_cookies_take_the_host_prefix(secure_app, dbsession, settings, clock):
    make_live_channel(dbsession, settings, clock)
    staff = make_staff(dbsession, settings, clock)
    page = secure_app.get("/staff/login")
    csrf = set_cookie_headers(page)["__Host-whistle_csrf"]
    form = page.forms[0]
    form["username"], form["password"], form["otp"] = staff.username, staff.password, fresh_code(staff, clock)
    signed_in = form.submit(status=302)
    headers = set_cookie_headers(signed_in)
    assert set(headers) == {"__Host-whistle_staff", "__Host-whistle_csrf"}
    assert "Max-Age=0" in headers["__Host-whistle_csrf"], "the visitor's CSRF cookie goes at sign-in"
    for header in (csrf, headers["__Host-whistle_staff"]):
        attributes = [part.strip().lower() for part in header.split(";")[1:]]
        assert {"path=/", "secure", "httponly", "samesite=strict"} <= set(attributes)
        assert not any(a.startswith("domain") for a in attributes)
    assert secure_app.get("/staff/cases").status_int == 200
    # The plain name is not read when cookies are Secure: a cookie planted without the prefix is no session.
    token = next(c.value for c in secure_app.cookiejar if c.name == "__Host-whistle_staff")
    secure_app.cookiejar.clear()
    secure_app.set_cookie("whistle_staff", token)
    assert secure_app.get("/staff/cases").location.endswith("/staff/login")

    secure_app.cookiejar.clear()
    receipt = receipt_of(submit_disclosure(secure_app))
    come_back(secure_app, receipt)
    assert "__Host-whistle_reporter" in cookies(secure_app)


def test_plain_names_without_secure(testapp, dbsession, settings, clock):
    staff = make_staff(dbsession, settings, clock)
    page = testapp.get("/staff/login")
    assert set(set_cookie_headers(page)) == {"whistle_csrf"}
    assert "secure" not in set_cookie_headers(page)["whistle_csrf"].lower()
    html_login(testapp, staff, clock)
    assert "whistle_staff" in cookies(testapp)


def test_one_rule_names_every_cookie():
    assert cookie_name("whistle_receipt", True) == "__Host-whistle_receipt"
    assert cookie_name("whistle_receipt", False) == "whistle_receipt"
