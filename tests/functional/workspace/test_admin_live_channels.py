"""The admin area and channels nobody attends: the overview names them and why, and a change that
would stop a channel taking reports (or leave cases unreadable) is confirmed before it is made."""
from __future__ import annotations

import jsonschema
from sqlalchemy import select

from tests.factories import api_login, html_login, make_channel, make_staff, submit_api
from tests.functional.workspace.conftest import events
from whistle.accounts.models import Account
from whistle.intake_channels.models import ChannelGuardian


def response_schema(testapp, path: str, method: str, status: str) -> dict:
    document = testapp.get("/api/v1/openapi.json").json
    content = document["paths"][path][method]["responses"][status]["content"]
    schema = next(iter(content.values()))["schema"]
    return {**schema, "components": document["components"]}


def test_the_overview_names_each_channel_nobody_attends_and_why(testapp, dbsession, settings, clock, admin, guardian):
    make_channel(dbsession, "youth", title="Young people's voice")
    make_channel(dbsession, "ideas", title="Ideas for improvement")
    gone = make_staff(dbsession, settings, clock, "ideas.guardian", channels=["ideas"]).account
    gone.disabled = True
    dbsession.flush()

    overview = testapp.get("/api/v1/admin/overview", headers=api_login(testapp, admin, clock)).json
    jsonschema.validate(overview, response_schema(testapp, "/api/v1/admin/overview", "get", "200"))
    assert overview["unattended_channels"] == [
        {"channel": "ideas", "title": "Ideas for improvement", "reason": "guardians_disabled",
         "explanation": "every guardian of it is disabled"},
        {"channel": "youth", "title": "Young people's voice", "reason": "no_guardians",
         "explanation": "no guardian is assigned to it"}]

    html_login(testapp, admin, clock)
    page = testapp.get("/admin")
    section = page.html.find("h2", string="Channels not taking reports").find_next("table").text
    assert "Young people's voice" in section and "No guardian is assigned to it." in section
    assert "Ideas for improvement" in section and "Every guardian of it is disabled." in section
    assert "Raise a concern" not in section, "its guardian is enabled"
    states = {row.find("th").text: row.find_all("td")[1].text
              for row in testapp.get("/admin/channels").html.find("tbody").find_all("tr")}
    assert states == {"Raise a concern": "Taking reports",
                      "Young people's voice": "Not taking reports: no guardian is assigned to it",
                      "Ideas for improvement": "Not taking reports: every guardian of it is disabled"}
    listed = testapp.get("/api/v1/admin/channels", headers=api_login(testapp, admin, clock)).json["channels"]
    assert {c["slug"]: c["accepting_reports"] for c in listed} == {"staff": True, "youth": False, "ideas": False}


def test_disabling_the_last_guardian_asks_first_and_says_what_it_will_do(testapp, dbsession, admin, guardian,
                                                                         submitted, clock):
    html_login(testapp, admin, clock)
    form = testapp.get(f"/admin/guardians/{guardian.account.id}").forms[1]
    form["disabled"] = True
    asked = form.submit(status=200)
    warning = asked.html.find(id="confirm").text
    assert "This channel will stop taking reports, because nobody else attends it: “Raise a concern”." in warning
    assert "1 open case that only guardian holds will become unreadable" in warning
    assert "Nothing has changed yet" in warning
    dbsession.refresh(guardian.account)
    assert not guardian.account.disabled and not events(dbsession, "account.disabled")
    confirm = asked.forms[1]
    assert confirm.fields["disabled"][0].checked, "the page keeps what the admin chose"

    confirm["admin"] = True  # not the change that was confirmed: asked again, still nothing done
    again = confirm.submit(status=200)
    assert again.html.find(id="confirm") is not None
    dbsession.refresh(guardian.account)
    assert not guardian.account.disabled and not guardian.account.is_admin

    button = again.html.find("button", string="Yes, disable")
    assert button is not None
    again.forms[1].submit(status=302)
    dbsession.refresh(guardian.account)
    assert guardian.account.disabled and guardian.account.is_admin
    assert events(dbsession, "account.disabled")


def test_taking_the_last_guardian_off_a_channel_or_their_role_asks_too_and_not_when_another_is_there(
        testapp, dbsession, settings, clock, admin, guardian, submitted):
    html_login(testapp, admin, clock)
    form = testapp.get(f"/admin/guardians/{guardian.account.id}").forms[1]
    form["channels"] = []
    asked = form.submit(status=200)
    assert "will stop taking reports" in asked.text and "unreadable" not in asked.text, "they keep their cases"
    assert asked.html.find("button", string="Yes, take them off those channels")
    assert dbsession.scalars(select(ChannelGuardian).where(ChannelGuardian.account_id == guardian.account.id)).all()

    form = testapp.get(f"/admin/guardians/{guardian.account.id}").forms[1]
    form["guardian"] = False
    form["admin"] = True
    asked = form.submit(status=200)
    assert asked.html.find("button", string="Yes, remove the guardian role")
    assert "1 open case that only guardian holds will become unreadable" in asked.text
    dbsession.refresh(guardian.account)
    assert guardian.account.is_guardian

    # With a second guardian on the channel holding the case too, nothing is left behind: no question.
    make_staff(dbsession, settings, clock, "second", channels=["staff"])
    headers = api_login(testapp, guardian, clock)
    testapp.post_json(f"/api/v1/cases/{submitted['case']}/grants", {"guardian": "second"}, headers=headers, status=201)
    form = testapp.get(f"/admin/guardians/{guardian.account.id}").forms[1]
    form["disabled"] = True
    form.submit(status=302)
    dbsession.refresh(guardian.account)
    assert guardian.account.disabled


def test_the_api_answers_409_naming_the_channels_until_the_change_is_confirmed(testapp, dbsession, admin, guardian,
                                                                               submitted, clock):
    headers = api_login(testapp, admin, clock)
    path = f"/api/v1/admin/accounts/{guardian.account.id}"
    refused = testapp.patch_json(path, {"disabled": True}, headers=headers, status=409)
    problem = refused.json
    assert refused.content_type == "application/problem+json"
    assert problem["type"] == "/api/v1/problems/confirmation-needed"
    assert problem["channels"] == ["staff"] and problem["sole_cases"] == 1
    assert "“Raise a concern”" in problem["detail"] and '"confirm": true' in problem["detail"]
    jsonschema.validate(problem, response_schema(testapp, "/api/v1/admin/accounts/{id}", "patch", "409"))
    assert not dbsession.get(Account, guardian.account.id).disabled

    done = testapp.patch_json(path, {"disabled": True, "confirm": True}, headers=headers, status=200).json
    assert done["disabled"] is True
    overview = testapp.get("/api/v1/admin/overview", headers=headers).json
    assert [row["channel"] for row in overview["unattended_channels"]] == ["staff"]
    assert overview["unassigned_by_channel"] == [
        {"channel": "staff", "title": "Raise a concern", "reason": "holders_disabled", "cases": 1,
         "explanation": "every guardian who held them is disabled or no longer has the guardian role; "
                        "re-enabling one of them makes them readable again"}]
    assert testapp.post_json("/api/v1/disclosures", {"channel": "staff", "text": "x", "answers": {"ongoing": "yes"}},
                             status=409)
