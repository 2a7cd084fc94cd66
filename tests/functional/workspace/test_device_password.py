"""A password change on the guardian's device: the page (or an API client) sends the current
password's auth key and the new password's keys, never a password; a wrong current key counts
as a failed sign-in; bad keys are named by field; afterwards the new password signs in on the
device, the old one does not, and the key (so every case) is the same."""
from __future__ import annotations

import base64
from dataclasses import replace

import pytest
from webtest import TestApp

from tests.factories import PASSWORD, api_login, b64, device_keys, device_login, guardian_keypair, html_login
from tests.functional.workspace.conftest import events
from tests.functional.workspace.test_device_sign_in import form_login
from whistle import crypto
from whistle.config import make_configurator

NEW_PASSWORD = "a brand new passphrase, typed on the device"
JSON = {"Accept": "application/json"}


def device_fields(testapp, staff, settings, current: str = PASSWORD, new: str = NEW_PASSWORD,
                  cost: crypto.KdfCost | None = None) -> dict[str, str]:
    """What password.js posts: the current password's auth key (its salt and cost from the
    server), and the new password's keys from a fresh salt, the private key wrapped under them."""
    current_auth_key, _ = device_keys(testapp, staff.username, current)
    salt, cost = crypto.random_bytes(16), cost or settings.kdf
    auth_key, wrap_key = crypto.derive_sign_in_keys(new, salt, cost)
    private = guardian_keypair(staff.account).private
    return {"current_auth_key": b64(current_auth_key), "new_salt": b64(salt), "new_opslimit": cost.opslimit,
            "new_memlimit": cost.memlimit, "new_auth_key": b64(auth_key),
            "new_key_by_device": b64(crypto.wrap_for_device(private, wrap_key))}


def page_post(testapp, fields: dict, status: int = 200):
    """The password form as password.js posts it: form-encoded, asking for JSON."""
    csrf = testapp.get("/staff/password").html.find("meta", attrs={"name": "csrf-token"})["content"]
    return testapp.post("/staff/password", {**{k: str(v) for k, v in fields.items()}, "csrf_token": csrf},
                        headers=JSON, status=status)


def test_the_page_changes_the_password_with_keys_only_and_the_new_one_signs_in_on_the_device(
        testapp, dbsession, settings, guardian, submitted, clock):
    ref = submitted["case"]
    public_key = guardian.account.public_key
    device_login(testapp, dbsession, settings, clock, guardian)
    other_device = api_login(testapp, guardian, clock)
    page = testapp.get("/staff/password")
    assert "/static/js/password.js" in page.text
    assert page.html.find(id="password-form")["data-username"] == "guardian"

    answer = page_post(testapp, device_fields(testapp, guardian, settings)).json
    assert answer == {"message": "Your password is changed. Your other sessions have ended."}
    assert events(dbsession, "account.password_changed")[-1].actor == f"account:{guardian.account.id}"
    testapp.get("/api/v1/cases", headers=other_device, status=401)
    assert testapp.get("/staff/password").status_int == 200, "this session goes on"

    # Signed out, the old password's key is refused and the new one's signs in, with the same key.
    testapp.cookiejar.clear()
    old, _ = device_keys(testapp, "guardian", PASSWORD)
    form_login(testapp, guardian, clock, auth_key=old, status=401)
    auth_key, wrap_key = device_keys(testapp, "guardian", NEW_PASSWORD)
    signed_in = form_login(testapp, guardian, clock, auth_key=auth_key).json
    keypair = crypto.KeyPair.from_private(crypto.unwrap_for_device(base64.b64decode(signed_in["key_by_device"]),
                                                                   wrap_key))
    assert keypair.public == public_key == base64.b64decode(signed_in["public_key"])
    # The case still opens on the device: its grant, as the case page's script gets it, unseals.
    envelopes = testapp.get(f"/staff/cases/{ref}/envelopes").json
    case_key = crypto.unseal(keypair, base64.b64decode(envelopes["grant"]["sealed_case_key"]))
    assert crypto.KeyPair.from_private(case_key).public == base64.b64decode(envelopes["public_key"])


def test_the_api_takes_device_keys_from_a_session_holding_the_key_too(testapp, dbsession, settings, guardian,
                                                                      submitted, clock):
    headers = api_login(testapp, guardian, clock)
    testapp.post_json("/api/v1/staff/password", device_fields(testapp, guardian, settings), headers=headers,
                      status=204)
    assert guardian_keypair(guardian.account, NEW_PASSWORD).public == guardian.account.public_key
    guardian.password = NEW_PASSWORD
    token = api_login(testapp, guardian, clock)
    assert testapp.get(f"/api/v1/cases/{submitted['case']}", headers=token).json["text"].startswith("The night shift")


def test_a_wrong_current_password_is_counted_as_a_failed_sign_in_and_changes_nothing(
        testapp, dbsession, settings, guardian, clock):
    device_login(testapp, dbsession, settings, clock, guardian)
    verifier = guardian.account.sign_in_verifier
    wrong = page_post(testapp, device_fields(testapp, guardian, settings, current="not the current password"),
                      status=422).json
    assert [e["field"] for e in wrong["errors"]] == ["current_auth_key"]
    assert wrong["errors"][0]["message"].startswith("The current password is not right")
    assert guardian.account.failed_logins == 1 and guardian.account.sign_in_verifier == verifier
    assert events(dbsession, "account.password_change_failed")[-1].detail == {"reason": "wrong-password"}
    testapp.get("/staff/password", status=200)
    # Five in a row pause this client, as wrong passwords do; while paused even the right key is refused.
    for _ in range(4):
        page_post(testapp, device_fields(testapp, guardian, settings, current="still not the password"), status=422)
    page_post(testapp, device_fields(testapp, guardian, settings), status=422)
    assert events(dbsession, "account.password_change_failed")[-1].detail == {"reason": "paused"}
    assert guardian.account.sign_in_verifier == verifier


