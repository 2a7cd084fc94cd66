"""A channel that no enabled guardian attends takes no report: its form, the API, the home page."""
from __future__ import annotations

import jsonschema
import pytest
from sqlalchemy import event, func, select
from webtest import Upload

from tests.factories import make_channel, make_live_channel, make_staff, sign_directory
from whistle.cases.models import Attachment, Case
from whistle.intake_channels.models import TIER_SECOND, ChannelGuardian
from whistle.intake_channels.services import unattended_channels, why_unattended

TEXT = "My key worker shouts at me when nobody else is there."
HELP_NOW = {"title": "Need help now?", "lines": [{"text": "Call Childline on 0800 1111.", "link": "tel:08001111"}]}


def cases(dbsession) -> int:
    return dbsession.scalar(select(func.count()).select_from(Case))


@pytest.fixture
def unattended(dbsession):
    return make_channel(dbsession, "youth", title="Young people's voice")


@pytest.fixture
def live(dbsession, settings, clock):
    return make_live_channel(dbsession, settings, clock, "staff", title="Raise a concern")


def schema_of(testapp, name: str) -> dict:
    document = testapp.get("/api/v1/openapi.json").json
    return {"$ref": f"#/components/schemas/{name}", "components": document["components"]}


def test_the_form_of_a_channel_nobody_attends_says_so_and_points_to_the_live_ones(testapp, unattended, live):
    page = testapp.get("/report/youth", status=200)
    assert "This way of reporting is not open right now" in page.text
    assert not page.forms, "no form to fill in for nobody"
    assert page.html.find("a", string="Raise a concern")["href"] == "/report/staff"
    assert "guardian" not in page.text.lower(), "why it is closed is for the admin, not the reporter"


def test_the_home_page_links_only_to_live_channels(testapp, unattended, live):
    home = testapp.get("/")
    assert home.html.find("a", string="Raise a concern")["href"] == "/report/staff"
    assert home.html.find("a", string="Young people's voice") is None
    assert "Not open right now" in home.text and "Young people&#39;s voice" in home.text


def test_a_form_sent_after_the_last_guardian_went_stores_nothing_and_gives_the_words_back(
        testapp, dbsession, settings, clock, live):
    form = testapp.get("/report/staff").forms[0]
    form["text"] = TEXT
    form["answers.where"] = "The back office"
    form["answers.ongoing"] = "yes"
    form["attachments"] = [Upload("rota.txt", b"the night rota", "text/plain")]
    keeper = live.memberships[0].account
    keeper.disabled = True  # while the reporter was typing
    dbsession.flush()
    page = form.submit(status=409)
    assert cases(dbsession) == 0
    assert "This way of reporting is not open right now" in page.text
    typed = page.html.find("textarea", id="typed").text
    assert TEXT in typed and "Where did it happen?: The back office" in typed
    assert "Nothing you wrote has been sent or kept" in page.text
    assert "Any files you chose were not sent" in page.text
    assert dbsession.scalar(select(func.count()).select_from(Attachment)) == 0

    keeper.disabled = False
    dbsession.flush()
    form = testapp.get("/report/staff").forms[0]
    form["text"] = TEXT
    form["answers.ongoing"] = "yes"
    assert "shown only this once" in form.submit(status=303).follow().text
    assert cases(dbsession) == 1


def test_the_api_refuses_a_disclosure_with_a_problem_until_a_guardian_is_added(
        testapp, dbsession, settings, clock, unattended):
    body = {"channel": "youth", "text": TEXT, "answers": {"ongoing": "yes"}}
    refused = testapp.post_json("/api/v1/disclosures", body, status=409)
    assert refused.content_type == "application/problem+json"
    problem = refused.json
    assert problem["type"] == "/api/v1/problems/channel-not-live"
    assert problem["channel"] == "youth" and "not taking reports" in problem["detail"]
    jsonschema.validate(problem, schema_of(testapp, "ChannelNotLive"))
    assert cases(dbsession) == 0

    make_staff(dbsession, settings, clock, "yp.guardian", channels=["youth"])
    assert testapp.post_json("/api/v1/disclosures", body, status=201).json["case"]
    assert cases(dbsession) == 1


