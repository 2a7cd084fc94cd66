"""Signing in on the guardian's device: the password never reaches the server, the session holds
no key, failures count as before, unknown usernames look like real ones; accounts made before
device sign-in move over at their next password sign-in and keep reading their cases; and with
server-assisted sign-in off a password is refused."""
from __future__ import annotations

import base64
from dataclasses import replace

import pytest
from sqlalchemy import select
from webtest import TestApp

from tests.factories import (
    PASSWORD,
    api_device_login,
    b64,
    bearer,
    device_keys,
    fresh_code,
    html_login,
    make_legacy_staff,
    submit_api,
)
from tests.functional.workspace.conftest import events
from whistle import crypto
from whistle.config import make_configurator
from whistle.sessions.models import LoginSession
from whistle.sessions.services import NO_PRIVATE_KEY

JSON = {"Accept": "application/json"}


def session_key_of(dbsession, settings, token: str) -> bytes:
    """What the session row of `token` holds: the guardian's private key, or NO_PRIVATE_KEY."""
    row = dbsession.scalars(select(LoginSession).where(
        LoginSession.token_id == crypto.session_token_id(token, settings.session_key))).one()
    return crypto.unwrap_for_session(row.wrapped_key, token, settings.session_key)


def form_login(testapp, staff, clock, password: str | None = None, *, auth_key: bytes | None = None,
               status: int = 200):
    """The sign-in form posted as login.js posts it: form-encoded, asking for JSON."""
    csrf = testapp.get("/staff/login").forms[0]["csrf_token"].value
    fields = {"username": staff.username, "otp": fresh_code(staff, clock), "csrf_token": csrf}
    if auth_key is not None:
        fields["auth_key"] = b64(auth_key)
    else:
        fields["password"] = password or staff.password
    return testapp.post("/staff/login", fields, headers=JSON, status=status)


def test_a_device_sign_in_gets_a_session_without_the_key_and_the_key_wrapped_for_the_device(
        testapp, dbsession, settings, guardian, submitted, clock):
    auth_key, wrap_key = device_keys(testapp, "guardian")
    answer = testapp.post_json("/api/v1/staff/session", {"username": "guardian", "otp": fresh_code(guardian, clock),
                                                         "auth_key": b64(auth_key)}).json
    private = crypto.unwrap_for_device(base64.b64decode(answer["key_by_device"]), wrap_key)
    assert crypto.KeyPair.from_private(private).public == guardian.account.public_key
    assert base64.b64decode(answer["public_key"]) == guardian.account.public_key
    assert session_key_of(dbsession, settings, answer["token"]) == NO_PRIVATE_KEY
    # The session lists the guardian's cases (metadata), and nothing on the server decrypts for it.
    listed = testapp.get("/api/v1/cases", headers=bearer(answer["token"])).json["cases"]
    assert [case["case"] for case in listed] == [submitted["case"]]
    assert events(dbsession, "login.succeeded")[-1].actor == f"account:{guardian.account.id}"


def test_the_sign_in_page_answers_its_script_with_json_and_a_device_session(testapp, dbsession, settings, guardian,
                                                                           clock):
    auth_key, wrap_key = device_keys(testapp, "guardian")
    answer = form_login(testapp, guardian, clock, auth_key=auth_key).json
    assert answer["next"].endswith("/staff/cases") and answer["account_id"] == guardian.account.id
    assert crypto.unwrap_for_device(base64.b64decode(answer["key_by_device"]), wrap_key)
    page = testapp.get("/staff/cases")
    assert page.html.find("meta", attrs={"name": "whistle-mode"})["content"] == "device"
    page_key = page.html.find("meta", attrs={"name": "whistle-page-key"})["content"]
    assert answer["page_key"] == page_key, "the key the sign-in page keeps the private key under"
    assert page.html.find(id="server-assisted") is None
    assert "/static/js/staff.js" in page.text


