"""`whistle desk URL` against a real server (waitress): it pins the organisation's key, serves the
server's staff pages under its own CSP with the static files of this machine, keeps the server's
`__Host-` cookies working on http://127.0.0.1, refuses to start (or to pass a keys answer on) when the
directory is signed by another key, and refuses form posts that carry plaintext before anything
reaches the server."""
from __future__ import annotations

import base64
import json
import secrets
import shutil

import pyotp
import pytest

from tests.e2e.desk import DeskProcess, fingerprint_of, sign_with_another_key
from tests.e2e.server import ROOT, Browser, Server
from tests.e2e.test_whistle_report import Relay
from tests.e2e.test_workspace import enrol
from whistle.desk.proxy import DESK_CSP, PACKAGE_STATIC

CHANNEL = "raise-a-concern"


@pytest.fixture
def server(tmp_path):
    """A server whose cookies are Secure and named `__Host-...`, as in production."""
    server = Server(tmp_path)
    server.ini.write_text(server.ini.read_text().replace("whistle.cookies.secure = false",
                                                         "whistle.cookies.secure = true"))
    server.start()
    server.whistle("channels", "load", str(ROOT / "config" / "channels.toml"))
    server.alex = enrol(server, "alex", "--channel", CHANNEL)
    yield server
    server.stop()


@pytest.fixture
def desks():
    started: list[DeskProcess] = []

    def start(url: str, directory, *args: str, port: int | None = None) -> DeskProcess:
        desk = DeskProcess(url, directory, *args, port=port)
        started.append(desk)
        return desk

    yield start
    for desk in started:
        desk.stop()


def running(desks, server: Server, tmp_path, *args: str, url: str | None = None) -> DeskProcess:
    desk = desks(url or f"http://127.0.0.1:{server.port}", tmp_path, "--fingerprint", fingerprint_of(server), *args)
    assert desk.wait_serving(), desk.output()
    return desk


def test_the_desk_pins_and_serves_a_staff_page_under_its_own_csp_with_this_machines_static_files(
        server, desks, tmp_path):
    static = tmp_path / "static"
    shutil.copytree(PACKAGE_STATIC, static)
    marker = f"/* the desk's copy {secrets.token_hex(6)} */"
    with (static / "whistle.css").open("a") as css:
        css.write(marker)
    desk = running(desks, server, tmp_path, "--static-dir", str(static))
    browser = Browser(desk.port, source="127.0.0.1")

    page = browser.get("/staff/login")
    assert page.status == 200
    assert page.headers.get_all("Content-Security-Policy") == [DESK_CSP]
    assert page.headers.get_all("X-Frame-Options") == ["DENY"]
    assert page.headers["Strict-Transport-Security"] is None
    assert 'href="/static/whistle.css"' in page.text
    css = browser.get("/static/whistle.css")
    assert css.status == 200 and css.headers["Content-Type"] == "text/css"
    assert marker in css.text, "the stylesheet is the desk's, not the server's"
    assert browser.get("/static/../development.ini").status == 404

    organisation = json.loads(browser.get("/desk/organisation.json").body)
    [state] = (tmp_path / "desk-state").iterdir()
    pinned = json.loads(state.read_text())
    assert organisation == {"public_key": base64.b64encode(server.org_key.public_key).decode(),
                            "fingerprint": fingerprint_of(server), "directory_version": pinned["directory_version"]}
    assert pinned["fingerprint"] == fingerprint_of(server) and pinned["directory_version"] >= 1

    # A key directory passing through is checked and passed on.
    keys = browser.get(f"/api/v1/channels/{CHANNEL}/keys")
    assert keys.status == 200, keys.text
    assert json.loads(keys.body)["key"] == fingerprint_of(server)


def test_first_use_without_a_fingerprint_or_a_terminal_is_refused_and_yes_pins(server, desks, tmp_path):
    url = f"http://127.0.0.1:{server.port}"
    refused = desks(url, tmp_path)
    assert not refused.wait_serving()
    assert refused.process.returncode == 1
    assert "give it with --fingerprint" in refused.output()
    accepted = desks(url, tmp_path, "--yes")
    assert accepted.wait_serving(), accepted.output()
    assert fingerprint_of(server) in accepted.output()
    taken = desks(url, tmp_path, port=accepted.port)
    assert taken.process.wait(timeout=60) == 1
    assert f"cannot listen on 127.0.0.1:{accepted.port}" in taken.output()
    assert "Traceback" not in taken.output()


def test_the_desk_refuses_to_start_against_a_directory_signed_by_another_key(server, desks, tmp_path):
    first = running(desks, server, tmp_path)
    first.stop()
    sign_with_another_key(server)

    again = desks(f"http://127.0.0.1:{server.port}", tmp_path)  # the pin in the state directory
    assert not again.wait_serving(), "the desk served against a directory signed by another key"
    assert again.process.returncode == 1
    assert "not signed by the organisation key" in again.output()
    assert "Traceback" not in again.output()

    other = desks(f"http://127.0.0.1:{server.port}", tmp_path / "elsewhere",
                  "--fingerprint", first_fingerprint(tmp_path))
    assert not other.wait_serving()
    assert "not the one you gave" in other.output()


def first_fingerprint(tmp_path) -> str:
    [state] = (tmp_path / "desk-state").iterdir()
    return json.loads(state.read_text())["fingerprint"]


