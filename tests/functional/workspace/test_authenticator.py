"""A lost authenticator is not a lost account: re-enrolling TOTP with the recovery key."""
from __future__ import annotations

import re

import pyotp
import segno
from sqlalchemy import func, select

from tests.factories import api_login, fresh_code, html_login
from tests.functional.workspace.conftest import events, last_event
from whistle.accounts.services import RECOVERY_THROTTLE
from whistle.sessions.models import LoginSession
from whistle.throttles import Throttle

MISMATCH = "That username and recovery key do not match."


def sessions_of(dbsession, staff) -> int:
    return dbsession.scalar(select(func.count()).select_from(LoginSession)
                            .where(LoginSession.account_id == staff.account.id))


def login(testapp, staff, clock, status=200):
    return testapp.post_json("/api/v1/staff/session", {"username": staff.username, "password": staff.password,
                                                       "otp": fresh_code(staff, clock)}, status=status)


def reset_page(testapp, username, recovery_key, status=200):
    form = testapp.get("/staff/reset-authenticator").forms[0]
    form["username"], form["recovery_key"] = username, recovery_key
    return form.submit(status=status)


def setup_key(page) -> str:
    return page.html.find(id="setup-key").text.replace(" ", "")


def modules_drawn(svg) -> set[tuple[int, int]]:
    """The dark modules an inline SVG from segno draws: its path is "M x y" moves and "h n"
    runs along the row (relative "m" moves between runs), in module units."""
    path = next(p for p in svg.find_all("path") if p.get("stroke"))
    dark, x, y = set(), 0.0, 0.0
    for command, dx, dy in re.findall(r"([Mmh])(-?[\d.]+)(?: (-?[\d.]+))?", path["d"]):
        if command == "M":
            x, y = float(dx), float(dy)
        elif command == "m":
            x, y = x + float(dx), y + float(dy)
        else:
            dark.update((int(x) + i, int(y)) for i in range(int(float(dx))))
            x += float(dx)
    return dark


def test_the_recovery_key_re_enrols_the_authenticator(testapp, dbsession, guardian, submitted, clock):
    phone = api_login(testapp, guardian, clock)
    html_login(testapp, guardian, clock)  # this browser is signed in too
    for _ in range(5):
        testapp.post_json("/api/v1/staff/session", {"username": "guardian", "password": "a wrong password here",
                                                     "otp": "000000"}, status=401)
    assert guardian.account.failed_logins == 5 and sessions_of(dbsession, guardian) == 2
    old_secret, old_sealed = guardian.totp_secret, guardian.account.totp_secret_server

    page = reset_page(testapp, "guardian", guardian.recovery_key.lower().replace("-", " "))
    assert "shown once" in page.text and "<script" not in page.text
    secret = setup_key(page)
    assert len(secret) == 32 and secret != old_secret
    assert page.html.find(id="setup-uri").text == pyotp.TOTP(secret).provisioning_uri(name="guardian", issuer_name="whistle")

    # Everything ended: the other device, this browser (its cookie let go), every session row.
    assert sessions_of(dbsession, guardian) == 0
    testapp.get("/api/v1/cases", headers=phone, status=401)
    assert any("whistle_staff=;" in h for h in page.headers.getall("Set-Cookie"))
    assert testapp.get("/staff/cases").location.endswith("/staff/login")
    account = guardian.account
    assert account.totp_secret_server != old_sealed
    assert account.totp_last_step is None
    event = last_event(dbsession)
    assert event.action == "account.authenticator_reset" and event.actor == f"account:{account.id}"
    assert secret not in str(event.detail) and guardian.recovery_key not in str(event.detail)

    # The old secret's codes no longer sign in; the new one's do, and the cases are still readable.
    login(testapp, guardian, clock, status=401)
    guardian.totp_secret = secret
    headers = {"Authorization": f"Bearer {login(testapp, guardian, clock).json['token']}"}
    assert testapp.get(f"/api/v1/cases/{submitted['case']}", headers=headers).json["text"].startswith("The night")


def test_the_page_shows_the_secret_as_an_svg_qr_code_and_as_text(testapp, guardian):
    page = reset_page(testapp, "guardian", guardian.recovery_key)
    svg = page.html.find("svg")
    assert svg is not None and svg["role"] == "img" and "authenticator app" in svg["aria-label"]
    assert svg.find("title").text == svg["aria-label"]
    uri = page.html.find(id="setup-uri").text
    assert f"secret={setup_key(page)}" in uri
    # Decode the drawing back into modules and compare them with the QR code of that very URI.
    matrix = segno.make_qr(uri, error="m").matrix
    expected = {(x + 4, y + 4) for y, row in enumerate(matrix) for x, dark in enumerate(row) if dark}
    assert modules_drawn(svg) == expected
    assert re.fullmatch(r"([A-Z2-7]{4} ){7}[A-Z2-7]{4}", page.html.find(id="setup-key").text)


def test_a_wrong_key_or_unknown_name_gets_the_same_answer_and_changes_nothing(testapp, dbsession, guardian, clock):
    phone = api_login(testapp, guardian, clock)
    sealed = guardian.account.totp_secret_server
    answers = []
    for username, key in (("guardian", "ABCD-EFGH-JKMN-PQRS-TVWX-YZ01-2345"), ("nobody", guardian.recovery_key),
                          ("guardian", "not a key at all")):
        page = reset_page(testapp, username, key, status=422)
        answers.append(page.html.find(id="recovery_key-error").text)
        assert page.forms[0]["username"].value == username, "the username is kept"
        assert page.html.find("svg") is None
    assert answers == ["Recovery key: that username and recovery key do not match."] * 3, "the same, naming the field"
    assert guardian.account.totp_secret_server == sealed and sessions_of(dbsession, guardian) == 1
    testapp.get("/api/v1/cases", headers=phone, status=200)
    assert dbsession.get(Throttle, RECOVERY_THROTTLE).count == 3, "each counted, none audited on its own"
    assert events(dbsession, "account.authenticator_reset_failed") == []
    login(testapp, guardian, clock)  # the old authenticator still works


def test_through_the_api(testapp, dbsession, guardian, clock):
    wrong = testapp.post_json("/api/v1/staff/authenticator", {"username": "guardian", "recovery_key": "WRONG"},
                              status=422)
    unknown = testapp.post_json("/api/v1/staff/authenticator",
                                {"username": "nobody", "recovery_key": guardian.recovery_key}, status=422)
    assert wrong.json == unknown.json and wrong.content_type == "application/problem+json"
    assert wrong.json["errors"] == [{"field": "recovery_key", "message": MISMATCH}]
    assert dbsession.get(Throttle, RECOVERY_THROTTLE).count == 2
    missing = testapp.post_json("/api/v1/staff/authenticator", {"user": "guardian"}, status=422)
    assert {e["field"] for e in missing.json["errors"]} == {"user", "username", "recovery_key"}

    done = testapp.post_json("/api/v1/staff/authenticator",
                             {"username": "guardian", "recovery_key": guardian.recovery_key}).json
    assert set(done) == {"totp_secret", "totp_uri", "recovery_key"} and f"secret={done['totp_secret']}" in done["totp_uri"]
    login(testapp, guardian, clock, status=401)
    guardian.totp_secret = done["totp_secret"]
    login(testapp, guardian, clock)


def test_reachable_from_the_sign_in_and_forgotten_password_pages(testapp):
    for start in ("/staff/login", "/staff/forgot-password"):
        page = testapp.get(start).click(href="/staff/reset-authenticator")
        assert page.forms[0].action == "/staff/reset-authenticator"