def test_wrong_keys_and_codes_are_counted_and_pause_sign_in(testapp, dbsession, guardian, clock):
    wrong, _ = device_keys(testapp, "guardian", "not the right password at all")
    for _ in range(4):
        testapp.post_json("/api/v1/staff/session", {"username": "guardian", "otp": fresh_code(guardian, clock),
                                                    "auth_key": b64(wrong)}, status=401)
    right, _ = device_keys(testapp, "guardian")
    testapp.post_json("/api/v1/staff/session", {"username": "guardian", "otp": "000000", "auth_key": b64(right)},
                      status=401)
    assert [e.detail["reason"] for e in events(dbsession, "login.failed")] == ["wrong-password"] * 4 + ["wrong-otp"]
    assert guardian.account.failed_logins == 5
    # That client is paused: even the right key and code are refused, untried, saying until when.
    refused = api_device_login(testapp, guardian, clock, status=429).json
    assert events(dbsession, "login.failed")[-1].detail == {"reason": "paused"}
    assert refused["detail"].startswith("Too many sign-ins from this device have failed")


def test_an_unknown_username_gets_stable_stand_ins_and_the_same_refusal(testapp, dbsession, settings, guardian, clock):
    ask = lambda name: testapp.post_json("/api/v1/staff/sign-in-parameters", {"username": name}).json  # noqa: E731
    real, unknown = ask("guardian"), ask("nobody.here")
    assert unknown == ask("nobody.here") == ask(" Nobody.Here "), "the same each time, as a real account's"
    assert unknown != ask("someone.else")
    assert set(unknown) == set(real) and unknown["scheme"] == "device/1"
    assert (unknown["opslimit"], unknown["memlimit"]) == (real["opslimit"], real["memlimit"])
    assert len(base64.b64decode(unknown["salt"])) == 16 and unknown["salt"] != real["salt"]
    auth_key, _ = device_keys(testapp, "nobody.here")
    answer = testapp.post_json("/api/v1/staff/session", {"username": "nobody.here", "otp": "123456",
                                                         "auth_key": b64(auth_key)}, status=401)
    wrong, _ = device_keys(testapp, "guardian", "not the right password at all")
    other = testapp.post_json("/api/v1/staff/session", {"username": "guardian", "otp": fresh_code(guardian, clock),
                                                        "auth_key": b64(wrong)}, status=401)
    assert answer.json == other.json
    assert events(dbsession, "login.failed")[-2].detail == {"reason": "unknown-username"}


def test_the_api_names_what_is_wrong_with_a_sign_in_request(testapp, guardian):
    both = testapp.post_json("/api/v1/staff/session", {"username": "guardian", "otp": "1", "password": "x" * 12,
                                                       "auth_key": b64(bytes(32))}, status=422).json
    assert [e["field"] for e in both["errors"]] == ["password"]
    short = testapp.post_json("/api/v1/staff/session", {"username": "guardian", "otp": "1",
                                                        "auth_key": b64(bytes(31))}, status=422).json
    assert [e["field"] for e in short["errors"]] == ["auth_key"]


def test_an_account_made_before_device_sign_in_moves_over_and_keeps_its_case(testapp, dbsession, settings, clock,
                                                                             channel):
    legacy = make_legacy_staff(dbsession, settings, clock, "legacy", channels=["staff"])
    ref = submit_api(testapp, text="The fire doors on ward 3 are chained shut at night.")["case"]
    assert testapp.post_json("/api/v1/staff/sign-in-parameters", {"username": "legacy"}).json == {
        "scheme": "password"}

    # Its next sign-in, with the password (the one time it reaches the server), moves it over.
    page = html_login(testapp, legacy, clock)
    account = legacy.account
    assert account.moved_over and account.key_by_password == b"" and account.totp_secret_sealed == b""
    assert account.sign_in_salt and account.key_by_device and account.totp_secret_server
    assert events(dbsession, "account.moved_over")[-1].actor == f"account:{account.id}"
    # Server-assisted: the server decrypts the old case for this sign-in, and the page says so.
    case_page = testapp.get(f"/staff/cases/{ref}")
    assert "The fire doors on ward 3 are chained shut at night." in case_page.text
    assert "Server-assisted: this service decrypts your cases" in page.text

    # From now on it signs in on the device, and its key opens with the wrap key derived there.
    auth_key, wrap_key = device_keys(testapp, "legacy")
    answer = form_login(testapp, legacy, clock, auth_key=auth_key).json
    private = crypto.unwrap_for_device(base64.b64decode(answer["key_by_device"]), wrap_key)
    keypair = crypto.KeyPair.from_private(private)
    assert keypair.public == account.public_key
    grant_key = crypto.unseal(keypair, case_grant(dbsession, ref, account.id).sealed_case_key)
    assert len(grant_key) == 32, "the device opens the old case's key"


