"""The admin area: accounts, channels, counts and the audit log — and never any case content."""
from __future__ import annotations

import re

import pyotp
from sqlalchemy import select

from tests.factories import Staff, api_login, html_login, submit_api
from tests.functional.workspace.conftest import events, last_event
from whistle.accounts.models import Account
from whistle.intake_channels.models import ChannelGuardian

MARKER = "MARKER-7f3a-CONTENT"


def admin_pages(testapp, account_ids):
    yield testapp.get("/admin")
    yield testapp.get("/admin/guardians")
    for account_id in account_ids:
        yield testapp.get(f"/admin/guardians/{account_id}")
    yield testapp.get("/admin/channels")
    yield testapp.get("/admin/audit")
    yield testapp.get("/admin/audit?page=2")
    yield testapp.get("/admin/notifications")


def test_no_admin_page_contains_case_content(testapp, dbsession, guardian, admin, clock):
    ref = submit_api(testapp, text=f"Disclosure {MARKER}", answers={"ongoing": "yes", "where": MARKER})["case"]
    headers = api_login(testapp, guardian, clock)
    testapp.post_json(f"/api/v1/cases/{ref}/notes", {"text": f"note {MARKER}"}, headers=headers, status=201)
    testapp.post_json(f"/api/v1/cases/{ref}/messages", {"text": f"reply {MARKER}"}, headers=headers, status=201)
    html_login(testapp, admin, clock)
    ids = list(dbsession.scalars(select(Account.id)))
    pages = list(admin_pages(testapp, ids))
    admin_headers = api_login(testapp, admin, clock)
    pages.append(testapp.get("/api/v1/admin/overview", headers=admin_headers))
    pages.append(testapp.get("/api/v1/admin/audit?per_page=500", headers=admin_headers))
    assert len(pages) >= 8
    for page in pages:
        assert MARKER not in page.text, page.request.path
        assert ref not in page.text, "not even the reference leaves the case"
    overview = pages[-2].json
    assert overview["by_status"]["received"] == 1 and overview["total"] == 1
    assert overview["by_channel"] == [{"channel": "staff", "title": "Raise a concern", "cases": 1}]
    assert "case.note_added" in pages[-1].text, "admins see the whole log (metadata)"
    # ...and the admin still cannot open the case itself.
    assert testapp.get(f"/staff/cases/{ref}", status=404)
    assert testapp.get(f"/api/v1/cases/{ref}", headers=admin_headers, status=404)


def test_overdue_counts(testapp, dbsession, guardian, admin, clock):
    from datetime import timedelta
    submit_api(testapp)
    clock.advance(timedelta(days=8))
    submit_api(testapp)
    headers = api_login(testapp, admin, clock)
    assert testapp.get("/api/v1/admin/overview", headers=headers).json["overdue"] == {"acknowledgement": 1, "feedback": 0}


def test_guardians_cannot_use_the_admin_area(testapp, guardian, clock):
    html_login(testapp, guardian, clock)
    assert testapp.get("/admin", status=403)
    assert testapp.get("/admin/guardians", status=403)
    headers = api_login(testapp, guardian, clock)
    assert testapp.get("/api/v1/admin/audit", headers=headers, status=403)


def test_an_admin_adds_a_guardian_who_can_then_log_in(testapp, dbsession, admin, channel, clock):
    html_login(testapp, admin, clock)
    form = testapp.get("/admin/guardians").forms[1]
    form["username"] = "sam"
    form["password"] = form["again"] = "password"
    refused = form.submit(status=422)
    assert "at least 12 characters" in refused.text and 'value="sam"' in refused.text
    form = refused.forms[1]
    form["password"] = form["again"] = "sam's own long passphrase"
    form["channels"] = ["staff"]
    page = form.submit()
    recovery = re.search(r"Recovery key</dt><dd><code>([^<]+)</code>", page.text).group(1)
    secret = re.search(r"TOTP\) secret</dt><dd><code>([^<]+)</code>", page.text).group(1)
    assert "otpauth://" in page.text
    sam = dbsession.scalars(select(Account).where(Account.username == "sam")).one()
    assert last_event(dbsession).action == "account.created" and last_event(dbsession).actor == f"account:{admin.account.id}"
    assert dbsession.scalars(select(ChannelGuardian).where(ChannelGuardian.account_id == sam.id)).one()
    assert recovery not in testapp.get("/admin/guardians").text, "shown once"
    staff = Staff(sam, "sam's own long passphrase", secret, recovery)
    assert api_login(testapp, staff, clock)["Authorization"].startswith("Bearer ")
    ref = submit_api(testapp)["case"]
    assert ref in testapp.get("/api/v1/cases", headers=api_login(testapp, staff, clock)).text


