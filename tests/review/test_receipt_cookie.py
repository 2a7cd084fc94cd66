"""Review: the sealed receipt cookie outlives the reporter's own "Leave" in the mailbox, and the browser.

The receipt page shows "Go back to my message" right under the code. A reporter who follows it,
opens their report and presses Leave there is told "Your message is closed on this device" —
but for up to 15 minutes the receipt page (Back, or the address from the history) still shows
the secret code that opens it all again.
"""
from __future__ import annotations

from tests.factories import make_live_channel
from tests.functional.reporters.helpers import RECEIPT, receipt_of, submit_disclosure


def test_leaving_the_mailbox_also_forgets_the_receipt_still_carried_for_the_receipt_page(testapp, dbsession, settings,
                                                                                         clock):
    make_live_channel(dbsession, settings, clock, "young", title="Young voices", wording={"plain": True})
    receipt_page = submit_disclosure(testapp, "Young voices", text="Someone at home hurts me.")
    receipt = receipt_of(receipt_page)

    # The link under the code: "Go back to my message", then the code typed in.
    login = receipt_page.click(description="Go back to my message")
    form = login.forms[0]
    form["receipt"] = receipt
    mailbox = form.submit().follow()
    assert "Someone at home hurts me." in mailbox.text
    left = mailbox.forms["leave-form"].submit()
    assert "closed on this device" in left.text

    again = testapp.get("/report/young/receipt")
    assert not RECEIPT.search(again.text), \
        "after 'Your message is closed on this device', the receipt page must not show the secret code again"


def test_the_receipt_cookie_dies_with_the_browser(testapp, dbsession, settings, clock):
    """The sealed value carries its own 15-minute expiry; Max-Age makes the browser write the cookie
    to the profile on disk and keep it across a restart. A reporter on a shared computer who
    closes the browser, as the pages advise, leaves the receipt for the next person who opens it
    within the quarter hour and finds the receipt page in the history."""
    make_live_channel(dbsession, settings, clock)
    form = testapp.get("/report/staff").forms[0]
    form["text"] = "The agency nurses are not checked."
    form["answers.ongoing"] = "yes"
    sent = form.submit(status=303)

    header = next(h for h in sent.headers.getall("Set-Cookie") if h.startswith("whistle_receipt="))
    attributes = {part.strip().split("=", 1)[0].lower() for part in header.split(";")[1:]}
    assert not attributes & {"max-age", "expires"}, f"a persistent cookie: {header[:20]}...{header[-120:]}"
