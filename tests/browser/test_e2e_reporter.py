"""Encryption in the reporter's browser, in a real Chromium against a real server: with JavaScript
on, a report with a file, the mailbox opened with the receipt, a reply and another file; no request
the page makes carries any of it in the clear, nor the receipt, and the server process's memory
holds none of it; then the guardian reads it all. With JavaScript off the same journey works as it
always has, and the pages say so. Screenshots of the intake form and the mailbox, phone and desktop.
"""
from __future__ import annotations

import json
import re
import secrets

import pytest

from tests.browser.conftest import WIDTHS
from tests.e2e.memory import process_holds
from tests.e2e.reporter_helpers import call, call_json, guardian_headers

pytestmark = pytest.mark.browser

CHANNEL = "raise-a-concern"
ON_DEVICE = "Encrypted on this device before it is sent."
BY_THE_SERVICE = ("Encrypted by the service as soon as it arrives. Turn on JavaScript to have it encrypted on this "
                  "device before it is sent.")


def marker(name: str) -> str:
    return f"{name}-{secrets.token_hex(6)}"


class Wire:
    """Every request body the page sends, as bytes."""

    def __init__(self, page) -> None:
        self.bodies: list[tuple[str, str, bytes]] = []
        page.on("request", lambda request: self.bodies.append(
            (request.method, request.url, request.post_data_buffer or b"")))

    def carrying(self, text: str) -> list[str]:
        needles = [text.encode("utf-8"), json.dumps(text).encode("ascii")[1:-1]]
        return [f"{method} {url}" for method, url, body in self.bodies if any(n in body for n in needles)]


def write_report(page, text: str, where: str, files) -> None:
    page.goto(f"/report/{CHANNEL}")
    page.wait_for_selector("#key-fingerprint")  # the page is ready to encrypt
    page.fill("#text", text)
    page.fill("[name='answers.where']", where)
    page.check("input[name='answers.ongoing'][value='yes']")
    page.set_input_files("#attachments", files)


def open_on_device(page, receipt: str, *, prefix: str = "") -> None:
    """The mailbox at `prefix`/mailbox opened with `receipt` (JavaScript on: decrypted on the device),
    its send button found by its form, whatever the language."""
    page.goto(f"{prefix}/mailbox")
    page.fill("#receipt", receipt)
    page.locator("#receipt-form button[type=submit]").click()
    page.wait_for_selector("#what-you-sent")


def test_with_javascript_nothing_leaves_the_browser_in_the_clear_and_the_guardian_reads_it_all(
        open_page, site, screenshots, tmp_path):
    text, where, reply = marker("TEXT-the-rota-is-falsified"), marker("WHERE-ward"), marker("REPLY-still-going")
    name = marker("NAME-Sam")
    first_file, second_file = marker("FILE-ONE"), marker("FILE-TWO")
    (tmp_path / "rota.txt").write_bytes((first_file + "\n").encode() * 5000)  # three upload chunks
    (tmp_path / "photo.txt").write_bytes(second_file.encode())

    page = open_page(1280, javascript=True)
    wire = Wire(page)
    write_report(page, text, where, [str(tmp_path / "rota.txt")])
    assert page.locator("#encryption-mode").inner_text() == ON_DEVICE
    assert page.locator("#disclosure-form").evaluate("form => form.querySelector('#text').value") == text
    page.get_by_role("button", name="Send securely").click()
    page.wait_for_url(f"**/report/{CHANNEL}/receipt")
    receipt = page.locator(".receipt-code code").inner_text()
    assert len(receipt) == 29, "a receipt of version 2, made on the device"
    ref = page.locator("[data-slot='case-ref']").inner_text()
    assert "Keep your receipt safe" in page.inner_text("main")
    # The day the guardians must acknowledge it by, from the answer, in the server's own words.
    assert re.search(r"Someone will acknowledge your concern by \d{1,2} [A-Z][a-z]+ \d{4}\.",
                     page.inner_text("main"))
    page.get_by_role("button", name="Leave").click()
    page.wait_for_url(f"**/report/{CHANNEL}/receipt/leave")

    page.goto("/mailbox")
    page.fill("#receipt", receipt.lower().replace("-", " "))
    page.get_by_role("button", name="Open my report").click()
    page.wait_for_selector("#what-you-sent")
    main = page.inner_text("main")
    assert text in main and where in main and "rota.txt" in main
    page.fill("#text", reply)
    page.set_input_files("#reply-files", [str(tmp_path / "photo.txt")])
    page.get_by_role("button", name="Send securely").click()
    page.wait_for_selector("#reply-status:text('Sent.')")
    assert reply in page.inner_text("#conversation") and "photo.txt" in page.inner_text("#files")
    # What was written takes its own direction; a file's name reads left to right in any page.
    assert page.get_attribute("#what-you-sent .disclosure", "dir") == "auto"
    assert page.locator("#conversation .text", has_text=reply).get_attribute("dir") == "auto"
    assert page.locator("#files a", has_text="photo.txt").get_attribute("dir") == "ltr"
    page.check("#identity-form input[name='identity_mode'][value='confidential']")
    page.fill("[id='identity.name']", name)
    page.fill("[id='identity.personnel_id']", "E-4471")  # staff are asked for their number too
    page.get_by_role("button", name="Tell them who I am").click()
    page.locator("#identity").get_by_text("You told us who you are.").wait_for()
    with page.expect_download() as download:
        page.get_by_role("link", name="rota.txt").click()
    assert download.value.suggested_filename == "rota.txt"
    assert open(download.value.path(), "rb").read() == (first_file + "\n").encode() * 5000

    for secret in (text, where, reply, name, first_file, second_file, receipt, receipt.lower().replace("-", " ")):
        assert wire.carrying(secret) == [], secret
    assert any(url.endswith("/api/v1/disclosures") for _, url, _ in wire.bodies)
    puts = [body for method, url, body in wire.bodies if method == "PUT" and "/reporter/uploads/" in url]
    assert len(puts) == 1 + 1, "each file's chunks in one run"
    # The check above saw the files' bytes: every run's body was captured, whole (a Blob body too).
    assert all(len(body) > 0 for body in puts) and len(puts[0]) > len(first_file) * 5000
    assert site.process is not None
    for secret in (text, where, reply, name, first_file, second_file, receipt):
        assert process_holds(site.process.pid, secret) == [], secret

    # Only now does anyone decrypt on the server: the guardian reads what the browser sent.
    headers = guardian_headers(site)
    status, case = call_json(site.port, "GET", f"/api/v1/cases/{ref}", headers=headers)
    assert status == 200, case
    assert case["text"] == text and case["answers"]["where"] == where
    assert [m["text"] for m in case["messages"]] == [reply]
    assert case["identity"]["name"] == name and case["identity"]["mode"] == "confidential"
    assert case["identity"]["personnel_id"] == "E-4471"
    files = {a["name"]: a for a in case["attachments"]}
    assert set(files) == {"rota.txt", "photo.txt"}
    status, _, body = call(site.port, "GET", f"/api/v1/cases/{ref}/attachments/{files['photo.txt']['id']}",
                           headers=headers, source="127.0.0.3")
    assert status == 200 and body == second_file.encode()


