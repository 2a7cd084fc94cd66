"""Through the real server: a client failing fifty times on the guardian's username is paused, and the
guardian, connecting from another address, signs in with the right password and code all along; the
server's log names neither address."""
from __future__ import annotations

import pyotp

from tests.e2e.reporter_helpers import call_json

ATTACKER, OWNER = "127.0.0.4", "127.0.0.5"


def test_an_attacker_does_not_keep_the_owner_out(running_server):
    credentials = running_server.demo_credentials()
    username, password = credentials["username"], credentials["password"]

    def sign_in(source: str, password: str, otp: str):
        return call_json(running_server.port, "POST", "/api/v1/staff/session",
                         {"username": username, "password": password, "otp": otp}, source=source)

    statuses = [sign_in(ATTACKER, "not the password at all", "000000")[0] for _ in range(50)]
    assert statuses == [401] * 5 + [429] * 45
    code = pyotp.TOTP(credentials["TOTP secret"]).now()
    status, refused = sign_in(ATTACKER, password, code)
    assert status == 429 and refused["type"] == "/api/v1/problems/sign-in-paused", "not even checked"
    status, signed = sign_in(OWNER, password, code)
    assert status == 200 and signed["token"]
    log = running_server.log.read_text()
    assert ATTACKER not in log and OWNER not in log
