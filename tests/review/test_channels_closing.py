"""Review: what a reporter meets when a channel closes, or is closed while they write.

- The "not open" page of a channel that asks for a quick exit and a help panel (the young
  people's channel) shows neither, though every page its reporters see must have them.
- A channel set inactive while someone writes answers the post with a bare 404 error page:
  what they wrote is gone, unlike the "not open" page, which gives the words back.
"""
from __future__ import annotations

from tests.factories import make_channel, make_staff

HELP_NOW = {"title": "Need help now?", "lines": [{"text": "Call Childline on 0800 1111.", "link": "tel:08001111"}]}
TEXT = "The older boys lock me in the shed after school."


def test_a_closed_young_peoples_channel_keeps_its_quick_exit_and_help_panel(testapp, dbsession):
    make_channel(dbsession, "youth", title="Young voices", wording={"plain": True}, help_now=HELP_NOW,
                 quick_exit_url="https://www.bbc.co.uk/weather", reporters_are_staff=False)

    page = testapp.get("/report/youth")
    assert "not open right now" in page.text
    assert page.html.select_one(".quick-exit-link") is not None, "no quick exit on this page of the channel"
    assert page.html.select_one("aside.help-now") is not None, "no help panel on this page of the channel"


def test_a_channel_closed_while_someone_writes_gives_their_words_back(testapp, dbsession, settings, clock):
    channel = make_channel(dbsession, "staff")
    make_staff(dbsession, settings, clock, "staff.keeper", channels=["staff"])
    form = testapp.get("/report/staff").forms[0]
    form["text"] = TEXT
    form["answers.ongoing"] = "yes"
    channel.active = False  # `channels load` with the channel marked inactive, while they typed
    dbsession.flush()

    page = form.submit(expect_errors=True)
    assert TEXT in page.text, f"answered {page.status_int} and the words are lost"
