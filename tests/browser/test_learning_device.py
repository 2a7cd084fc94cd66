"""Learning on the guardian's device, in a real Chromium against a real server: a guardian signed in
with JavaScript closes two cases with what was learned (encrypted on the device), then finds one of
them on the learning page by a word in what was learned, and the other by a word in what changed.
The closing records are decrypted and searched in the browser: no request the page sends carries
any of those words, in its address or its body. The learning report shows the same records."""
from __future__ import annotations

import pytest

from tests.browser.staff import sign_in_on_the_device
from tests.browser.test_guardian_device_journey import marker, new_page, send_report, start_server, wait_opened

pytestmark = pytest.mark.browser


class Requests:
    """Every request the page sends: its address and its body."""

    def __init__(self, page) -> None:
        self.seen: list[tuple[str, str, bytes]] = []
        page.on("request", lambda request: self.seen.append(
            (request.method, request.url, request.post_data_buffer or b"")))

    def carrying(self, word: str) -> list[str]:
        lower = word.lower()
        return [f"{method} {url}" for method, url, body in self.seen
                if lower in url.lower() or lower.encode() in body.lower()]


def sign_in(page, server) -> None:
    sign_in_on_the_device(page, server.demo_credentials())


def close_on_device(page, ref: str, *, factor: str, learned: str, changed: str = "") -> None:
    page.goto(f"/staff/cases/{ref}")
    wait_opened(page)
    page.get_by_role("button", name="Acknowledge receipt").click()
    wait_opened(page)
    close = page.locator("#move-closed")
    close.locator("select[name='substantiated']").select_option("yes")
    close.locator("input[name='changes'][value='process']").check()
    close.locator(f"input[name='factors'][value='{factor}']").check()
    close.locator("textarea[name='learned']").fill(learned)
    if changed:
        close.locator("textarea[name='changed']").fill(changed)
    close.get_by_role("button", name="Close the case").click()
    wait_opened(page)
    assert "Closed" in page.inner_text("#status")
    assert learned in page.inner_text("#notes")
    if changed:
        assert changed in page.inner_text("#notes .record .changed")


def visible_cases(page) -> list[str]:
    return [row.get_attribute("data-case") for row in page.locator(".learning-case").all() if row.is_visible()]


def test_a_guardian_finds_a_case_by_what_was_learned_without_sending_the_words(chromium, tmp_path, screenshots):
    server = start_server(tmp_path)
    try:
        first = send_report(chromium, server, marker("TEXT-first"), b"first file", tmp_path)
        second = send_report(chromium, server, marker("TEXT-second"), b"second file", tmp_path)
        learned_word, changed_word = marker("handovers"), marker("checklist")
        context, page = new_page(chromium, server.port)
        try:
            requests = Requests(page)
            sign_in(page, server)
            close_on_device(page, first, factor="communication", learned=f"The {learned_word} were rushed at night.")
            close_on_device(page, second, factor="record_keeping", learned="Notes were not kept.",
                            changed=f"A {changed_word} for every shift.")

            page.goto("/staff/learning")
            page.wait_for_selector("html[data-learning-opened='true']", timeout=30_000)
            assert sorted(visible_cases(page)) == sorted([first, second])
            assert learned_word in page.inner_text(f".learning-case[data-case='{first}'] .learned")
            assert changed_word in page.inner_text(f".learning-case[data-case='{second}'] .changed")

            page.fill("#learning-device-q", learned_word.upper())
            page.get_by_role("button", name="Search").click()
            assert visible_cases(page) == [first]
            assert "1 of the 2 cases listed" in page.inner_text("[data-learning-status]")
            screenshots(page, "learning-device-search")
            page.fill("#learning-device-q", changed_word)
            page.get_by_role("button", name="Search").click()
            assert visible_cases(page) == [second]

            # The metadata filters go to the server, and the page's script reads what they picked.
            page.goto("/staff/learning?factors=record_keeping")
            page.wait_for_selector("html[data-learning-opened='true']", timeout=30_000)
            assert visible_cases(page) == [second]

            page.goto("/staff/learning/report")
            page.wait_for_selector("html[data-learning-opened='true']", timeout=30_000)
            assert learned_word in page.inner_text(f".learning-case[data-case='{first}'] .learned")
            assert "fewer than 5" in page.inner_text("table.themes")
            screenshots(page, "learning-report-device")

            assert any("/staff/learning/outcomes" in url for _, url, _ in requests.seen)
            for word in (learned_word, changed_word):
                assert requests.carrying(word) == [], word
        finally:
            context.close()
    finally:
        server.stop()
