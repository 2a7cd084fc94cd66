"""The first guardian to open a report sent with JavaScript replaces its team key on their device;
what they write on that same page, before any reload, is encrypted to the new team key, so they and
their colleagues can read it (not "a note that could not be verified")."""
from __future__ import annotations

import pytest

from tests.browser.test_export_browser import sign_in
from tests.browser.test_guardian_device_journey import marker, new_page, send_report, wait_opened

pytestmark = pytest.mark.browser


def test_a_note_written_on_the_first_visit_is_readable(chromium, site, tmp_path):
    text, note = marker("TEXT-first-visit"), marker("NOTE-first-visit")
    ref = send_report(chromium, site, text, b"a file", tmp_path)
    context, page = new_page(chromium, site.port)
    try:
        sign_in(page, site.demo_credentials())
        page.goto(f"/staff/cases/{ref}")
        wait_opened(page)
        page.fill("#note-form textarea[name='text']", note)
        page.get_by_role("button", name="Add note").click()
        page.wait_for_url(f"**/staff/cases/{ref}#notes")
        wait_opened(page)
        notes = page.inner_text("#notes")
        assert note in notes and "could not be verified" not in notes, notes
    finally:
        context.close()
