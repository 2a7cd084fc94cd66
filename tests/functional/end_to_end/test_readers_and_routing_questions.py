"""The report form without JavaScript: who will read the report, with a box to leave each out (an
exclusion, like a conflict of interest's), the routing questions marked as read by the service, and
a line saying where the report is encrypted; "left_out" on the plaintext JSON API too."""
from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.factories import build_client_case, make_staff, send_client_case, submit_api
from tests.functional.reporters.helpers import come_back, receipt_of
from whistle.audit.models import AuditEvent
from whistle.cases.models import HOLDER_GUARDIAN, Case, CaseGrant
from whistle.intake_channels.models import Channel
from whistle.intake_channels.services import ChannelConfigError, load_channels
from whistle.notifications.models import Notification

NO_JS_INTAKE = ("Encrypted by the service as soon as it arrives. Turn on JavaScript to have it encrypted on this "
                "device before it is sent.")


def holders(dbsession, ref: str) -> set[int]:
    case = dbsession.scalars(select(Case).where(Case.ref == ref)).one()
    return {g.account_id for g in case.grants if g.holder == HOLDER_GUARDIAN}


def cases(dbsession) -> int:
    return dbsession.scalar(select(func.count()).select_from(Case))


def test_the_form_lists_who_will_read_it_with_a_box_to_leave_each_out(testapp, team):
    page = testapp.get("/report/staff")
    readers = page.html.find(id="readers")
    assert readers.name == "fieldset"
    boxes = {box["value"]: box.parent.text.strip() for box in readers.find_all("input", attrs={"name": "left_out"})}
    assert boxes == {str(team.first.account.id): "Leave out first",
                     str(team.colleague.account.id): "Leave out colleague",
                     str(team.second.account.id): "Leave out second"}
    text = " ".join(readers.text.split())
    assert "Leave someone out if the report is about them or you do not want them to read it." in text
    assert text.index("colleague") < text.index("If none of them can") < text.index("second")
    assert page.html.find(id="encryption-mode").text.strip() == NO_JS_INTAKE
    assert page.html.find("form", id="disclosure-form") is not None


def test_leaving_someone_out_without_javascript_excludes_them(testapp, dbsession, team):
    form = testapp.get("/report/staff").forms["disclosure-form"]
    form["text"] = "My manager changes the rota to punish people."
    form["answers.ongoing"] = "yes"
    form.get("left_out", index=0).checked = True  # first
    page = form.submit().follow()
    case = dbsession.scalars(select(Case).order_by(Case.id.desc())).first()
    assert holders(dbsession, case.ref) == {team.colleague.account.id}
    routed = dbsession.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id,
                                                        AuditEvent.action == "case.routed")).one()
    assert routed.detail["excluded"] == 1
    told = set(dbsession.scalars(select(Notification.account_id)))
    assert team.first.account.id not in told
    assert receipt_of(page)


def test_leaving_everyone_out_gives_the_form_back_with_the_words_and_a_plain_error(testapp, dbsession, team):
    form = testapp.get("/report/staff").forms["disclosure-form"]
    form["text"] = "Words I must not lose."
    form["answers.ongoing"] = "no"
    for index in range(3):
        form.get("left_out", index=index).checked = True
    page = form.submit(status=422)
    assert cases(dbsession) == 0
    assert page.forms["disclosure-form"]["text"].value == "Words I must not lose."
    error = page.html.find(id="error-left_out").text
    assert "You left out everyone who could read your report" in error
    assert page.html.find("a", href="#field-left_out") is not None
    assert all(box.checked for box in page.forms["disclosure-form"].fields["left_out"])


def test_leaving_out_someone_not_on_the_list_is_refused(testapp, dbsession, team):
    form = testapp.get("/report/staff").forms["disclosure-form"]
    form["text"] = "Words."
    form["answers.ongoing"] = "no"
    form.get("left_out", index=0).force_value("999999")
    form.get("left_out", index=0).checked = True
    page = form.submit(status=422)
    assert page.html.find(id="error-left_out") is not None and cases(dbsession) == 0


