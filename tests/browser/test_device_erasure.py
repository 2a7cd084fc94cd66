"""Erasing in device mode, in a real Chromium against a real server: a guardian whose sign-in holds no
key erases the reporter's message and file with the case page's form; their device then shows
"Erased on <date>: <reason>" in their place, and so does the reporter's mailbox, which decrypts on
the reporter's device too."""
from __future__ import annotations

import pytest

from tests.browser.test_e2e_device_read import Guardian, marker
from tests.browser.test_e2e_reporter import write_report

pytestmark = pytest.mark.browser


def test_a_guardian_erases_on_the_device_and_both_sides_see_when_and_why(open_page, site, screenshots, tmp_path,
                                                                          monkeypatch):
    text, message = marker("TEXT-doors"), marker("MESSAGE-erase")
    (tmp_path / "rota.txt").write_bytes(marker("FILE").encode())
    reporter = open_page(1280, javascript=True)
    write_report(reporter, text, marker("WHERE"), [str(tmp_path / "rota.txt")])
    reporter.get_by_role("button", name="Send securely").click()
    reporter.wait_for_url("**/receipt")
    receipt = reporter.locator(".receipt-code code").inner_text()
    ref = reporter.locator("[data-slot='case-ref']").inner_text()
    reporter.goto("/mailbox")
    reporter.fill("#receipt", receipt)
    reporter.get_by_role("button", name="Open my report").click()
    reporter.wait_for_selector("#what-you-sent")
    reporter.fill("#text", message)
    reporter.get_by_role("button", name="Send securely").click()
    reporter.wait_for_selector("#reply-status:text('Sent.')")

    guardian = Guardian(site, monkeypatch)
    page = open_page(1280, javascript=True)
    guardian.sign_in(page, site)
    page.goto(f"/staff/cases/{ref}")
    page.wait_for_selector("html[data-case-opened='true']")
    assert message in page.inner_text("article.message.from-reporter")

    for choice, reason in (("Message 1, from the reporter", "Sent in error"),
                           ("File 1, from the reporter", "A duplicate of something already in the case")):
        label = next(option for option in page.locator("#erase-item option").all_inner_texts()
                     if option.startswith(choice))
        page.select_option("#erase-item", label=label)
        page.select_option("#erase-reason", label=reason)
        page.get_by_role("button", name="Erase for good").click()
        page.wait_for_selector("html[data-case-opened='true']")

    erased = page.inner_text("article.message.erased")
    assert "Erased on" in erased and "Sent in error." in erased and message not in page.inner_text("main")
    assert "A duplicate of something already in the case." in page.inner_text("#files-erased")
    assert text in page.inner_text(".disclosure"), "the rest of the case still opens on the device"
    screenshots(page, "erasure-01-device-case")

    reporter.goto("/mailbox")
    reporter.fill("#receipt", receipt)
    reporter.get_by_role("button", name="Open my report").click()
    reporter.wait_for_selector("#what-you-sent")
    shown = reporter.inner_text("#conversation")
    assert "Erased on" in shown and "Sent in error." in shown and message not in shown
    assert "A duplicate of something already in the case." in reporter.inner_text("#files")
    screenshots(reporter, "erasure-02-mailbox")
