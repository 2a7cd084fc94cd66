"""The quick exit: on every page of a channel that asks for one, and on the pages every visit
shares (the start page, the mailbox's sign-in) when any channel asks for one; it goes through
/exit, which ends the mailbox visit, expires the receipt cookie and asks the browser to drop its
cache, then sends the browser on to the neutral page."""
from __future__ import annotations

import pytest

from tests.factories import make_live_channel
from tests.functional.reporters.helpers import RECEIPT, receipt_of, submit_disclosure

NEUTRAL = "https://www.bbc.co.uk/weather"


@pytest.fixture
def young(dbsession, settings, clock):
    return make_live_channel(dbsession, settings, clock, "youth", title="Young voices", wording={"plain": True},
                             quick_exit_url=NEUTRAL, reporters_are_staff=False)


@pytest.mark.parametrize("path", ["/", "/mailbox"], ids=["start page", "mailbox sign-in"])
def test_pages_a_young_person_arrives_on_have_a_quick_exit(testapp, young, path):
    link = testapp.get(path).html.select_one(".quick-exit-link")
    assert link is not None, f"no quick exit on {path}"
    assert link["href"] == "/exit" and link["rel"] == ["noreferrer"]


def test_without_a_channel_asking_for_it_the_shared_pages_have_no_quick_exit(testapp, dbsession, settings, clock):
    make_live_channel(dbsession, settings, clock)
    assert testapp.get("/").html.select_one(".quick-exit-link") is None
    assert testapp.get("/mailbox").html.select_one(".quick-exit-link") is None


def test_the_quick_exit_forgets_the_receipt_and_goes_to_the_neutral_page(testapp, young):
    page = submit_disclosure(testapp, "Young voices", text="Someone at home hurts me.")
    assert receipt_of(page)
    link = page.html.select_one(".quick-exit-link")
    assert link["href"] == "/exit/youth"

    gone = testapp.get(link["href"], status=303)
    assert gone.location == NEUTRAL
    assert gone.headers["Clear-Site-Data"] == '"cache"'
    expired = [h for h in gone.headers.getall("Set-Cookie") if h.startswith("whistle_receipt=;")]
    assert expired and "Max-Age=0" in expired[0]
    assert not RECEIPT.search(testapp.get("/report/youth/receipt").text)


def test_the_quick_exit_ends_the_mailbox_visit(testapp, young):
    receipt = receipt_of(submit_disclosure(testapp, "Young voices", text="Someone at home hurts me."))
    form = testapp.get("/mailbox").forms[0]
    form["receipt"] = receipt
    mailbox = form.submit().follow()
    assert "Someone at home hurts me." in mailbox.text

    testapp.get(mailbox.html.select_one(".quick-exit-link")["href"], status=303)
    again = testapp.get("/mailbox/case")
    assert "Someone at home hurts me." not in again.text
    assert again.html.find("input", attrs={"name": "receipt"}) is not None, "asked for the receipt again"
