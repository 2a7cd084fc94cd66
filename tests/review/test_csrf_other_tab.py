"""Review: with CSRF tied to the session, signing in again kills every open form, and its words.

A guardian writes a long note in one tab; in another tab they sign in again (the inbox asked
them to, or they opened the workspace on a bookmark). Their browser now carries the new session,
so the note form's token, derived from the old one, no longer matches: the post is answered with
"This form had expired. Go back, reload the page and try again." — and reloading, as it says,
brings an empty form (the page is no-store). The note is gone. Forms must keep what was typed
when they are refused (house rule), the staff ones too.
"""
from __future__ import annotations

from tests.factories import html_login, make_live_channel, make_staff, submit_api

NOTE = "Spoke to the night manager: she confirms the rota was changed on the 3rd, and will put it in writing."


def test_a_note_refused_for_an_old_token_comes_back_with_its_words(testapp, dbsession, settings, clock):
    make_live_channel(dbsession, settings, clock)
    guardian = make_staff(dbsession, settings, clock, "tabs.guardian", channels=["staff"])
    case = submit_api(testapp)["case"]
    html_login(testapp, guardian, clock)
    form = testapp.get(f"/staff/cases/{case}").forms["note-form"]  # the first tab
    form["text"] = NOTE

    html_login(testapp, guardian, clock)  # the second tab: signed in again
    answer = form.submit(expect_errors=True)

    assert NOTE in answer.text or answer.status_int in (302, 303), (
        f"answered {answer.status_int} ({answer.html.find('main').get_text(' ', strip=True)[:120]}) and the note is lost")