def test_every_guardian_disabled_is_its_own_reason(testapp, dbsession, settings, clock, unattended):
    first = make_staff(dbsession, settings, clock, "yp.first", channels=["youth"]).account
    second = make_staff(dbsession, settings, clock, "yp.second").account
    dbsession.add(ChannelGuardian(channel_id=unattended.id, account_id=second.id, tier=TIER_SECOND))
    sign_directory(dbsession, settings, clock)
    first.disabled = True
    dbsession.flush()
    assert why_unattended(dbsession, unattended) is None, "the second tier alone keeps it live"
    second.disabled = True
    dbsession.flush()
    assert why_unattended(dbsession, unattended) == "every guardian of it is disabled"
    assert unattended_channels(dbsession) == [(unattended, "guardians_disabled")]
    first.is_guardian = False
    dbsession.flush()
    assert why_unattended(dbsession, unattended) == "its guardians are disabled or no longer have the guardian role"
    second.is_guardian = False
    dbsession.flush()
    assert why_unattended(dbsession, unattended) == "its members no longer have the guardian role"
    assert cases(dbsession) == 0


def test_the_channel_list_says_which_channels_accept_reports(testapp, dbsession, unattended, live):
    listed = testapp.get("/api/v1/channels").json
    jsonschema.validate(listed["channels"][0], schema_of(testapp, "Channel"))
    assert {c["slug"]: c["accepting_reports"] for c in listed["channels"]} == {"youth": False, "staff": True}


def test_listing_the_unattended_channels_takes_two_queries_however_many_there_are(dbsession, settings, clock):
    for number in range(6):
        make_channel(dbsession, f"empty-{number}")
        make_live_channel(dbsession, settings, clock, f"live-{number}")
    statements = []
    listen = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(dbsession.bind, "before_cursor_execute", listen)
    try:
        found = unattended_channels(dbsession)
    finally:
        event.remove(dbsession.bind, "before_cursor_execute", listen)
    assert sorted(channel.slug for channel, _ in found) == [f"empty-{n}" for n in range(6)]
    assert {reason for _, reason in found} == {"no_guardians"}
    assert len(statements) == 2


def test_the_public_api_does_not_say_why_a_channel_is_closed_in_staff_terms(testapp, dbsession, settings, clock):
    """That the only safeguarding lead was suspended is not the business of anyone who calls the
    public API; the admin overview says why (unattended_channels, with its reason)."""
    make_channel(dbsession, "youth")
    lead = make_staff(dbsession, settings, clock, "only.lead", channels=["youth"])
    lead.account.disabled = True  # suspended, say
    dbsession.flush()

    problem = testapp.post_json("/api/v1/disclosures", {"channel": "youth", "text": TEXT,
                                                        "answers": {"ongoing": "yes"}}, status=409).json
    assert "reason" not in problem
    said = " ".join(str(value) for value in problem.values()).lower()
    assert "disabled" not in said and "guardian" not in said, f"told to an anonymous caller: {problem}"


def test_a_closed_young_peoples_channel_keeps_its_quick_exit_and_help_panel(testapp, dbsession):
    make_channel(dbsession, "youth", title="Young voices", wording={"plain": True}, help_now=HELP_NOW,
                 quick_exit_url="https://www.bbc.co.uk/weather", reporters_are_staff=False)

    page = testapp.get("/report/youth")
    assert "not open right now" in page.text
    assert page.html.select_one(".quick-exit-link") is not None, "no quick exit on this page of the channel"
    assert page.html.select_one("aside.help-now") is not None, "no help panel on this page of the channel"


def test_a_channel_set_inactive_while_someone_writes_gives_their_words_back(testapp, dbsession, settings, clock):
    channel = make_channel(dbsession, "staff")
    make_staff(dbsession, settings, clock, "staff.keeper", channels=["staff"])
    form = testapp.get("/report/staff").forms[0]
    form["text"] = TEXT
    form["answers.ongoing"] = "yes"
    channel.active = False  # `channels load` with the channel marked inactive, while they typed
    dbsession.flush()

    page = form.submit(status=409)
    assert "not open right now" in page.text
    assert TEXT in page.html.find("textarea", id="typed").get_text()
    assert cases(dbsession) == 0

