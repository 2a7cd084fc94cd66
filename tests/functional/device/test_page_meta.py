"""Staff pages tell their scripts the sign-in's mode; in device mode they carry the page key that
opens the guardian's key kept in the tab (docs/crypto.md 6.3), and nothing of the kind otherwise."""
from __future__ import annotations

import base64

from tests.factories import device_login, html_login, make_staff
from whistle import crypto


def _meta(page, name):
    found = page.html.find("meta", attrs={"name": name})
    return found["content"] if found else None


def test_device_mode_pages_carry_the_page_key_of_their_token(testapp, dbsession, settings, clock):
    staff = make_staff(dbsession, settings, clock)
    token = device_login(testapp, dbsession, settings, clock, staff)
    page = testapp.get("/staff/cases")
    assert _meta(page, "whistle-mode") == "device"
    assert base64.b64decode(_meta(page, "whistle-page-key")) == crypto.page_key(token, settings.session_key)
    assert _meta(page, "whistle-account") == str(staff.account.id)
    assert _meta(page, "csrf-token")


def test_server_assisted_pages_name_their_mode_and_carry_no_page_key(testapp, dbsession, settings, clock):
    staff = make_staff(dbsession, settings, clock)
    page = html_login(testapp, staff, clock)
    assert _meta(page, "whistle-mode") == "server-assisted"
    assert _meta(page, "whistle-page-key") is None


def test_pages_for_everyone_else_carry_none_of_it(testapp):
    page = testapp.get("/")
    assert _meta(page, "whistle-mode") is None and _meta(page, "whistle-page-key") is None


def test_page_keys_differ_by_token_and_by_session_key():
    one, two = crypto.new_session_token(), crypto.new_session_token()
    key = crypto.random_bytes(32)
    assert crypto.page_key(one, key) == crypto.page_key(one, key)
    assert crypto.page_key(one, key) != crypto.page_key(two, key)
    assert crypto.page_key(one, key) != crypto.page_key(one, crypto.random_bytes(32))
    assert crypto.page_key(one, key) != crypto.session_token_id(one, key)