def test_without_javascript_the_same_journey_works_and_the_pages_say_what_protects_it(open_page, tmp_path):
    text, reply = marker("TEXT-no-script"), marker("REPLY-no-script")
    (tmp_path / "rota.txt").write_bytes(b"night rota")
    page = open_page(390)
    page.goto(f"/report/{CHANNEL}")
    assert page.locator("#encryption-mode").inner_text() == BY_THE_SERVICE
    assert page.locator("#key-fingerprint").count() == 0
    page.fill("#text", text)
    page.check("input[name='answers.ongoing'][value='no']")
    page.set_input_files("#attachments", [str(tmp_path / "rota.txt")])
    page.get_by_role("button", name="Send securely").click()
    page.wait_for_url(f"**/report/{CHANNEL}/receipt")
    receipt = page.locator(".receipt-code code").inner_text()
    page.goto("/mailbox")
    assert "Turn on JavaScript to decrypt it on this device" in page.locator("#encryption-mode").inner_text()
    page.fill("#receipt", receipt)
    page.get_by_role("button", name="Open my report").click()
    page.wait_for_url("**/mailbox/case")
    assert text in page.inner_text("main") and "rota.txt" in page.inner_text("main")
    page.fill("#text", reply)
    page.get_by_role("button", name="Send securely").click()
    page.wait_for_url("**/mailbox/case#sent")
    assert reply in page.inner_text("#conversation")


@pytest.mark.parametrize("width", WIDTHS)
def test_screenshots_of_the_intake_form_and_the_mailbox_with_javascript(open_page, screenshots, tmp_path, width):
    (tmp_path / "notes.txt").write_bytes(b"x" * 200_000)
    page = open_page(width, javascript=True)
    write_report(page, "The night rota on ward 7 is signed for checks nobody did.", "Ward 7", [str(tmp_path / "notes.txt")])
    screenshots(page, "e2e-01-intake")
    page.fill("#text", "")
    page.get_by_role("button", name="Send securely").click()
    assert page.wait_for_selector(".error-summary").is_visible()
    assert page.locator("#error-text").inner_text() == "Tell us what happened: this box cannot be empty."
    screenshots(page, "e2e-02-intake-errors")
    page.fill("#text", "The night rota on ward 7 is signed for checks nobody did.")
    page.get_by_role("button", name="Send securely").click()
    page.wait_for_url(f"**/report/{CHANNEL}/receipt")
    receipt = page.locator(".receipt-code code").inner_text()
    screenshots(page, "e2e-03-receipt")
    page.goto("/mailbox")
    screenshots(page, "e2e-04-mailbox-login")
    page.fill("#receipt", receipt)
    page.get_by_role("button", name="Open my report").click()
    page.wait_for_selector("#what-you-sent")
    page.wait_for_url("**/mailbox/case")
    page.wait_for_load_state("load")  # measured before the stylesheet applies, anything may overflow
    assert page.evaluate("document.documentElement.scrollWidth") <= width, "nothing wider than the screen"
    screenshots(page, "e2e-05-mailbox")


