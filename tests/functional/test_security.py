"""The security baseline: deny by default, headers on every response, no tracebacks, CSRF."""
from __future__ import annotations

import logging

import pytest
from webtest import TestApp

from tests.factories import html_login, make_channel, make_staff
from whistle.config import make_configurator
from whistle.security import Permission
from whistle.security.headers import SCRIPTS_CSP, SECURITY_HEADERS


def route_views(app):
    for view in app.registry.introspector.get_category("views"):
        intr = view["introspectable"]
        if not intr["exception_only"] and intr["route_name"]:
            permissions = [r["value"] for r in view["related"] if r.category_name == "permissions"]
            yield intr.title, intr["route_name"], permissions


def test_every_view_declares_a_permission_from_the_enum(app):
    declared = {p.value for p in Permission}
    views = list(route_views(app))
    assert len(views) >= 10
    for title, route, permissions in views:
        assert len(permissions) == 1 and str(permissions[0]) in declared, f"{title} on {route} declares {permissions}"


def test_a_view_that_forgets_its_permission_is_denied(raw_settings, settings, clock):
    config = make_configurator(raw_settings, settings=settings, clock=clock)
    config.add_route("forgotten", "/forgotten")
    config.add_view(lambda request: {"secret": True}, route_name="forgotten", renderer="json")
    response = TestApp(config.make_wsgi_app()).get("/forgotten", expect_errors=True)
    assert response.status_int == 403


@pytest.mark.parametrize(
    ("path", "status"),
    [("/", 200), ("/healthz", 200), ("/api/v1/channels", 200), ("/static/whistle.css", 200),
     ("/nowhere", 404), ("/api/v1/nowhere", 404), ("/api/v1/cases", 401), ("/staff/cases", 302),
     ("/staff/forgot-password", 200)],
)
def test_security_headers_are_on_every_response(testapp, path, status):
    response = testapp.get(path, status=status)
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, name
    assert "Server" not in response.headers
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src" not in csp


# The mailbox's receipt form (also what /mailbox/case shows without a session); the mailbox itself,
# as the server renders it for a session opened without JavaScript, runs none (test_mailbox_pages.py).
SCRIPT_PAGES = {"/report/staff": "/static/js/intake.js", "/mailbox": "/static/js/mailbox.js",
                "/mailbox/case": "/static/js/mailbox.js", "/staff/login": "/static/js/login.js"}
NO_SCRIPT_PAGES = [("/", 200), ("/report/staff/receipt", 200),
                   ("/staff/forgot-password", 200), ("/report/nowhere", 404), ("/nowhere", 404)]


def test_only_the_report_form_the_mailbox_and_staff_sign_in_run_a_script_and_only_their_own(testapp, dbsession, settings, clock):
    make_channel(dbsession)
    make_staff(dbsession, settings, clock, channels=["staff"])
    for path, script in SCRIPT_PAGES.items():
        page = testapp.get(path)
        assert page.headers["Content-Security-Policy"] == SCRIPTS_CSP, path
        assert [(tag.get("type"), tag.get("src"), tag.string) for tag in page.html.find_all("script")] == [
            ("module", script, None)], path
    for path, status in NO_SCRIPT_PAGES:
        page = testapp.get(path, status=status)
        assert page.headers["Content-Security-Policy"] == SECURITY_HEADERS["Content-Security-Policy"], path
        assert "script-src" not in page.headers["Content-Security-Policy"] and "<script" not in page.text, path
    # The scripts the two pages load are served as JavaScript, with the same headers as any file.
    for script in [*SCRIPT_PAGES.values(), "/static/js/crypto.js", "/static/js/reporter.js",
                   "/static/vendor/libsodium/libsodium-wrappers.mjs"]:
        served = testapp.get(script)
        assert served.content_type == "text/javascript" and served.headers["X-Content-Type-Options"] == "nosniff"


def test_cookies_are_http_only_and_same_site_strict(testapp, dbsession, settings, clock):
    make_channel(dbsession)
    staff = make_staff(dbsession, settings, clock)
    testapp.get("/staff/login")
    cookies = {c.name: c for c in testapp.cookiejar}  # the visitor's CSRF cookie goes at sign-in
    html_login(testapp, staff, clock)
    cookies.update({c.name: c for c in testapp.cookiejar})
    assert {"whistle_csrf", "whistle_staff"} <= set(cookies)
    for cookie in cookies.values():
        assert cookie.has_nonstandard_attr("HttpOnly")
        assert cookie.get_nonstandard_attr("SameSite") == "Strict"


def test_staff_forms_need_the_csrf_token(testapp, dbsession, settings, clock):
    make_staff(dbsession, settings, clock)
    testapp.get("/staff/login")
    response = testapp.post("/staff/login", {"username": "guardian", "password": "x", "otp": "1"}, expect_errors=True)
    assert response.status_int == 400
    assert "expired" in response.text


@pytest.fixture
def crashing_app(raw_settings, settings, clock):
    def crash(request):
        content = "-".join(["CONTENT", "OF", "A", "DISCLOSURE"])  # built at run time, like real content
        raise RuntimeError(content)

    config = make_configurator(raw_settings, settings=settings, clock=clock)
    config.add_route("crash", "/crash")
    config.add_route("api.crash", "/api/v1/crash")
    config.add_view(crash, route_name="crash", permission=Permission.PUBLIC)
    config.add_view(crash, route_name="api.crash", permission=Permission.PUBLIC)
    return TestApp(config.make_wsgi_app())


def test_an_unexpected_error_shows_no_traceback(crashing_app, caplog):
    with caplog.at_level(logging.ERROR):
        page = crashing_app.get("/crash", status=500)
        api = crashing_app.get("/api/v1/crash", status=500)
    for body in (page.text, api.text):
        assert "Traceback" not in body and "CONTENT-OF-A-DISCLOSURE" not in body and "RuntimeError" not in body
    assert "Something went wrong on our side" in page.text
    assert api.content_type == "application/problem+json" and api.json["status"] == 500
    assert page.headers["Content-Security-Policy"] == SECURITY_HEADERS["Content-Security-Policy"]
    # The operator gets the type and where; never the message, which could carry content.
    assert "RuntimeError" in caplog.text and "crash" in caplog.text
    assert "CONTENT-OF-A-DISCLOSURE" not in caplog.text


def test_health_answers_ok(testapp):
    assert testapp.get("/healthz").json == {"status": "ok"}
