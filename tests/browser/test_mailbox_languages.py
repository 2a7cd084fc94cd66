"""The mailbox decrypted on the device, in Welsh: the page's script says its words from the Welsh
catalogue, shows the news in Welsh, keeps the language in the addresses it moves to, and leaves
through the Welsh page."""
from __future__ import annotations

import pytest

from tests.browser.test_e2e_reporter import open_on_device, write_report

pytestmark = pytest.mark.browser


def test_the_mailbox_on_the_device_speaks_welsh_and_stays_under_its_prefix(open_page):
    page = open_page(1280, javascript=True)
    write_report(page, "The rota is falsified.", "Ward 7", [])
    page.get_by_role("button", name="Send securely").click()
    page.wait_for_url("**/receipt")
    receipt = page.locator(".receipt-code code").inner_text()
    page.get_by_role("button", name="Leave").click()

    page.goto("/cy/mailbox")
    assert page.locator("#receipt-form button[type=submit]").inner_text() == "Agor fy adroddiad"
    open_on_device(page, receipt, prefix="/cy")
    page.wait_for_url("**/cy/mailbox/case")
    main = page.inner_text("main")
    for welsh in ("Eich adroddiad", "Wedi'i amgryptio ar y ddyfais hon", "Negeseuon", "Anfon yn ddiogel",
                  "Tynnu eich adroddiad yn ôl", "Beth anfonoch chi"):
        assert welsh in main, welsh
    for english in ("Your report", "Messages", "Send securely", "What you sent"):
        assert english not in main, english
    # The news comes from the API under the page's prefix, so it is Welsh too.
    news = page.inner_text("#news")
    assert "Beth sy'n newydd" in news and "Dim byd newydd ers i chi anfon eich adroddiad" in news, news
    assert "Nothing new" not in news and "come back" not in news.lower(), news
    assert "Mae eich adroddiad wedi cyrraedd." in page.inner_text("dl.meta"), "the status, from the API's English"
    page.get_by_role("button", name="Anfon yn ddiogel").click()
    assert page.locator("#error-text").inner_text() == "Ysgrifennwch neges neu dewiswch ffeil i'w hanfon."
    page.get_by_role("button", name="Gadael").click()
    page.wait_for_url("**/cy/mailbox/leave")
    assert "Rydych chi wedi gadael" in page.inner_text("main")