def test_the_json_api_takes_left_out(testapp, dbsession, team):
    ref = submit_api(testapp, left_out=[team.first.account.id, team.colleague.account.id])["case"]
    assert holders(dbsession, ref) == {team.second.account.id}
    refused = testapp.post_json("/api/v1/disclosures", {"channel": "staff", "text": "x", "answers": {"ongoing": "yes"},
                                                        "left_out": [999999]}, status=422).json
    assert [e["field"] for e in refused["errors"]] == ["left_out"]
    testapp.post_json("/api/v1/disclosures", {"channel": "staff", "text": "x", "answers": {"ongoing": "yes"},
                                              "left_out": "first"}, status=422)
    # Nobody left: refused as any report nobody can receive is (the view dooms what was flushed).
    everyone = [team.first.account.id, team.colleague.account.id, team.second.account.id]
    assert testapp.post_json("/api/v1/disclosures", {"channel": "staff", "text": "x", "answers": {"ongoing": "yes"},
                                                     "left_out": everyone}, status=409).json["type"] \
        == "/api/v1/problems/nobody-can-receive"


def test_the_mailbox_page_says_the_service_decrypts_without_javascript(testapp, team):
    page = come_back(testapp, submit_api(testapp)["receipt"])
    line = page.html.find(id="encryption-mode")
    assert "mode-line" in line["class"] and "Turn on JavaScript" in line.text


# --- routing questions ---

def routing_channel(dbsession, settings, clock):
    spec = {"slug": "routed", "title": "Routed", "fields": [
        {"name": "danger", "label": "Is anyone in danger now?", "type": "yes_no", "required": True, "routing": True},
        {"name": "where", "label": "Where?", "type": "text"}]}
    load_channels(dbsession, [spec])
    make_staff(dbsession, settings, clock, "routed.keeper", channels=["routed"])  # makes it live
    return dbsession.scalars(select(Channel).where(Channel.slug == "routed")).one()


def test_a_routing_question_is_loaded_listed_and_marked_on_the_form(testapp, dbsession, settings, clock):
    routing_channel(dbsession, settings, clock)
    listed = {c["slug"]: c for c in testapp.get("/api/v1/channels").json["channels"]}["routed"]
    assert {f["name"]: f["routing"] for f in listed["fields"]} == {"danger": True, "where": False}
    page = testapp.get("/report/routed")
    danger = page.html.find(id="field-answers.danger")
    assert {box.get("data-routing") for box in danger.find_all("input")} == {"true"}
    assert "read by the service" in danger.find(class_="routing-note").text
    where = page.html.find(id="field-answers.where")
    assert where.find("input").get("data-routing") is None and where.find(class_="routing-note") is None


def test_routing_must_be_true_or_false(dbsession):
    with pytest.raises(ChannelConfigError, match="routing must be true or false"):
        load_channels(dbsession, [{"slug": "bad", "title": "Bad", "fields": [
            {"name": "danger", "label": "Danger?", "type": "yes_no", "routing": "yes"}]}])


def test_the_shipped_channels_mark_an_immediate_risk_question(dbsession):
    shipped = tomllib.loads((Path(__file__).parents[3] / "config" / "channels.toml").read_text())
    routing = [(channel["slug"], field["name"]) for channel in shipped["channel"]
               for field in channel.get("fields", []) if field.get("routing")]
    assert routing == [("young-peoples-voice", "happening_now")]


def test_routing_answers_of_a_client_built_case_are_checked_as_the_form_checks_them(testapp, dbsession, settings,
                                                                                     clock):
    routing_channel(dbsession, settings, clock)
    missing = build_client_case(testapp, settings, clock, "routed")
    refused = send_client_case(testapp, missing, status=422)
    assert [e["field"] for e in refused["errors"]] == ["routing_answers.danger"]
    wrong = build_client_case(testapp, settings, clock, "routed", routing_answers={"danger": "maybe"})
    assert [e["field"] for e in send_client_case(testapp, wrong, status=422)["errors"]] == ["routing_answers.danger"]
    fine = build_client_case(testapp, settings, clock, "routed", routing_answers={"danger": "yes"})
    send_client_case(testapp, fine)
    assert dbsession.scalar(select(func.count()).select_from(CaseGrant)) > 0
