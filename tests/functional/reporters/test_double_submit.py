"""A double press on "Send" never loses the receipt: the browser may drop the first request's
answer (and its receipt cookie) and show the second's, which opens nothing more but shows the
same receipt again, derived from the form's one-time submission token."""
from __future__ import annotations

from sqlalchemy import func, select

from tests.factories import make_live_channel
from tests.functional.reporters.helpers import RECEIPT, open_channel
from whistle.cases.models import Case


def test_the_second_press_of_a_double_submit_shows_the_receipt_of_the_first(testapp, dbsession, settings,
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
