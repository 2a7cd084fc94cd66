"""Review: a double press on "Send" can lose the receipt for good.

Opening a case spends an Argon2id derivation on the new receipt (a second or more at production
cost), and files stream in before the answer. A nervous reporter on a phone presses Send again
meanwhile: the browser drops the first request's answer (and with it the receipt cookie) and
shows the second one, which — the same form, the same submission token — says "This was already
sent ... Your secret code was shown on the page after you pressed Send". It never was. The case
exists, the guardians will answer, and nobody can ever read the answer: the receipt is gone.
"""
from __future__ import annotations

from sqlalchemy import func, select

from tests.factories import make_live_channel
from tests.functional.reporters.helpers import RECEIPT, open_channel
from whistle.cases.models import Case


def test_the_second_press_of_a_double_submit_still_gets_the_reporter_their_receipt(testapp, dbsession, settings,
                                                                                  clock):
    make_live_channel(dbsession, settings, clock)
    form = open_channel(testapp, "Channel staff").forms[0]
    form["text"] = "The fire exit is chained. I pressed Send twice."
    form["answers.ongoing"] = "yes"

    form.submit(status=303)  # the first press: the case is opened, but the browser drops this answer
    for cookie in [c for c in testapp.cookiejar if c.name.endswith("whistle_receipt")]:
        testapp.cookiejar.clear(cookie.domain, cookie.path, cookie.name)
    second = form.submit().maybe_follow()

    assert dbsession.scalar(select(func.count()).select_from(Case)) == 1
    assert RECEIPT.search(second.text), (
        "the only case this browser opened can never be read by its reporter: "
        + second.html.find("main").get_text(" ", strip=True)[:160])