@pytest.mark.parametrize(("change", "field"), [
    ({"current_auth_key": b64(bytes(31))}, "current_auth_key"),
    ({"current_auth_key": "not base64!"}, "current_auth_key"),
    ({"new_salt": b64(bytes(15))}, "new_salt"),
    ({"new_auth_key": b64(bytes(33))}, "new_auth_key"),
    ({"new_key_by_device": b64(bytes(74))}, "new_key_by_device"),
    ({"new_opslimit": 17}, "new_opslimit"),
    ({"new_memlimit": 2 ** 40}, "new_memlimit"),
    ({"new_memlimit": "lots"}, "new_memlimit"),
    ({"new_memlimit": -1}, "new_memlimit"),
    ({"current": PASSWORD}, "current"),
    ({"password": NEW_PASSWORD}, "password"),
])
def test_bad_keys_are_named_by_field_and_change_nothing(testapp, dbsession, settings, guardian, clock, change, field):
    headers = api_login(testapp, guardian, clock)
    verifier = guardian.account.sign_in_verifier
    body = {**device_fields(testapp, guardian, settings), **change}
    refused = testapp.post_json("/api/v1/staff/password", body, headers=headers, status=422).json
    assert [e["field"] for e in refused["errors"]] == [field]
    assert guardian.account.sign_in_verifier == verifier and guardian.account.failed_logins == 0
    assert not events(dbsession, "account.password_changed")


def test_a_wrap_of_another_size_is_refused_on_the_page_too(testapp, dbsession, settings, guardian, clock):
    device_login(testapp, dbsession, settings, clock, guardian)
    fields = {**device_fields(testapp, guardian, settings), "new_key_by_device": b64(bytes(90)), "new_salt": "x"}
    refused = page_post(testapp, fields, status=422).json
    assert sorted(e["field"] for e in refused["errors"]) == ["new_salt"], "base64 checked before sizes"
    fields["new_salt"] = b64(bytes(16))
    refused = page_post(testapp, fields, status=422).json
    assert [e["field"] for e in refused["errors"]] == ["new_key_by_device"]
    assert not events(dbsession, "account.password_changed")


@pytest.fixture
def costlier(raw_settings, settings, clock, tm, dbsession):
    """The app after the deployment's Argon2id cost went up: accounts keep theirs until they change."""
    costlier = replace(settings, kdf=crypto.KdfCost(settings.kdf.opslimit + 1, settings.kdf.memlimit * 2))
    app = make_configurator(raw_settings, settings=costlier, clock=clock).make_wsgi_app()
    return TestApp(app, extra_environ={"HTTP_HOST": "example.com", "tm.active": True, "tm.manager": tm,
                                      "app.dbsession": dbsession}), costlier


def test_new_keys_cost_at_least_what_the_service_asks_now(costlier, dbsession, guardian, clock):
    testapp, settings = costlier
    device_login(testapp, dbsession, settings, clock, guardian)
    form = testapp.get("/staff/password").html.find(id="password-form")
    assert (int(form["data-opslimit"]), int(form["data-memlimit"])) == (settings.kdf.opslimit, settings.kdf.memlimit)
    cheap = crypto.KdfCost(settings.kdf.opslimit - 1, settings.kdf.memlimit // 2)
    refused = page_post(testapp, device_fields(testapp, guardian, settings, cost=cheap), status=422).json
    assert [e["field"] for e in refused["errors"]] == ["new_opslimit", "new_memlimit"]
    assert refused["errors"][0]["message"] == f"Must be at least this service's, {settings.kdf.opslimit}, and in range."
    page_post(testapp, device_fields(testapp, guardian, settings))
    assert (guardian.account.sign_in_opslimit, guardian.account.sign_in_memlimit) == (
        settings.kdf.opslimit, settings.kdf.memlimit)


def test_a_server_assisted_page_has_no_script_and_posts_the_passwords_as_before(testapp, guardian, clock):
    html_login(testapp, guardian, clock)
    page = testapp.get("/staff/password")
    assert "password.js" not in page.text
    form = page.forms["password-form"]
    form["current"], form["new"], form["again"] = PASSWORD, NEW_PASSWORD, NEW_PASSWORD
    assert "Your password is changed" in form.submit().text
    assert guardian_keypair(guardian.account, NEW_PASSWORD).public == guardian.account.public_key


def test_a_page_older_than_the_session_is_answered_with_a_problem_its_script_can_show(testapp, dbsession, settings,
                                                                                     guardian, clock):
    device_login(testapp, dbsession, settings, clock, guardian)
    fields = {k: str(v) for k, v in device_fields(testapp, guardian, settings).items()}
    refused = testapp.post("/staff/password", {**fields, "csrf_token": "from an older sign-in"}, headers=JSON,
                           status=400).json
    assert [e["field"] for e in refused["errors"]] == ["current"]
    assert refused["detail"].startswith("This page had expired")
    assert not events(dbsession, "account.password_changed")
