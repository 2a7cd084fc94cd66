"""Review: "digits" that int() refuses answer 500.

str.isdigit() is true for superscripts and other digit characters ("²", "³", "¹") that int()
does not take, and for strings longer than int() will convert (4,300 digits): three form fields
check with isdigit() and then call int(), so a hostile value escapes as an unhandled ValueError
(a 500 and a traceback in the log) instead of a 4xx naming the field. The reporter's check-in
form is reachable by anyone who sends themselves a report.
"""
from __future__ import annotations

import pytest

from tests.factories import html_login, make_live_channel, make_staff, submit_api
from tests.functional.reporters.helpers import come_back, receipt_of, submit_disclosure

HOSTILE = ["²", "9" * 5000]


@pytest.mark.parametrize("month", HOSTILE, ids=["superscript", "5000-digits"])
def test_the_reporters_check_in_form_refuses_a_month_that_is_not_a_number(testapp, dbsession, settings, clock, month):
    make_live_channel(dbsession, settings, clock)
    page = come_back(testapp, receipt_of(submit_disclosure(testapp)))
    csrf = page.forms["message-form"]["csrf_token"].value

    answer = testapp.post("/mailbox/case/checkins", {"csrf_token": csrf, "month": month, "detriment": "yes"},
                          expect_errors=True)
    assert answer.status_int < 500, f"{answer.status_int} for month={month[:10]!r}"


@pytest.mark.parametrize("window", HOSTILE, ids=["superscript", "5000-digits"])
def test_the_protection_form_refuses_a_window_that_is_not_a_number(testapp, dbsession, settings, clock, window):
    make_live_channel(dbsession, settings, clock)
    guardian = make_staff(dbsession, settings, clock, "watch.guardian", channels=["staff"])
    sent = submit_api(testapp)
    token = testapp.post_json("/api/v1/reporter/session", {"receipt": sent["receipt"]}).json["token"]
    testapp.post_json("/api/v1/reporter/protection-consent", {"consent": True},
                      headers={"Authorization": f"Bearer {token}"})
    html_login(testapp, guardian, clock)
    form = testapp.get(f"/staff/cases/{sent['case']}").forms["protection-form"]
    form["personnel_id"] = "E12345"
    form["window_months"] = window

    answer = form.submit(expect_errors=True)
    assert answer.status_int < 500, f"{answer.status_int} for window_months={window[:10]!r}"


@pytest.mark.parametrize("raw_id", HOSTILE, ids=["superscript", "5000-digits"])
def test_retrying_a_notice_refuses_an_id_that_is_not_a_number(testapp, dbsession, settings, clock, raw_id):
    admin = make_staff(dbsession, settings, clock, "retry.admin", admin=True, guardian=False)
    html_login(testapp, admin, clock)
    csrf = testapp.get("/admin/notifications").html.find("input", {"name": "csrf_token"})["value"]

    answer = testapp.post("/admin/notifications/retry", {"csrf_token": csrf, "id": raw_id}, expect_errors=True)
    assert answer.status_int < 500, f"{answer.status_int} for id={raw_id[:10]!r}"
