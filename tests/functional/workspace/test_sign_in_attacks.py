"""Failed sign-ins slow the client that fails, never the account's owner.

Anyone who knows a guardian's username can fail to sign in as them as often as they like. The
pause falls on that client (its address, hashed with a key that lives an hour in memory), on that
username and, past a larger number, on any; past the service's budget of failures a minute, a
client that has just failed is refused without its password being checked. The owner, on their own
device, signs in with the right password and code all along, and is told of the failures after.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import delete, select
from webtest import TestApp

from tests.factories import fresh_code, make_staff
from tests.functional.workspace.conftest import events
from whistle import throttles
from whistle.accounts.services import FREE_CLIENT_FAILURES, FREE_FAILURES, SIGN_IN_FAILURES, forget_sign_in_throttles
from whistle.audit.models import AuditEvent
from whistle.config import make_configurator
from whistle.throttles import Throttle

pytestmark = pytest.mark.usefixtures("within_one_hour")  # counts of one client stay under one hour's key


ATTACKER = {"REMOTE_ADDR": "203.0.113.66"}
OWNER = {"REMOTE_ADDR": "198.51.100.7"}
WRONG = "a wrong password, guessed"


def sign_in(app, username: str, password: str, otp: str, client: dict, status: int | list[int] = 200):
    return app.post_json("/api/v1/staff/session", {"username": username, "password": password, "otp": otp},
                         extra_environ=client, status=status)


def test_an_attacker_failing_fifty_times_does_not_keep_the_owner_out(testapp, dbsession, settings, guardian, clock):
    statuses = [sign_in(testapp, "guardian", WRONG, "000000", ATTACKER, status=[401, 429]).status_int
                for _ in range(50)]
    assert statuses == [401] * FREE_FAILURES + [429] * (50 - FREE_FAILURES)
    # The attacker's client is refused even with the right password and code, which are not checked.
    refused = sign_in(testapp, "guardian", guardian.password, fresh_code(guardian, clock), ATTACKER, status=429)
    assert refused.json["type"] == "/api/v1/problems/sign-in-paused" and int(refused.headers["Retry-After"]) > 0
    assert events(dbsession, "login.failed")[-1].detail == {"reason": "paused"}
    # The owner, on their own device, signs in with the right password and code.
    assert sign_in(testapp, "guardian", guardian.password, fresh_code(guardian, clock), OWNER).json["token"]
    # The failures are kept for the owner to be told of, and nowhere is the client named.
    assert guardian.account.failed_logins == 51
    hashes = {throttles.client_hash(client, clock, "sign-in", settings.session_key) for client in (ATTACKER, OWNER)}
    for event in dbsession.scalars(select(AuditEvent)):
        said = f"{event.actor} {event.detail}"
        assert not any(secret in said for secret in (*hashes, "203.0.113.66", "198.51.100.7"))
    keys = dbsession.scalars(select(Throttle.key)).all()
    assert all(len(key) <= 64 for key in keys) and not any("guardian" in key for key in keys)


def test_the_pause_grows_for_that_client_and_ends(testapp, guardian, clock):
    for _ in range(FREE_FAILURES):
        sign_in(testapp, "guardian", WRONG, "000000", ATTACKER, status=401)
    sign_in(testapp, "guardian", WRONG, "000000", ATTACKER, status=429)
    clock.advance(timedelta(minutes=1, seconds=1))
    sign_in(testapp, "guardian", WRONG, "000000", ATTACKER, status=401)  # tried again: a sixth failure
    paused = sign_in(testapp, "guardian", WRONG, "000000", ATTACKER, status=429)
    assert 60 < int(paused.headers["Retry-After"]) <= 121, "two minutes now"
    clock.advance(timedelta(minutes=2, seconds=1))
    sign_in(testapp, "guardian", guardian.password, fresh_code(guardian, clock), ATTACKER)


def test_one_client_trying_many_usernames_is_slowed_too(testapp, dbsession, settings, guardian, clock):
    for number in range(FREE_CLIENT_FAILURES):
        sign_in(testapp, f"someone.{number}", WRONG, "000000", ATTACKER, status=401)
    # Credential stuffing: one failure per username, but the client has failed on too many.
    page = sign_in(testapp, "guardian", guardian.password, fresh_code(guardian, clock), ATTACKER, status=429)
    assert "Too many sign-ins from this device have failed" in page.json["detail"]
    sign_in(testapp, "guardian", guardian.password, fresh_code(guardian, clock), OWNER)


@pytest.fixture
def small_budget(raw_settings, settings, clock, tm, dbsession):
    """The app with a service-wide budget of three failed sign-ins a minute."""
    app = make_configurator(raw_settings, settings=replace(settings, sign_in_failures_per_minute=3),
                            clock=clock).make_wsgi_app()
    return TestApp(app, extra_environ={"HTTP_HOST": "example.com", "tm.active": True, "tm.manager": tm,
                                       "app.dbsession": dbsession})


def test_past_the_service_budget_failing_clients_are_refused_unchecked_and_fresh_ones_checked(
        small_budget, dbsession, guardian, clock):
    botnet = [{"REMOTE_ADDR": f"203.0.113.{number}"} for number in range(1, 5)]
    for client in botnet[:3]:
        sign_in(small_budget, "guardian", WRONG, "000000", client, status=401)
    # The budget is spent: a client that failed within the minute is not checked, not even the right
    # password and code (a code is good once: the refused one is not used up, as it was not checked).
    code = fresh_code(guardian, clock)
    refused = sign_in(small_budget, "guardian", guardian.password, code, botnet[0], status=429)
    assert "Many sign-ins have failed on this service in the last minute" in refused.json["detail"]
    assert int(refused.headers["Retry-After"]) <= 61
    assert events(dbsession, "login.failed")[-1].detail == {"reason": "busy"}
    assert dbsession.get(Throttle, SIGN_IN_FAILURES).count == 4, "refusals keep the budget spent"
    # A client with no recent failure is checked: a wrong password fails as ever, and the owner gets in.
    sign_in(small_budget, "guardian", WRONG, "000000", botnet[3], status=401)
    assert sign_in(small_budget, "guardian", guardian.password, code, OWNER).json["token"]
    # A minute after its last failure the first client is checked again.
    clock.advance(timedelta(seconds=61))
    sign_in(small_budget, "guardian", guardian.password, fresh_code(guardian, clock), botnet[0])


def test_the_sign_in_page_says_when_to_try_again_and_keeps_the_username(testapp, guardian, clock):
    for _ in range(FREE_FAILURES):
        sign_in(testapp, "guardian", WRONG, "000000", ATTACKER, status=401)
    form = testapp.get("/staff/login", extra_environ=ATTACKER).forms[0]
    form["username"], form["password"], form["otp"] = "guardian", guardian.password, fresh_code(guardian, clock)
    page = form.submit(status=429, extra_environ=ATTACKER)
    assert "Too many sign-ins from this device have failed" in page.text and "Try again after" in page.text
    assert page.forms[0]["username"].value == "guardian" and int(page.headers["Retry-After"]) > 0


def test_the_owner_is_told_of_the_failures_after_signing_in_and_marks_them_read(testapp, dbsession, guardian, clock):
    for _ in range(12):
        sign_in(testapp, "guardian", WRONG, "000000", ATTACKER, status=[401, 429])
    form = testapp.get("/staff/login", extra_environ=OWNER).forms[0]
    form["username"], form["password"], form["otp"] = "guardian", guardian.password, fresh_code(guardian, clock)
    inbox = form.submit(extra_environ=OWNER).follow(extra_environ=OWNER)
    notice = inbox.html.find(id="failed-sign-ins")
    assert notice is not None and "12 failed sign-ins on your account" in notice.text
    assert testapp.get("/staff/sessions").html.find(id="failed-sign-ins") is not None, "on every staff page"
    inbox = notice.find("form")
    testapp.post(inbox["action"], {"csrf_token": inbox.find("input")["value"]}).follow()
    assert guardian.account.failed_logins == 0
    assert testapp.get("/staff/cases").html.find(id="failed-sign-ins") is None


def test_another_guardian_is_not_told_of_failures_on_an_account_not_theirs(testapp, dbsession, settings, guardian,
                                                                         clock):
    other = make_staff(dbsession, settings, clock, "other")
    sign_in(testapp, "guardian", WRONG, "000000", ATTACKER, status=401)
    form = testapp.get("/staff/login").forms[0]
    form["username"], form["password"], form["otp"] = "other", other.password, fresh_code(other, clock)
    assert form.submit().follow().html.find(id="failed-sign-ins") is None


def test_rows_of_clients_no_longer_counted_are_deleted(testapp, dbsession, guardian, clock):
    dbsession.execute(delete(Throttle))  # rows another test committed to the shared database (rolled back here)
    sign_in(testapp, "guardian", WRONG, "000000", ATTACKER, status=401)
    per_client = lambda: [key for key in dbsession.scalars(select(Throttle.key)) if key != SIGN_IN_FAILURES]  # noqa: E731
    assert len(per_client()) == 2
    assert forget_sign_in_throttles(dbsession, clock) == 0
    clock.advance(timedelta(hours=2, seconds=1))
    assert forget_sign_in_throttles(dbsession, clock) == 2 and per_client() == []


def test_addresses_in_one_ipv6_slash_64_are_one_client(testapp, guardian, clock):
    for number in range(FREE_FAILURES):
        sign_in(testapp, "guardian", WRONG, "000000", {"REMOTE_ADDR": f"2001:db8:1:2::{number + 1:x}"}, status=401)
    sign_in(testapp, "guardian", guardian.password, fresh_code(guardian, clock),
            {"REMOTE_ADDR": "2001:db8:1:2:ffff::9"}, status=429)
    sign_in(testapp, "guardian", guardian.password, fresh_code(guardian, clock), {"REMOTE_ADDR": "2001:db8:1:3::1"})


@pytest.mark.parametrize("address", ["127.0.0.1", ""])
def test_where_the_address_tells_no_client_apart_only_the_pause_per_username_applies(
        small_budget, dbsession, settings, guardian, clock, address):
    """Behind the sample reverse proxy every request comes from 127.0.0.1: counting that as one
    client would let one attacker pause every sign-in of the service."""
    proxy = {"REMOTE_ADDR": address}
    other = make_staff(dbsession, settings, clock, "other")
    for number in range(FREE_CLIENT_FAILURES + 2):
        sign_in(small_budget, f"someone.{number}", WRONG, "000000", proxy, status=401)
    sign_in(small_budget, "other", other.password, fresh_code(other, clock), proxy)
    for _ in range(FREE_FAILURES):
        sign_in(small_budget, "guardian", WRONG, "000000", proxy, status=401)
    sign_in(small_budget, "guardian", guardian.password, fresh_code(guardian, clock), proxy, status=429)
    assert not [key for key in dbsession.scalars(select(Throttle.key)) if key.startswith("sign-in-client:")]