def test_a_keys_answer_signed_by_another_key_is_refused_while_running(server, desks, tmp_path):
    desk = running(desks, server, tmp_path)
    browser = Browser(desk.port, source="127.0.0.1")
    assert browser.get(f"/api/v1/channels/{CHANNEL}/keys").status == 200
    sign_with_another_key(server)
    refused = browser.get(f"/api/v1/channels/{CHANNEL}/keys")
    assert refused.status == 502
    assert "not signed by the organisation key the desk trusts" in refused.text
    assert '"document"' not in refused.text
    assert json.loads(browser.get("/desk/organisation.json").body)["fingerprint"] == first_fingerprint(tmp_path)


def test_a_form_post_with_plaintext_is_refused_and_nothing_reaches_the_server(server, desks, tmp_path):
    relay = Relay(server.port)
    desk = running(desks, server, tmp_path, url=f"http://127.0.0.1:{relay.port}")
    browser = Browser(desk.port, source="127.0.0.1")
    fields = browser.get("/staff/login").form_fields()
    with relay.lock:
        before = len(relay.sent)
    words = f"WORDS{secrets.token_hex(6)}"
    login = browser.post_form("/staff/login", {**fields, "username": "alex", "password": words, "otp": "123456"})
    assert login.status == 400
    assert "The desk refused to send unencrypted text" in login.text
    message = browser.post_form("/staff/cases/ABCD-EFGH/messages", {**fields, "text": words})
    assert message.status == 400
    boundary = "desk" + secrets.token_hex(8)
    multipart = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\nx\r\n"
                 f"--{boundary}\r\nContent-Disposition: form-data; name=\"learned\"\r\n\r\n{words}\r\n"
                 f"--{boundary}--\r\n").encode()
    closing_post = browser.request("POST", "/staff/cases/ABCD-EFGH/transitions", multipart,
                                   {"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert closing_post.status == 400
    assert browser.get(f"/staff/cases?text={words}").status == 400
    relay.close()
    with relay.lock:
        assert len(relay.sent) == before, "the desk sent something of a refused request"
        assert words.encode() not in relay.sent


def test_the_servers_host_cookies_work_through_the_desk(server, desks, tmp_path):
    desk = running(desks, server, tmp_path)
    browser = Browser(desk.port, source="127.0.0.1")
    page = browser.get("/staff/login")
    [set_cookie] = page.headers.get_all("Set-Cookie")
    assert set_cookie.startswith("desk-host-whistle_")
    assert "secure" not in set_cookie.lower() and "HttpOnly" in set_cookie and "SameSite=Strict" in set_cookie

    # The JavaScript sign-in posts auth_key (no plaintext): it passes, with the CSRF cookie mapped back
    # to the server's name (without it, the server answers that the form expired: 400).
    fields = page.form_fields()
    posted = browser.post_form("/staff/login", {**fields, "username": "alex", "auth_key": "A" * 43 + "=",
                                                "otp": pyotp.TOTP(server.alex["totp"]).now()})
    assert posted.status != 400, posted.text

    # A staff session opened at the server, in the browser under the desk's name, opens the inbox.
    direct = Browser(server.port, source="127.0.0.3")
    fields = direct.get("/staff/login").form_fields()
    signed_in = direct.post_form("/staff/login", {**fields, "username": "alex", "password": server.alex["password"],
                                                  "otp": pyotp.TOTP(server.alex["totp"]).now()})
    assert signed_in.status == 302, signed_in.text
    assert signed_in.headers["Location"].startswith(f"http://127.0.0.1:{server.port}/")
    browser.cookies = {name.replace("__Host-", "desk-host-"): value for name, value in direct.cookies.items()}
    inbox = browser.get("/staff/cases")
    assert inbox.status == 200, inbox.text
    assert "alex" in inbox.text
    # Redirects to the server's own address come back to the desk.
    browser.cookies = {}
    away = browser.get("/staff/cases")
    assert away.status in (302, 303)
    assert away.headers["Location"].startswith("/staff/login"), away.headers["Location"]


def test_sign_in_parameters_below_the_desks_cost_floor_never_reach_the_page(server, desks, tmp_path):
    """The page derives the auth key it sends with the cost the server names: a server naming a
    trivial one could guess the password from the auth key at the speed of a plain hash. The test
    server's cost (opslimit 1, memlimit 8 KiB) is far below the desk's default floor."""
    def parameters(desk: DeskProcess):
        return Browser(desk.port, source="127.0.0.1").request(
            "POST", "/api/v1/staff/sign-in-parameters", json.dumps({"username": "alex"}).encode(),
            {"Content-Type": "application/json", "Accept": "application/json"})

    floored = running(desks, server, tmp_path / "floored", "--lowest-cost", "2", "67108864")
    refused = parameters(floored)
    assert refused.status == 502 and refused.headers["Content-Type"] == "application/problem+json"
    problem = json.loads(refused.body)
    assert "less work than the desk allows" in problem["detail"] and "salt" not in problem
    assert refused.headers.get_all("Content-Security-Policy") == [DESK_CSP]

    passed = parameters(running(desks, server, tmp_path / "test-floor", "--lowest-cost", "1", "8192"))
    assert passed.status == 200 and json.loads(passed.body)["scheme"] == "device/1"
