"""Review: no quick exit where a young person arrives and where they come back.

The quick exit is on every page once the young people's channel is chosen, but not on the start
page (where every visit begins, and which lists that channel) nor on the sign-in page where a
child types their secret code to read the answer, and waits for it: the moments someone is most
likely to walk in. The pages do not know the channel yet, but the service knows one of its
channels asks for a quick exit.
"""
from __future__ import annotations

import pytest

from tests.factories import make_live_channel


@pytest.mark.parametrize("path", ["/", "/mailbox"], ids=["start page", "mailbox sign-in"])
def test_pages_a_young_person_arrives_on_have_a_quick_exit(testapp, dbsession, settings, clock, path):
    make_live_channel(dbsession, settings, clock, "youth", title="Young voices", wording={"plain": True},
                      quick_exit_url="https://www.bbc.co.uk/weather", reporters_are_staff=False)
    page = testapp.get(path)
    assert page.html.select_one(".quick-exit-link") is not None, f"no quick exit on {path}"
