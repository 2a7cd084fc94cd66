"""Staff accounts: password rules, throttling, password change and reset, sessions."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.factories import PASSWORD, api_login, fresh_code, html_login, make_staff
from tests.functional.workspace.conftest import events, last_event
from whistle.accounts.services import (
    RECOVERY_THROTTLE,
    AccountError,
    add_account,
    check_password,
    lock_for,
    private_key_with_password,
)
from whistle.sessions.models import LoginSession
from whistle.throttles import Throttle

pytestmark = pytest.mark.usefixtures("within_one_hour")  # counts of one client stay under one hour's key


NEW_PASSWORD = "a brand new long passphrase"


@pytest.mark.parametrize("password", ["short", "qwerty123456", "LeaveMeAlone", "Q1W2E3R4T5Y6"])
def test_short_and_common_passwords_are_refused(password):
    with pytest.raises(AccountError):
        check_password(password)


def test_the_common_list_ships_with_its_source_and_is_used_at_enrolment(dbsession, settings, clock):
    with pytest.raises(AccountError, match="common passwords"):
        add_account(dbsession, settings, clock, username="weak", password="123456qwerty")
    check_password(PASSWORD)  # a long, uncommon passphrase is fine


ATTACKER = {"REMOTE_ADDR": "203.0.113.66"}
OWNER = {"REMOTE_ADDR": "198.51.100.7"}


def login(testapp, staff, clock, password=None, status=200, client=None):
    return testapp.post_json("/api/v1/staff/session", {"username": staff.username, "password": password or staff.password,
                                                       "otp": fresh_code(staff, clock)}, status=status,
                             extra_environ=client or {})


def test_repeated_failures_pause_that_client_on_that_username_only(testapp, dbsession, settings, clock, guardian):
    other = make_staff(dbsession, settings, clock, "other")
    for _ in range(5):
        login(testapp, guardian, clock, password="wrong password here", status=401, client=ATTACKER)
    # Paused: from that client even the right password is refused, untried, saying until when.
    refused = login(testapp, guardian, clock, status=429, client=ATTACKER)
    assert refused.json["type"] == "/api/v1/problems/sign-in-paused"
    assert "Try again after" in refused.json["detail"] and 0 < int(refused.headers["Retry-After"]) <= 61
    assert last_event(dbsession).detail == {"reason": "paused"}
    login(testapp, other, clock, client=ATTACKER)  # the pause is on that username (ten on any pause the client)
    login(testapp, guardian, clock, client=OWNER)  # and that client's: the account's owner gets in
    clock.advance(lock_for(5) + timedelta(seconds=1))
    login(testapp, guardian, clock, client=ATTACKER)
    assert guardian.account.failed_logins == 6, "five wrong and one refused, to tell the owner of"


def test_the_pause_grows_and_is_capped():
    assert lock_for(4) is None
    assert [lock_for(n) for n in (5, 6, 7)] == [timedelta(minutes=m) for m in (1, 2, 4)]
    assert lock_for(50) == timedelta(hours=1)


def test_password_change_rewraps_the_key_and_ends_other_sessions(testapp, dbsession, guardian, submitted, clock):
    ref = submitted["case"]
    other_device = api_login(testapp, guardian, clock)
    headers = api_login(testapp, guardian, clock)
    wrong = testapp.post_json("/api/v1/staff/password", {"current": "not it at all", "new": NEW_PASSWORD},
                              headers=headers, status=422)
    assert wrong.json["errors"][0]["field"] == "current"
    common = testapp.post_json("/api/v1/staff/password", {"current": PASSWORD, "new": "leavemealone"},
                               headers=headers, status=422)
    assert common.json["errors"][0]["field"] == "new"
    testapp.post_json("/api/v1/staff/password", {"current": PASSWORD, "new": NEW_PASSWORD}, headers=headers, status=204)
    assert last_event(dbsession).action == "account.password_changed"
    assert testapp.get("/api/v1/cases", headers=other_device, status=401)
    assert testapp.get(f"/api/v1/cases/{ref}", headers=headers).json["case"] == ref
    assert private_key_with_password(guardian.account, NEW_PASSWORD)
    login(testapp, guardian, clock, status=401)
    guardian.password = NEW_PASSWORD
    fresh = {"Authorization": f"Bearer {login(testapp, guardian, clock).json['token']}"}
    assert testapp.get(f"/api/v1/cases/{ref}", headers=fresh).json["text"].startswith("The night shift")


def test_password_change_through_the_page(testapp, guardian, clock):
    html_login(testapp, guardian, clock)
    form = testapp.get("/staff/password").forms[1]
    form["current"], form["new"], form["again"] = PASSWORD, NEW_PASSWORD, "something else entirely"
    assert "differ" in form.submit(status=422).text
    form = testapp.get("/staff/password").forms[1]
    form["current"], form["new"], form["again"] = PASSWORD, NEW_PASSWORD, NEW_PASSWORD
    assert "Your password is changed" in form.submit().text
    assert testapp.get("/staff/cases").status_int == 200, "this session goes on"


def test_forgotten_password_reset_with_the_recovery_key_keeps_the_cases(testapp, dbsession, guardian, submitted, clock):
    ref = submitted["case"]
    before = api_login(testapp, guardian, clock)
    form = testapp.get("/staff/forgot-password").forms[0]
    form["username"], form["recovery_key"] = "guardian", "WRONG-KEY"
    form["new"] = form["again"] = NEW_PASSWORD
    refused = form.submit(status=422)
    assert "do not match" in refused.text and 'value="guardian"' in refused.text
    form = refused.forms[0]
    form["recovery_key"] = guardian.recovery_key
    form["new"] = form["again"] = NEW_PASSWORD
    assert "Your password is reset" in form.submit().text
    assert last_event(dbsession).action == "account.password_reset"
    assert testapp.get("/api/v1/cases", headers=before, status=401), "every session ended"
    guardian.password = NEW_PASSWORD
    headers = api_login(testapp, guardian, clock)
    assert testapp.get(f"/api/v1/cases/{ref}", headers=headers).json["text"].startswith("The night shift")


def test_session_list_and_log_out_everywhere(testapp, dbsession, guardian, clock):
    phone = api_login(testapp, guardian, clock)
    html_login(testapp, guardian, clock)
    page = testapp.get("/staff/sessions")
    assert page.text.count("<tr>") == 1 + 2 and "this one" in page.text
    listed = testapp.get("/api/v1/staff/sessions", headers=phone).json["sessions"]
    assert len(listed) == 2 and sum(s["current"] for s in listed) == 1
    page.forms[1].submit().follow()
    assert testapp.get("/staff/cases").location.endswith("/staff/login")
    assert testapp.get("/api/v1/cases", headers=phone, status=401)
    assert dbsession.scalars(select(LoginSession).where(LoginSession.account_id == guardian.account.id)).all() == []
    assert events(dbsession, "logout.everywhere")[-1].detail == {"sessions": 2}


def test_signing_in_again_while_signed_in_opens_a_second_session(testapp, dbsession, guardian, clock):
    html_login(testapp, guardian, clock)
    assert html_login(testapp, guardian, clock).status_int == 200
    assert len(dbsession.scalars(select(LoginSession).where(LoginSession.account_id == guardian.account.id)).all()) == 2


def test_log_out_everywhere_through_the_api(testapp, guardian, clock):
    first, second = api_login(testapp, guardian, clock), api_login(testapp, guardian, clock)
    testapp.delete("/api/v1/staff/sessions", headers=first, status=204)
    assert testapp.get("/api/v1/cases", headers=second, status=401)


def test_guessing_the_current_password_through_a_session_counts_as_failed_logins(testapp, dbsession, guardian, clock):
    headers = api_login(testapp, guardian, clock)
    for _ in range(5):
        testapp.post_json("/api/v1/staff/password", {"current": "a wrong guess here", "new": NEW_PASSWORD},
                          headers=headers, status=422)
    assert [e.detail["reason"] for e in events(dbsession, "account.password_change_failed")] == ["wrong-password"] * 5
    # That client is paused now: even the right current password is refused, and its sign-in too.
    testapp.post_json("/api/v1/staff/password", {"current": PASSWORD, "new": NEW_PASSWORD}, headers=headers, status=422)
    assert events(dbsession, "account.password_change_failed")[-1].detail == {"reason": "paused"}
    login(testapp, guardian, clock, status=429)
    login(testapp, guardian, clock, client=OWNER)  # the owner, from another device, is not


def test_a_failed_reset_is_counted_and_changes_nothing(testapp, dbsession, guardian, clock):
    before, last = guardian.account.key_by_device, last_event(dbsession).seq
    form = testapp.get("/staff/forgot-password").forms[0]
    form["username"], form["recovery_key"] = "guardian", "not-the-key"
    form["new"] = form["again"] = NEW_PASSWORD
    form.submit(status=422)
    assert dbsession.get(Throttle, RECOVERY_THROTTLE).count == 1, "counted, for the hour's one audit event"
    assert last_event(dbsession).seq == last, "not one audit event per wrong key"
    assert guardian.account.key_by_device == before
