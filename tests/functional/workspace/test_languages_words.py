"""whistle.words in the page's language: the case page's timeline and the admin's audit log say
each event in Welsh or Arabic under /cy/ and /ar/ (and in English, unchanged, without a prefix), a
refused form names its field in the page's language, and a moment is shown in the installation's
time zone whatever the language."""
from __future__ import annotations

from dataclasses import replace
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from webtest import TestApp

from tests.factories import html_login
from whistle.config import make_configurator


def test_the_case_timeline_is_in_the_pages_language(testapp, guardian, submitted, clock):
    ref = submitted["case"]
    html_login(testapp, guardian, clock)
    english = testapp.get(f"/staff/cases/{ref}").text
    assert "The reporter opened the case on the Raise a concern channel, anonymously" in english
    assert "guardian read the case" in english

    welsh = testapp.get(f"/cy/staff/cases/{ref}").text
    assert "Agorodd yr adroddwr yr achos ar sianel Raise a concern, yn ddienw" in welsh
    assert "Darllenodd guardian yr achos" in welsh
    assert "opened the case" not in welsh and "read the case" not in welsh

    arabic = testapp.get(f"/ar/staff/cases/{ref}").text
    assert "المُبلِّغ: فُتحت القضية في قناة Raise a concern دون ذكر الاسم" in arabic
    assert "guardian: قُرئت القضية" in arabic
    assert "opened the case" not in arabic and "read the case" not in arabic


def test_a_refused_form_names_its_field_in_the_pages_language(testapp, guardian, submitted, clock):
    ref = submitted["case"]
    html_login(testapp, guardian, clock)
    form = testapp.get(f"/cy/staff/cases/{ref}").forms["note-form"]
    form["text"] = ""
    refused = form.submit(status=422)
    assert "Ychwanegu nodyn: " in refused.text
    assert "Add a note: " not in refused.text


def test_the_audit_log_is_in_the_pages_language(testapp, admin, clock):
    html_login(testapp, admin, clock)
    english = testapp.get("/admin/audit").text
    assert "admin signed in" in english
    arabic = testapp.get("/ar/admin/audit").text
    assert "admin: تم تسجيل الدخول" in arabic
    assert "admin signed in" not in arabic
    polish = testapp.get("/pl/admin/audit").text
    assert "admin: zalogowano" in polish
    assert "admin signed in" not in polish


def test_a_moment_on_a_guardian_page_is_in_the_installations_time_zone_in_polish(
        raw_settings, settings, clock, tm, dbsession, guardian, submitted):
    warsaw = ZoneInfo("Europe/Warsaw")
    app = make_configurator(raw_settings, settings=replace(settings, display_timezone=warsaw),
                            clock=clock).make_wsgi_app()
    browser = TestApp(app, extra_environ={"HTTP_HOST": "example.com", "tm.active": True, "tm.manager": tm,
                                          "app.dbsession": dbsession})
    ref = submitted["case"]
    html_login(browser, guardian, clock)
    read_at = clock.now()  # the clock stands still: the case is read, and the event dated, now
    page = browser.get(f"/pl/staff/cases/{ref}").text
    local = read_at.astimezone(warsaw)
    in_warsaw = f"{format_datetime(local, 'd MMM y, HH:mm', locale='pl_PL')} {local.tzname()}"
    in_utc = f"{format_datetime(read_at, 'd MMM y, HH:mm', locale='pl_PL')} UTC"
    assert in_warsaw in page
    assert in_utc not in page