def disclosure_posts(wire: Wire) -> list[dict]:
    return [json.loads(body) for method, url, body in wire.bodies
            if method == "POST" and url.endswith("/api/v1/disclosures")]


def test_routing_answers_alone_travel_in_the_clear_and_leaving_everyone_out_is_refused_on_the_page(open_page):
    page = open_page(390, javascript=True)
    wire = Wire(page)
    text = marker("TEXT-young")
    page.goto("/report/young-peoples-voice")
    page.wait_for_selector("#key-fingerprint")
    assert page.locator("#encryption-mode").inner_text() == (
        "Your message is locked on this phone or computer before it is sent.")
    page.fill("#text", text)
    page.check("input[name='answers.happening_now'][value='yes']")
    page.check("input[name='answers.about'][value='A grown-up']")
    for box in page.locator("#readers input[name='left_out']").all():
        box.check()
    page.get_by_role("button", name="Send").click()
    assert page.locator("#error-left_out").inner_text() == (
        "Nobody would be left to read your message. Please untick at least one person.")
    assert page.input_value("#text") == text, "the words stay"
    assert disclosure_posts(wire) == [], "nothing was sent"

    for box in page.locator("#readers input[name='left_out']").all():
        box.uncheck()
    page.get_by_role("button", name="Send").click()
    page.wait_for_url("**/report/young-peoples-voice/receipt")
    [body] = disclosure_posts(wire)
    assert body["routing_answers"] == {"happening_now": "yes"} and body["left_out"] == []
    assert "A grown-up" not in json.dumps(body) and text not in json.dumps(body)


def test_a_directory_signed_while_the_form_was_open_is_fetched_again_and_the_report_sent(open_page, site):
    page = open_page(1280, javascript=True)
    wire = Wire(page)
    page.goto(f"/report/{CHANNEL}")
    page.wait_for_selector("#key-fingerprint")
    site.whistle("keys", "sign-directory")  # a new version, published while the reporter writes
    page.fill("#text", "Written while the keys changed.")
    page.check("input[name='answers.ongoing'][value='yes']")
    page.get_by_role("button", name="Send securely").click()
    page.wait_for_url(f"**/report/{CHANNEL}/receipt")
    first, second = disclosure_posts(wire)
    assert second["directory_version"] == first["directory_version"] + 1


def test_if_the_crypto_cannot_load_the_form_posts_as_it_does_without_javascript(open_page):
    page = open_page(390, javascript=True)
    page.route("**/static/vendor/libsodium/**", lambda route: route.abort())
    wire = Wire(page)
    page.goto(f"/report/{CHANNEL}")
    page.wait_for_load_state("networkidle")
    assert page.locator("#encryption-mode").inner_text() == BY_THE_SERVICE, "the page says what it does"
    page.fill("#text", "Sent although the script could not load.")
    page.check("input[name='answers.ongoing'][value='no']")
    page.get_by_role("button", name="Send securely").click()
    page.wait_for_url(f"**/report/{CHANNEL}/receipt")
    assert page.locator(".receipt-code code").inner_text()
    assert disclosure_posts(wire) == []
    assert any(method == "POST" and url.endswith(f"/report/{CHANNEL}") for method, url, _ in wire.bodies)


def test_with_javascript_a_receipt_of_20_characters_is_opened_by_the_service_as_before(open_page):
    text = marker("TEXT-older-receipt")
    sender = open_page(390)
    sender.goto(f"/report/{CHANNEL}")
    sender.fill("#text", text)
    sender.check("input[name='answers.ongoing'][value='no']")
    sender.get_by_role("button", name="Send securely").click()
    sender.wait_for_url(f"**/report/{CHANNEL}/receipt")
    receipt = sender.locator(".receipt-code code").inner_text()
    assert len(receipt) == 24, "a receipt of version 1, from the service"

    page = open_page(390, javascript=True)
    wire = Wire(page)
    page.goto("/mailbox")
    page.fill("#receipt", receipt)
    page.get_by_role("button", name="Open my report").click()
    page.wait_for_url("**/mailbox/case")
    assert text in page.inner_text("main")
    assert not [url for _, url, _ in wire.bodies if "/api/v1/reporter/session" in url], "the form was posted"
