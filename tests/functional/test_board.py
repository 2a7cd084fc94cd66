"""The "you said, we did" board: a guardian of a board channel publishes, edits and unpublishes an
entry from the case page (forms without JavaScript, and the API); the public page lists entries
newest first; the reporter agrees to be quoted (until an entry is published) and sees that their
idea was acted on."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.factories import api_login, html_login, make_channel, make_staff, submit_api
from tests.functional.reporters.helpers import come_back, receipt_of, submit_disclosure
from whistle.audit.models import AuditEvent
from whistle.board.models import BoardEntry
from whistle.cases.models import Case
from whistle.words import day_words


def reporter_login(testapp, receipt: str) -> dict:
    body = testapp.post_json("/api/v1/reporter/session", {"receipt": receipt}).json
    return {"Authorization": f"Bearer {body['token']}"}


def ideas_channel(dbsession, settings, clock):
    make_channel(dbsession, "ideas", title="Channel ideas", board=True)
    return make_staff(dbsession, settings, clock, "lead", channels=["ideas"])


def test_publishing_from_the_case_page_without_javascript_and_the_public_board(testapp, dbsession, settings, clock):
    lead = ideas_channel(dbsession, settings, clock)
    receipt = receipt_of(submit_disclosure(testapp, "Channel ideas"))
    assert "you said, we did" not in testapp.get("/").text.lower(), "no link while the board is empty"
    assert "Nothing has been published here yet." in testapp.get("/board").text

    # The reporter agrees to be quoted, in their mailbox.
    mailbox = come_back(testapp, receipt)
    form = mailbox.forms["board-consent-form"]
    form["consent"] = True
    mailbox = form.submit(status=303).follow()
    case = dbsession.scalars(select(Case)).one()
    assert case.board_consent is True
    assert mailbox.forms["board-consent-form"]["consent"].checked
    testapp.post("/mailbox/leave")

    html_login(testapp, lead, clock)
    page = testapp.get(f"/staff/cases/{case.ref}")
    section = page.html.find(id="board")
    assert "The reporter agreed that their words may be quoted" in section.text

    # A refused form keeps what was typed and names the field.
    form = page.forms["board-form"]
    form["title"] = "Quieter night shifts"
    form["you_said"] = "Lights on ward 7 kept patients awake."
    refused = form.submit(status=422)
    assert "We did: write something here." in refused.html.find(class_="error-summary").text
    assert refused.forms["board-form"]["title"].value == "Quieter night shifts"
    assert dbsession.scalars(select(BoardEntry)).all() == []

    form = refused.forms["board-form"]
    form["we_did"] = "We fitted dimmable lights on every ward."
    form.submit(status=302)
    entry = dbsession.scalars(select(BoardEntry)).one()
    assert (entry.case_id, entry.account_id, entry.published_on) == (case.id, lead.account.id, clock.today())
    assert dbsession.scalars(select(AuditEvent).where(AuditEvent.action == "board.published")).one().detail == {
        "entry_id": entry.id}

    # Edit it; a refused edit keeps the text.
    page = testapp.get(f"/staff/cases/{case.ref}")
    edit = page.forms[[key for key in page.forms if page.forms[key].action.endswith(f"/board/{entry.id}")][0]]
    edit["title"] = ""
    refused = edit.submit(status=422)
    assert "Title: write something here." in refused.html.find(class_="error-summary").text
    assert dbsession.get(BoardEntry, entry.id).title == "Quieter night shifts"
    edit["title"] = "Quieter nights on the wards"
    edit.submit(status=302)
    assert dbsession.get(BoardEntry, entry.id).edited_on == clock.today()

    # The public board: no sign-in, no script, the month only.
    testapp.post("/staff/logout", {"csrf_token": page.forms["board-form"]["csrf_token"].value}, status="*")
    board = testapp.get("/board")
    assert "<script" not in board.text
    article = board.html.find(id=f"entry-{entry.id}")
    text = article.get_text(" ", strip=True)
    assert "Quieter nights on the wards" in text and "You said Lights on ward 7 kept patients awake." in text
    assert "We did We fitted dimmable lights on every ward." in text
    assert clock.today().strftime("%B %Y") in text and day_words(clock.today()) not in text, "the month, not the day"
    assert testapp.get("/").html.find("a", href="/board") is not None, "linked from the home page"
    assert testapp.get("/api/v1/board").json["entries"][0]["month"] == clock.today().strftime("%Y-%m")

    # The reporter sees that their idea was acted on, with a link; consent can no longer change.
    mailbox = come_back(testapp, receipt)
    acted = mailbox.html.find(class_="acted-on")
    assert "Your idea was acted on: Quieter nights on the wards" in acted.text
    assert acted.find("a")["href"] == f"/board#entry-{entry.id}"
    assert "board-consent-form" not in mailbox.forms
    token = mailbox.forms["message-form"]["csrf_token"].value
    locked = testapp.post("/mailbox/case/board-consent", {"csrf_token": token}, status=409)
    assert "can no longer be changed" in locked.text
    assert dbsession.scalars(select(Case)).one().board_consent is True


def test_newest_first_unpublishing_and_the_api(testapp, dbsession, settings, clock):
    lead = ideas_channel(dbsession, settings, clock)
    headers = api_login(testapp, lead, clock)
    first, second = submit_api(testapp, "ideas")["case"], submit_api(testapp, "ideas")["case"]
    texts = {"title": "Older", "you_said": "An idea.", "we_did": "A change."}
    older = testapp.post_json(f"/api/v1/cases/{first}/board", texts, headers=headers, status=201).json
    clock.advance(timedelta(days=40))
    headers = api_login(testapp, lead, clock)  # the earlier session has expired
    newer = testapp.post_json(f"/api/v1/cases/{second}/board", dict(texts, title="Newer"), headers=headers,
                              status=201).json
    assert [e["title"] for e in testapp.get("/api/v1/board").json["entries"]] == ["Newer", "Older"]
    titles = [h.text for h in testapp.get("/board").html.select("article.board-entry h2")]
    assert titles == ["Newer", "Older"]

    problem = testapp.post_json(f"/api/v1/cases/{first}/board", {"title": "x" * 500, "you_said": 3, "note": ""},
                                headers=headers, status=422).json
    assert {e["field"] for e in problem["errors"]} == {"note"}
    problem = testapp.post_json(f"/api/v1/cases/{first}/board", {"title": "x" * 500, "you_said": 3, "we_did": ""},
                                headers=headers, status=422).json
    assert {e["field"] for e in problem["errors"]} == {"title", "you_said", "we_did"}
    # An entry of another case is not this case's.
    testapp.put_json(f"/api/v1/cases/{first}/board/{newer['id']}", texts, headers=headers, status=404)
    edited = testapp.put_json(f"/api/v1/cases/{first}/board/{older['id']}", dict(texts, we_did="More."),
                              headers=headers).json
    assert edited["we_did"] == "More."
    testapp.delete(f"/api/v1/cases/{second}/board/{newer['id']}", headers=headers, status=204)
    assert [e["title"] for e in testapp.get("/api/v1/board").json["entries"]] == ["Older"]
    assert dbsession.scalars(select(AuditEvent.action).where(AuditEvent.action.like("board.%"))
                             .order_by(AuditEvent.seq)).all() == [
        "board.published", "board.published", "board.edited", "board.unpublished"]

    # Unpublishing from the page.
    html_login(testapp, lead, clock)
    page = testapp.get(f"/staff/cases/{first}")
    form = page.forms[[key for key in page.forms if page.forms[key].action.endswith("/unpublish")][0]]
    form.submit(status=302)
    assert testapp.get("/api/v1/board").json["entries"] == []


def test_refusals_on_a_channel_without_the_board_and_for_other_guardians(testapp, dbsession, settings, clock):
    make_channel(dbsession)
    guardian = make_staff(dbsession, settings, clock, channels=["staff"])
    sent = submit_api(testapp)
    headers = api_login(testapp, guardian, clock)
    problem = testapp.post_json(f"/api/v1/cases/{sent['case']}/board",
                                {"title": "T", "you_said": "Y", "we_did": "W"}, headers=headers, status=409).json
    assert problem["type"] == "/api/v1/problems/not-a-board-channel"
    reporter = reporter_login(testapp, sent["receipt"])
    problem = testapp.post_json("/api/v1/reporter/board-consent", {"consent": True}, headers=reporter,
                                status=409).json
    assert problem["type"] == "/api/v1/problems/not-a-board-channel"
    assert testapp.get("/api/v1/reporter/case", headers=reporter).json["board"] is None
    html_login(testapp, guardian, clock)
    assert testapp.get(f"/staff/cases/{sent['case']}").html.find(id="board") is None

    # A guardian who does not hold the case cannot publish on it.
    lead = ideas_channel(dbsession, settings, clock)
    idea = submit_api(testapp, "ideas")["case"]
    testapp.post_json(f"/api/v1/cases/{idea}/board", {"title": "T", "you_said": "Y", "we_did": "W"},
                      headers=headers, status=404)
    assert dbsession.scalars(select(BoardEntry)).all() == []

    # The reporter's consent through the API, changeable until published.
    reporter = reporter_login(testapp, submit_api(testapp, "ideas")["receipt"])
    assert testapp.post_json("/api/v1/reporter/board-consent", {"consent": True}, headers=reporter).json == {
        "board_consent": True}
    assert testapp.post_json("/api/v1/reporter/board-consent", {"consent": False}, headers=reporter).json == {
        "board_consent": False}
    problem = testapp.post_json("/api/v1/reporter/board-consent", {"consent": "yes"}, headers=reporter,
                                status=422).json
    assert [e["field"] for e in problem["errors"]] == ["consent"]
    assert testapp.get("/api/v1/reporter/envelopes", headers=reporter).json["board"] == {
        "consent": False, "locked": False, "acted_on": []}
    del lead


def test_an_expired_board_form_keeps_what_was_typed_and_publishes_nothing(testapp, dbsession, settings, clock):
    lead = ideas_channel(dbsession, settings, clock)
    ref = submit_api(testapp, "ideas")["case"]
    html_login(testapp, lead, clock)
    form = testapp.get(f"/staff/cases/{ref}").forms["board-form"]
    form["title"], form["you_said"], form["we_did"] = "Benches", "Somewhere to sit.", "Two benches by the door."
    form["csrf_token"] = "from-another-sign-in"
    refused = form.submit(status=400)
    assert "This page had expired" in refused.html.find(class_="error-summary").text
    kept = refused.forms["board-form"]
    assert (kept["title"].value, kept["you_said"].value, kept["we_did"].value) == (
        "Benches", "Somewhere to sit.", "Two benches by the door.")
    assert dbsession.scalars(select(BoardEntry)).all() == []
