"""Review: staff who are signed in to the workspace cannot open their own report in that browser.

Guardians and admins are staff too, and may need to speak up themselves. The security policy
reads the staff cookie first and never looks at the reporter's: after a successful receipt
sign-in (a reporter session is opened and audited), the mailbox says "Your visit has ended" and
asks for the receipt again, forever. The reporter is left thinking their receipt does not work.
"""
from __future__ import annotations

from tests.factories import html_login, make_live_channel, make_staff
from tests.functional.reporters.helpers import receipt_of, submit_disclosure


def test_a_signed_in_guardian_can_open_their_own_report_in_the_mailbox(testapp, dbsession, settings, clock):
    make_live_channel(dbsession, settings, clock)
    guardian = make_staff(dbsession, settings, clock, "also.reporter")
    html_login(testapp, guardian, clock)
    receipt = receipt_of(submit_disclosure(testapp, text="My manager signs off overtime nobody worked."))

    form = testapp.get("/mailbox").forms[0]
    form["receipt"] = receipt
    page = form.submit().maybe_follow()

    assert "My manager signs off overtime nobody worked." in page.text, \
        page.html.find("main").get_text(" ", strip=True)[:200]
