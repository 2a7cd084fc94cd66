"""CSRF tokens tied to the login session, and a signed double-submit for visitors without one."""
from __future__ import annotations

from sqlalchemy import func, select

from tests.factories import fresh_code, html_login, make_live_channel, make_staff
from tests.functional.reporters.helpers import come_back, receipt_of, submit_disclosure
from whistle.cases.models import ITEM_MESSAGE, Case, CaseItem
from whistle.sessions.models import LoginSession


def cookies(testapp) -> dict[str, str]:
    return {c.name: c.value for c in testapp.cookiejar if c.value}


def login_token(testapp) -> str:
    return testapp.get("/staff/login").forms[0]["csrf_token"].value


def staff_token(testapp) -> str:
    """The token in a signed-in staff page's forms (the session list's log-out-everywhere)."""
    return testapp.get("/staff/sessions").forms[1]["csrf_token"].value


def post_login(testapp, staff, clock, token, **kw):
    return testapp.post("/staff/login", {"csrf_token": token, "username": staff.username, "password": staff.password,
                                         "otp": fresh_code(staff, clock)}, **kw)


def test_the_token_before_staff_sign_in_is_refused_after_it(testapp, dbsession, settings, clock):
    staff = make_staff(dbsession, settings, clock)
    before = login_token(testapp)
    assert "whistle_csrf" in cookies(testapp)
    post_login(testapp, staff, clock, before, status=302)
    assert "whistle_csrf" not in cookies(testapp), "the visitor cookie goes at sign-in"
    refused = testapp.post("/staff/logout", {"csrf_token": before}, status=400)
    assert "expired" in refused.text
    assert testapp.get("/staff/cases").status_int == 200, "still signed in: the forged logout did nothing"
    after = staff_token(testapp)
    assert after != before
    testapp.post("/staff/logout", {"csrf_token": after}, status=302)
    assert testapp.get("/staff/cases").location.endswith("/staff/login")


def test_a_token_from_another_session_is_refused(testapp, dbsession, settings, clock):
    staff = make_staff(dbsession, settings, clock)
    html_login(testapp, staff, clock)
    first = staff_token(testapp)
    html_login(testapp, staff, clock)  # signing in again in the same browser: a second session
    assert dbsession.scalar(select(func.count()).select_from(LoginSession)) == 2, "the first one is still live"
    second = staff_token(testapp)
    assert first != second
    testapp.post("/staff/sessions", {"csrf_token": first}, status=400)
    assert dbsession.scalar(select(func.count()).select_from(LoginSession)) == 2
    testapp.post("/staff/sessions", {"csrf_token": second}, status=302)
    assert dbsession.scalar(select(func.count()).select_from(LoginSession)) == 0


def test_signing_out_changes_the_token(testapp, dbsession, settings, clock):
    staff = make_staff(dbsession, settings, clock)
    html_login(testapp, staff, clock)
    during = staff_token(testapp)
    testapp.post("/staff/logout", {"csrf_token": during}, status=302)
    after = login_token(testapp)
    assert after != during
    # The session's token no longer signs anything, not even the sign-in form.
    post_login(testapp, staff, clock, during, status=400)
    post_login(testapp, staff, clock, after, status=302)


def test_the_visitor_cookie_value_is_not_the_token(testapp, dbsession, settings, clock):
    staff = make_staff(dbsession, settings, clock)
    token = login_token(testapp)
    value = cookies(testapp)["whistle_csrf"]
    assert value != token
    post_login(testapp, staff, clock, value, status=400)
    post_login(testapp, staff, clock, token, status=302)


def test_the_token_before_the_mailbox_sign_in_is_refused_after_it(testapp, dbsession, settings, clock):
    make_live_channel(dbsession, settings, clock)
    receipt = receipt_of(submit_disclosure(testapp))  # no session at all: the visitor cookie's token
    before = testapp.get("/mailbox").forms[0]["csrf_token"].value
    page = come_back(testapp, receipt)
    assert "whistle_reporter" in cookies(testapp) and "whistle_csrf" not in cookies(testapp)
    form = page.forms["message-form"]
    after = form["csrf_token"].value
    assert after != before
    form["text"], form["csrf_token"] = "Sent with the old token", before
    refused = form.submit(status=400)
    assert "expired" in refused.text and refused.forms["message-form"]["text"].value == "Sent with the old token"
    case = dbsession.scalars(select(Case)).one()
    assert dbsession.scalar(select(func.count()).select_from(CaseItem)
                            .where(CaseItem.case_id == case.id, CaseItem.kind == ITEM_MESSAGE)) == 0
    form = refused.forms["message-form"]
    assert form["csrf_token"].value == after
    form.submit(status=303)
    assert dbsession.scalar(select(func.count()).select_from(CaseItem)
                            .where(CaseItem.case_id == case.id, CaseItem.kind == ITEM_MESSAGE)) == 1


def test_leaving_the_mailbox_changes_the_token(testapp, dbsession, settings, clock):
    make_live_channel(dbsession, settings, clock)
    page = come_back(testapp, receipt_of(submit_disclosure(testapp)))
    during = page.forms["message-form"]["csrf_token"].value
    page.forms["leave-form"].submit()
    assert testapp.get("/mailbox").forms[0]["csrf_token"].value != during


def test_the_report_form_works_without_any_session_and_wants_the_token_not_the_cookie(testapp, dbsession, settings, clock):
    make_live_channel(dbsession, settings, clock)
    form = testapp.get("/report/staff").forms[0]
    assert not {"whistle_staff", "whistle_reporter"} & set(cookies(testapp))
    value = cookies(testapp)["whistle_csrf"]
    assert form["csrf_token"].value != value
    token = form["csrf_token"].value
    form["text"], form["answers.ongoing"], form["csrf_token"] = "Words typed without JavaScript", "yes", value
    refused = form.submit(status=400)
    assert refused.forms[0]["text"].value == "Words typed without JavaScript"
    assert dbsession.scalar(select(func.count()).select_from(Case)) == 0
    form = refused.forms[0]
    assert form["csrf_token"].value == token, "the same visitor cookie, the same token"
    assert receipt_of(form.submit(status=303).follow())
    assert dbsession.scalar(select(func.count()).select_from(Case)) == 1
