"""The guardian's whole journey on their own device, in a real Chromium against a real server, once
straight to the server and once through the desk (`whistle desk URL` on loopback): sign in with
JavaScript, read a report the reporter's browser encrypted, reply with a file, add a note, close the
case with what was learned, place a legal hold with a reason. No request the browser sends carries the password or any of the words
or file bytes, and afterwards the server process's memory holds none of them: the server never had
the plaintext, nor the key that opens it."""
from __future__ import annotations

import re
import secrets
import time
from pathlib import Path

import pyotp
import pytest

from tests.browser.conftest import HEIGHT, SHIPPED_CHANNELS
from tests.browser.test_e2e_reporter import Wire, write_report
from tests.e2e.desk import DeskProcess, fingerprint_of
from tests.e2e.memory import process_holds
from tests.e2e.server import Server

pytestmark = pytest.mark.browser


def marker(name: str) -> str:
    return f"{name}-{secrets.token_hex(6)}"


def start_server(directory, *, secure_cookies: bool = False) -> Server:
    server = Server(directory)
    if secure_cookies:  # as a deployment behind TLS: __Host- cookies, which the desk maps for loopback
        server.ini.write_text(server.ini.read_text().replace("whistle.cookies.secure = false",
                                                             "whistle.cookies.secure = true"))
    server.start()
    channels = re.sub(r"(?m)^(retention_days = \d+)$", r'\1\nguardians = ["demo.guardian"]',
                      SHIPPED_CHANNELS.read_text())
    path = server.directory / "channels.toml"
    path.write_text(channels)
    server.whistle("channels", "load", str(path))
    return server


def new_page(chromium, port: int, width: int = 1280):
    context = chromium.new_context(viewport={"width": width, "height": HEIGHT}, java_script_enabled=True,
                                   base_url=f"http://127.0.0.1:{port}", accept_downloads=True)
    return context, context.new_page()


def send_report(chromium, server: Server, text: str, contents: bytes, tmp_path) -> str:
    """The reporter's part, with JavaScript, straight to the server: a report with a file."""
    (tmp_path / "rota.txt").write_bytes(contents)
    context, page = new_page(chromium, server.port)
    try:
        write_report(page, text, "Ward 7", [str(tmp_path / "rota.txt")])
        page.get_by_role("button", name="Send securely").click()
        page.wait_for_url("**/receipt")
        return page.locator("[data-slot='case-ref']").inner_text()
    finally:
        context.close()


def wait_opened(page) -> None:
    page.wait_for_selector("html[data-case-opened='true']", timeout=30_000)


def guardian_journey(chromium, server: Server, port: int, tmp_path, screenshots, name: str, *,
                     through_desk: bool = False) -> None:
    text = marker("TEXT-rota-signed-for-checks-nobody-did")
    report_file = (marker("REPORTER-FILE") + "\n").encode() * 3000
    reply, note, learned = marker("REPLY-we-are-looking"), marker("NOTE-spoke-to-ward-manager"), marker("LEARNED")
    hold = marker("HOLD-the-tribunal-needs-the-file")
    reply_file = marker("GUARDIAN-FILE").encode() * 100
    (tmp_path / "answer.txt").write_bytes(reply_file)
    ref = send_report(chromium, server, text, report_file, tmp_path)
    credentials = server.demo_credentials()
    password = credentials["password"]

    context, page = new_page(chromium, port)
    try:
        wire = Wire(page)
        page.goto("/staff/login")
        page.fill("#username", credentials["username"])
        page.fill("#password", password)
        page.fill("#otp", pyotp.TOTP(credentials["TOTP secret"]).at(time.time()))
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/staff/cases", timeout=60_000)
        assert page.get_attribute("meta[name='whistle-mode']", "content") == "device"

        page.goto(f"/staff/cases/{ref}")
        wait_opened(page)
        assert text in page.inner_text(".disclosure")
        with page.expect_download() as download:
            page.locator("#files-from-reporter").get_by_role("link", name="rota.txt").click()
        assert Path(download.value.path()).read_bytes() == report_file

        page.get_by_role("button", name="Acknowledge receipt").click()
        wait_opened(page)
        page.fill("#reply-form textarea[name='text']", reply)
        page.get_by_role("button", name="Send reply").click()
        wait_opened(page)
        assert reply in page.inner_text("#conversation")

        page.set_input_files("#send-file-form input[type='file']", [str(tmp_path / "answer.txt")])
        page.get_by_role("button", name="Send file").click()
        page.locator("#files-to-reporter").get_by_text("answer.txt").wait_for(timeout=30_000)
        wait_opened(page)

        page.fill("#note-form textarea[name='text']", note)
        page.get_by_role("button", name="Add note").click()
        wait_opened(page)
        assert note in page.inner_text("#notes")

        close = page.locator("#move-closed")
        close.locator("select[name='substantiated']").select_option("partly")
        close.locator("input[name='changes'][value='process']").check()
        close.locator("textarea[name='learned']").fill(learned)
        close.get_by_role("button", name="Close the case").click()
        wait_opened(page)
        assert "Closed" in page.inner_text("#status")
        assert learned in page.inner_text("#notes")
        screenshots(page, f"{name}-closed")

        # A legal hold: its reason encrypted on the device like the other reasons.
        page.fill("#legal-hold-form textarea[name='reason']", hold)
        page.get_by_role("button", name="Place a legal hold").click()
        wait_opened(page)
        assert "On legal hold since" in page.inner_text("#keeping")
        assert hold in page.inner_text("#notes") and "Reason for the legal hold" in page.inner_text("#notes")

        # Given to a colleague: the case keys sealed on the device to the colleague's key in the
        # signed directory, checked with the organisation key (through the desk: the desk's pin).
        page.locator("#grant-form select[name='guardian']").select_option("demo.safeguarding")
        page.get_by_role("button", name="Grant access").click()
        wait_opened(page)
        holding = page.locator("#access p").first.inner_text()
        assert "demo.safeguarding" in holding, (holding, page.inner_text("#grant-form"))
        asked_desk = [url for _, url, _ in wire.bodies if url.endswith("/desk/organisation.json")]
        if through_desk:
            assert asked_desk, "the page checked the directory with the desk's pinned key"

        for secret in (password, text, reply, note, learned, hold, reply_file.decode()[:40],
                       report_file.decode()[:40]):
            assert wire.carrying(secret) == [], secret
        assert any(method == "PUT" for method, _, _ in wire.bodies), "the file went up in encrypted chunks"
    finally:
        context.close()

    assert server.process is not None
    for secret in (password, text, reply, note, learned, hold, reply_file.decode()[:40], report_file.decode()[:40]):
        assert process_holds(server.process.pid, secret) == [], secret


def test_the_guardian_works_a_case_on_their_device_and_the_server_never_sees_it(chromium, tmp_path, screenshots):
    server = start_server(tmp_path)
    try:
        guardian_journey(chromium, server, server.port, tmp_path, screenshots, "journey-browser")
    finally:
        server.stop()


def test_the_same_journey_through_the_desk(chromium, tmp_path, screenshots):
    server = start_server(tmp_path, secure_cookies=True)
    desk = None
    try:
        desk = DeskProcess(f"http://127.0.0.1:{server.port}", tmp_path, "--fingerprint", fingerprint_of(server))
        assert desk.wait_serving(), desk.output()
        guardian_journey(chromium, server, desk.port, tmp_path, screenshots, "journey-desk", through_desk=True)
    finally:
        if desk is not None:
            desk.stop()
        server.stop()
