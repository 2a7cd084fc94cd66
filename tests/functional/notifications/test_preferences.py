"""Which events a guardian is told about: the page's boxes and the API's `events`, checked,
audited with names only, and a refused change changes nothing."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.factories import api_login, html_login
from whistle.accounts.models import Account
from whistle.audit.models import AuditEvent
from whistle.notifications.preferences import ALWAYS_ON, EVENTS, REPORTER_FILE, REPORTER_MESSAGE, RETALIATION


@pytest.fixture
def world(tick_app):
    return tick_app(plugins=["smtp"], raw={"whistle_smtp.host": "127.0.0.1",
                                           "whistle_smtp.from_address": "whistle@example.org"})


def stored(world, account_id: int) -> Account:
    with world.session() as dbsession:
        found = dbsession.get(Account, account_id)
        dbsession.expunge(found)
    return found


def events_audited(world, account_id: int) -> list[dict]:
    with world.session() as dbsession:
        return [event.detail for event in dbsession.scalars(
            select(AuditEvent).where(AuditEvent.action == "account.notify_events_changed",
                                     AuditEvent.actor == f"account:{account_id}").order_by(AuditEvent.seq))]


def ticked(form) -> set[str]:
    return {field.value for field in form.fields["events"] if field.checked}


def boxes(form) -> dict[str, object]:
    return {field._value: field for field in form.fields["events"]}


def test_the_page_shows_a_box_per_event_keeps_the_ticks_on_error_and_saves_them(world):
    me = world.staff("prefs.page")
    html_login(world.testapp, me, world.clock)
    page = world.testapp.get("/staff/notifications")
    for words in EVENTS.values():
        assert words in page.text
    assert "Tell me when" in page.text
    form = page.forms[1]
    assert ticked(form) == set(EVENTS) - ALWAYS_ON, "everything is on until turned off"
    assert ALWAYS_ON and all(EVENTS[event] in page.html.find(id="always-on").text for event in ALWAYS_ON), (
        "what cannot be turned off is said to be always on, with no box")

    boxes(form)[REPORTER_MESSAGE].checked = False
    boxes(form)[RETALIATION].checked = False
    form["channel"], form["address"] = "email", "not an address"
    refused = form.submit(status=422)
    assert 'id="address-error"' in refused.text
    form = refused.forms[1]
    assert ticked(form) == set(EVENTS) - ALWAYS_ON - {REPORTER_MESSAGE, RETALIATION}, "the ticks are kept as they were sent"
    assert form["address"].value == "not an address"
    assert stored(world, me.account.id).notify_events_off == [], "nothing changed"
    assert events_audited(world, me.account.id) == []

    form["address"] = "prefs.page@example.org"
    saved = form.submit()
    assert "Saved." in saved.text
    assert stored(world, me.account.id).notify_events_off == [REPORTER_MESSAGE, RETALIATION]
    assert events_audited(world, me.account.id) == [
        {"account_id": me.account.id, "off": [REPORTER_MESSAGE, RETALIATION]}]
    assert ticked(saved.forms[1]) == set(EVENTS) - ALWAYS_ON - {REPORTER_MESSAGE, RETALIATION}
    assert ticked(world.testapp.get("/staff/notifications").forms[1]) == (
        set(EVENTS) - ALWAYS_ON - {REPORTER_MESSAGE, RETALIATION})

    form = saved.forms[1]
    for field in form.fields["events"]:
        field.checked = False
    form.submit()
    assert stored(world, me.account.id).notify_events_off == [event for event in EVENTS if event not in ALWAYS_ON], (
        "every box unticked: told of nothing but what cannot be turned off")


def test_the_page_refuses_an_event_that_does_not_exist_and_leaves_events_alone_without_boxes(world):
    me = world.staff("prefs.tamper")
    html_login(world.testapp, me, world.clock)
    form = world.testapp.get("/staff/notifications").forms[1]
    token = form["csrf_token"].value
    refused = world.testapp.post("/staff/notifications", {
        "csrf_token": token, "channel": "", "address": "", "events_shown": "1",
        "events": ["new_report", "everything"]}, status=422)
    assert 'id="events-error"' in refused.text and "&#39;everything&#39;" in refused.text
    assert stored(world, me.account.id).notify_events_off == []

    # A post from a page without the boxes (an old tab) is not "every box unticked".
    world.testapp.post("/staff/notifications", {"csrf_token": token, "channel": "email",
                                                "address": "prefs.tamper@example.org"})
    account = stored(world, me.account.id)
    assert (account.notify_address, account.notify_events_off) == ("prefs.tamper@example.org", [])


def test_the_api_reads_and_changes_events_and_names_an_unknown_one(world):
    me = world.staff("prefs.api")
    app, headers = world.testapp, api_login(world.testapp, me, world.clock)
    app.put_json("/api/v1/staff/notifications", {"channel": "email", "address": "prefs.api@example.org"},
                 headers=headers)
    assert app.get("/api/v1/staff/notifications", headers=headers).json["events"] == dict.fromkeys(EVENTS, True)

    changed = app.put_json("/api/v1/staff/notifications", {"events": {REPORTER_FILE: False}}, headers=headers).json
    assert changed["events"] == {event: event != REPORTER_FILE for event in EVENTS}
    assert (changed["channel"], changed["address"]) == ("email", "prefs.api@example.org"), "left out: left alone"
    assert events_audited(world, me.account.id) == [{"account_id": me.account.id, "off": [REPORTER_FILE]}]

    unknown = app.put_json("/api/v1/staff/notifications", {"events": {"everything": True, REPORTER_FILE: True}},
                           headers=headers, status=422)
    assert unknown.content_type == "application/problem+json"
    (error,) = unknown.json["errors"]
    assert error["field"] == "events" and "'everything'" in error["message"]
    for body in ({"events": {REPORTER_FILE: "yes"}}, {"events": [REPORTER_FILE]}, {"events": None}):
        problem = app.put_json("/api/v1/staff/notifications", body, headers=headers, status=422).json
        assert [e["field"] for e in problem["errors"]] == ["events"], body
    both = app.put_json("/api/v1/staff/notifications", {"address": "bad", "channel": "email",
                                                       "events": {REPORTER_FILE: True}}, headers=headers, status=422)
    assert [e["field"] for e in both.json["errors"]] == ["address"]
    assert stored(world, me.account.id).notify_events_off == [REPORTER_FILE], "refusals changed nothing"
    assert len(events_audited(world, me.account.id)) == 1

    app.put_json("/api/v1/staff/notifications", {"events": {REPORTER_FILE: True}}, headers=headers)
    assert stored(world, me.account.id).notify_events_off == []


def language_audited(world, account_id: int) -> list[dict]:
    with world.session() as dbsession:
        return [event.detail for event in dbsession.scalars(
            select(AuditEvent).where(AuditEvent.action == "account.notify_language_changed",
                                     AuditEvent.actor == f"account:{account_id}").order_by(AuditEvent.seq))]


def test_the_page_offers_each_language_in_its_own_name_and_saves_the_choice(world):
    me = world.staff("prefs.language")
    html_login(world.testapp, me, world.clock)
    page = world.testapp.get("/staff/notifications")
    form = page.forms[1]
    offered = [(value, text) for value, _selected, text in form["language"].options]
    assert offered == [("", "As your organisation sends them"), ("en", "English"), ("cy", "Cymraeg"),
                       ("pl", "Polski"), ("ar", "العربية")]
    assert form["language"].value == "", "none chosen: as the organisation sends them"
    names = {option["value"]: (option.get("lang"), option.get("dir"))
             for option in page.html.select("#language option")}
    assert names == {"": (None, None), "en": ("en", "ltr"), "cy": ("cy", "ltr"), "pl": ("pl", "ltr"),
                     "ar": ("ar", "rtl")}, "each language's name is read in its own voice and direction"

    # A refused address keeps the language chosen, and changes nothing.
    form["channel"], form["address"], form["language"] = "email", "not an address", "cy"
    refused = form.submit(status=422)
    assert refused.forms[1]["language"].value == "cy"
    assert stored(world, me.account.id).notify_language is None and language_audited(world, me.account.id) == []

    form = refused.forms[1]
    form["address"] = "prefs.language@example.org"
    saved = form.submit()
    assert "Saved." in saved.text and saved.forms[1]["language"].value == "cy"
    assert stored(world, me.account.id).notify_language == "cy"
    assert language_audited(world, me.account.id) == [{"account_id": me.account.id, "language": "cy"}]
    saved.forms[1].submit()
    assert len(language_audited(world, me.account.id)) == 1, "saved again unchanged: nothing audited"

    # On the Welsh page the choice reads in Welsh, and "none" goes back to the organisation's.
    welsh = world.testapp.get("/cy/staff/notifications")
    assert "Iaith eich hysbysiadau" in welsh.text
    form = welsh.forms[1]
    form["language"] = ""
    form.submit()
    assert stored(world, me.account.id).notify_language is None
    assert language_audited(world, me.account.id)[-1] == {"account_id": me.account.id, "language": None}


def test_a_language_that_is_not_offered_is_refused_and_the_rest_of_the_form_is_kept(world):
    me = world.staff("prefs.badlanguage")
    html_login(world.testapp, me, world.clock)
    token = world.testapp.get("/staff/notifications").forms[1]["csrf_token"].value
    refused = world.testapp.post("/staff/notifications", {
        "csrf_token": token, "channel": "email", "address": "prefs.badlanguage@example.org", "language": "fr",
        "events_shown": "1", "events": ["new_report"]}, status=422)
    assert 'id="language-error"' in refused.text and "en, cy, pl, ar" in refused.text
    assert refused.forms[1]["address"].value == "prefs.badlanguage@example.org"
    account = stored(world, me.account.id)
    assert (account.notify_language, account.notify_address, account.notify_events_off) == (None, None, [])


def test_the_api_reads_and_sets_the_language_and_names_a_wrong_one(world):
    me = world.staff("prefs.apilanguage")
    app, headers = world.testapp, api_login(world.testapp, me, world.clock)
    assert app.get("/api/v1/staff/notifications", headers=headers).json["language"] is None
    assert app.put_json("/api/v1/staff/notifications", {"language": "ar"}, headers=headers).json["language"] == "ar"
    assert stored(world, me.account.id).notify_language == "ar"
    for wrong in ("fr", 7, "AR", ["cy"]):
        problem = app.put_json("/api/v1/staff/notifications", {"language": wrong, "events": {REPORTER_FILE: False}},
                               headers=headers, status=422)
        assert [error["field"] for error in problem.json["errors"]] == ["language"], wrong
    account = stored(world, me.account.id)
    assert (account.notify_language, account.notify_events_off) == ("ar", []), "refusals changed nothing"
    assert app.put_json("/api/v1/staff/notifications", {"language": None}, headers=headers).json["language"] is None
    assert language_audited(world, me.account.id) == [{"account_id": me.account.id, "language": "ar"},
                                                      {"account_id": me.account.id, "language": None}]


def test_a_language_no_longer_shipped_reads_as_none_and_saving_leaves_it(world):
    """A language taken out of whistle since a guardian chose it: the page and the API say none
    (the notices go as the organisation sends them), and saving the page unchanged records nothing."""
    me = world.staff("prefs.oldlanguage")
    with world.session() as dbsession:
        dbsession.get(Account, me.account.id).notify_language = "fr"
    html_login(world.testapp, me, world.clock)
    form = world.testapp.get("/staff/notifications").forms[1]
    assert form["language"].value == ""
    form.submit()
    assert stored(world, me.account.id).notify_language == "fr" and language_audited(world, me.account.id) == []
    headers = api_login(world.testapp, me, world.clock)
    assert world.testapp.get("/api/v1/staff/notifications", headers=headers).json["language"] is None