def test_an_admin_disables_changes_roles_and_channels(testapp, dbsession, guardian, admin, channel, clock):
    their_session = api_login(testapp, guardian, clock)
    html_login(testapp, admin, clock)
    form = testapp.get(f"/admin/guardians/{guardian.account.id}").forms[1]
    form["disabled"] = True
    form["admin"] = True
    form["channels"] = []
    asked = form.submit()  # the last guardian of "staff": the page asks first
    asked.forms[1].submit(status=302).follow()
    dbsession.refresh(guardian.account)
    assert guardian.account.disabled and guardian.account.is_admin
    assert testapp.get("/api/v1/cases", headers=their_session, status=401)
    actions = [e.action for e in events(dbsession)]
    assert {"account.roles_changed", "account.channels_changed", "account.disabled"} <= set(actions)
    assert dbsession.scalars(select(ChannelGuardian).where(ChannelGuardian.account_id == guardian.account.id)).all() == []


def test_an_admin_cannot_lock_themselves_out(testapp, dbsession, admin, clock):
    html_login(testapp, admin, clock)
    form = testapp.get(f"/admin/guardians/{admin.account.id}").forms[1]
    form["disabled"] = True
    assert "ask another admin" in form.submit(status=422).text
    dbsession.refresh(admin.account)
    assert not admin.account.disabled


def test_totp_provisioning_uri_names_the_account(testapp, dbsession, admin, clock):
    html_login(testapp, admin, clock)
    form = testapp.get("/admin/guardians").forms[1]
    form["username"] = "kim"
    form["password"] = form["again"] = "kim's own long passphrase"
    page = form.submit()
    secret = re.search(r"TOTP\) secret</dt><dd><code>([^<]+)</code>", page.text).group(1)
    assert pyotp.TOTP(secret).provisioning_uri(name="kim", issuer_name="whistle") in page.text.replace("&amp;", "&")


def test_accounts_through_the_admin_api(testapp, dbsession, admin, guardian, channel, clock):
    headers = api_login(testapp, admin, clock)
    listed = testapp.get("/api/v1/admin/accounts", headers=headers).json["accounts"]
    assert {(a["username"], a["guardian"], a["admin"]) for a in listed} == {("admin", False, True), ("guardian", True, False)}
    refused = testapp.post_json("/api/v1/admin/accounts", {"username": "lee", "password": "qwerty123456"},
                                headers=headers, status=422)
    assert refused.json["errors"][0]["field"] == "password"
    made = testapp.post_json("/api/v1/admin/accounts", {"username": "lee", "password": "lee's long passphrase",
                                                        "channels": ["staff"]}, headers=headers, status=201).json
    assert made["channels"] == ["staff"] and made["recovery_key"] and made["totp_uri"].startswith("otpauth://")
    changed = testapp.patch_json(f"/api/v1/admin/accounts/{made['id']}", {"disabled": True, "channels": []},
                                 headers=headers).json
    assert changed["disabled"] is True and changed["channels"] == []
    actions = [event.action for event in events(dbsession)]
    assert actions[-2:] == ["account.disabled", "key_directory.published"], "the key directory no longer lists them"
    own = testapp.patch_json(f"/api/v1/admin/accounts/{admin.account.id}", {"admin": False}, headers=headers, status=422)
    assert "ask another admin" in own.json["errors"][0]["message"]
    assert testapp.patch_json("/api/v1/admin/accounts/999999", {}, headers=headers, status=404)
    channels = testapp.get("/api/v1/admin/channels", headers=headers).json["channels"]
    assert channels[0]["slug"] == "staff" and channels[0]["guardians"] == ["guardian"]
    theirs = api_login(testapp, guardian, clock)
    assert testapp.post_json("/api/v1/admin/accounts", {"username": "x", "password": "y"}, headers=theirs, status=403)


def test_the_admin_area_sends_a_stranger_to_sign_in(testapp):
    assert testapp.get("/admin").location.endswith("/staff/login")
    assert testapp.get("/admin/audit").location.endswith("/staff/login")
    assert testapp.get("/api/v1/admin/overview", status=401)