def case_grant(dbsession, ref, account_id):
    from whistle.cases.models import Case, CaseGrant

    case = dbsession.scalars(select(Case).where(Case.ref == ref)).one()
    return dbsession.scalars(select(CaseGrant).where(CaseGrant.case_id == case.id,
                                                    CaseGrant.account_id == account_id)).one()


def test_a_legacy_account_signing_in_with_javascript_gets_a_device_session_and_its_new_salt(
        testapp, dbsession, settings, clock, channel):
    legacy = make_legacy_staff(dbsession, settings, clock, "legacy.js", channels=["staff"])
    answer = form_login(testapp, legacy, clock, PASSWORD).json
    assert answer["scheme"] == "device/1" and legacy.account.moved_over
    assert base64.b64decode(answer["salt"]) == legacy.account.sign_in_salt
    _auth_key, wrap_key = crypto.derive_sign_in_keys(PASSWORD, base64.b64decode(answer["salt"]),
                                                     crypto.KdfCost(answer["opslimit"], answer["memlimit"]))
    private = crypto.unwrap_for_device(base64.b64decode(answer["key_by_device"]), wrap_key)
    assert crypto.KeyPair.from_private(private).public == legacy.account.public_key
    page = testapp.get("/staff/cases")
    assert page.html.find("meta", attrs={"name": "whistle-mode"})["content"] == "device"


@pytest.fixture
def device_only(raw_settings, settings, clock, tm, dbsession):
    """The app with server-assisted sign-in off."""
    app = make_configurator(raw_settings, settings=replace(settings, server_assisted=False), clock=clock).make_wsgi_app()
    return TestApp(app, extra_environ={"HTTP_HOST": "example.com", "tm.active": True, "tm.manager": tm,
                                      "app.dbsession": dbsession})


def test_with_server_assisted_off_a_password_is_refused_with_words(device_only, dbsession, guardian, clock):
    refused = device_only.post_json("/api/v1/staff/session", {"username": "guardian", "password": PASSWORD,
                                                              "otp": fresh_code(guardian, clock)}, status=403).json
    assert refused["type"] == "/api/v1/problems/server-assisted-off"
    form = device_only.get("/staff/login").forms[0]
    form["username"], form["password"], form["otp"] = "guardian", PASSWORD, fresh_code(guardian, clock)
    page = form.submit(status=403)
    assert "Turn JavaScript on in this browser and sign in again, or use the desk" in page.text
    assert page.forms[0]["username"].value == "guardian"
    assert not dbsession.scalars(select(LoginSession)).all(), "no session opened"
    assert [e.action for e in events(dbsession, "login.refused")] == ["login.refused"] * 2
    # On the device it signs in as ever.
    assert api_device_login(device_only, guardian, clock).json["key_by_device"]


def test_with_server_assisted_off_a_legacy_account_moves_over_into_a_device_session(device_only, dbsession, settings,
                                                                                     clock, channel):
    legacy = make_legacy_staff(dbsession, settings, clock, "legacy.off", channels=["staff"])
    answer = device_only.post_json("/api/v1/staff/session", {"username": "legacy.off", "password": PASSWORD,
                                                             "otp": fresh_code(legacy, clock)}).json
    assert legacy.account.moved_over and answer["salt"] and answer["key_by_device"]
    assert session_key_of(dbsession, settings, answer["token"]) == NO_PRIVATE_KEY
