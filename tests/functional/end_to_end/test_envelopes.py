"""The mailbox end to end: GET /api/v1/reporter/envelopes, POST /api/v1/reporter/messages {"item"}
and POST /api/v1/reporter/identity, with the whole journey built and read with whistle.crypto in
the test, as the reporter's device does."""
from __future__ import annotations

import base64
import json

import pytest
from sqlalchemy import func, select, update

from tests.factories import ClientCase, api_login, bearer, build_client_case, html_login, send_client_case
from tests.functional.reporters.helpers import come_back
from whistle import crypto
from whistle.audit.models import AuditEvent
from whistle.cases.models import Case, CaseItem
from whistle.intake_channels.models import Channel
from whistle.notifications.models import Notification

ENVELOPE_MEMBERS = {"case", "channel", "status", "status_text", "opened", "case_public_key", "team_public_key",
                    "team_key_mac", "sealed_case_key", "case_key_binding", "items", "attachments", "identity_given", "news",
                    # what the reporter said since (withdrawn, speak up again, the board): metadata
                    "withdrawn_on", "retention_withdrawn_days", "speak_up_asked", "speak_up_again", "board"}


@pytest.fixture
def sent(testapp, settings, clock, team) -> tuple[ClientCase, dict]:
    """A case built on the device, and the headers of the end-to-end session its answer carried."""
    built = build_client_case(testapp, settings, clock, text="The night shift has one nurse for 40 beds.",
                              answers={"ongoing": "yes", "where": "Ward 7"})
    return built, bearer(send_client_case(testapp, built)["token"])


def b64d(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def open_as_the_device(built: ClientCase, envelopes: dict) -> crypto.KeyPair:
    """What the reporter's device does before trusting anything: open its grant, check the case key
    against its own binding and the team key against the MAC."""
    case_private = crypto.unseal(built.reporter.keypair, b64d(envelopes["sealed_case_key"]))
    case_keys = crypto.KeyPair.from_private(case_private)
    crypto.check_case_key_binding(built.reporter.keypair.private, envelopes["case"], case_keys.public,
                                  b64d(envelopes["case_key_binding"]))
    assert case_keys.public == b64d(envelopes["case_public_key"])
    crypto.check_team_key_mac(case_private, b64d(envelopes["team_public_key"]), b64d(envelopes["team_key_mac"]))
    return case_keys


def read(case_keys, envelopes: dict, item: dict) -> bytes:
    return crypto.decrypt_item(case_keys, b64d(item["ciphertext"]), case=envelopes["case"], kind=item["kind"],
                               author=item["author"])


def test_the_whole_journey_built_and_read_on_the_device(testapp, dbsession, settings, clock, team, sent):
    built, reporter = sent
    staff = api_login(testapp, team.first, clock)
    testapp.post_json(f"/api/v1/cases/{built.ref}/messages", {"text": "Thank you, we are on it."}, headers=staff,
                      status=201)

    envelopes = testapp.get("/api/v1/reporter/envelopes", headers=reporter).json
    assert set(envelopes) == ENVELOPE_MEMBERS and envelopes["case"] == built.ref
    assert envelopes["channel"] == "staff"
    case_keys = open_as_the_device(built, envelopes)
    assert case_keys.public == built.case_keys.public
    plaintexts = {item["kind"]: read(case_keys, envelopes, item) for item in envelopes["items"]}
    assert plaintexts["disclosure"] == b"The night shift has one nurse for 40 beds."
    assert json.loads(plaintexts["answers"]) == {"ongoing": "yes", "where": "Ward 7"}
    reply = [item for item in envelopes["items"] if item["kind"] == "message"]
    assert [item["author"] for item in reply] == [f"guardian:{team.first.account.id}"]
    assert plaintexts["message"] == b"Thank you, we are on it."
    assert envelopes["news"]["new_messages"] == 1

    # The reporter writes back, encrypted on the device to the case key it derived.
    message = crypto.encrypt_item(case_keys.public, b"It happened again last night.", case=built.ref,
                                  kind="message", author="reporter")
    written = testapp.post_json("/api/v1/reporter/messages", {"item": base64.b64encode(message).decode()},
                                headers=reporter, status=201).json
    assert set(written) == {"id"}
    # And says who they are, to the team key it checked with the MAC.
    team_key = b64d(envelopes["team_public_key"])
    identity = crypto.encrypt_item(team_key, json.dumps({"name": "Sam Carter", "mode": "confidential"}).encode(),
                                   case=built.ref, kind="identity", author="reporter")
    testapp.post_json("/api/v1/reporter/identity", {"item": base64.b64encode(identity).decode(),
                                                    "identity_mode": "confidential"}, headers=reporter, status=201)

    case = testapp.get(f"/api/v1/cases/{built.ref}", headers=staff).json
    assert [m["text"] for m in case["messages"]] == ["Thank you, we are on it.", "It happened again last night."]
    assert case["identity"]["name"] == "Sam Carter" and case["unverified"] == []

    again = testapp.get("/api/v1/reporter/envelopes", headers=reporter).json
    assert again["identity_given"] is True and again["news"]["new_messages"] == 0, "seen on the last visit"
    assert "identity" not in {item["kind"] for item in again["items"]}, "never a team-key kind"


def test_a_version_2_receipt_reads_the_same_case_without_javascript(testapp, dbsession, settings, clock, team, sent):
    built, _ = sent
    staff = api_login(testapp, team.first, clock)
    testapp.post_json(f"/api/v1/cases/{built.ref}/messages", {"text": "Thank you."}, headers=staff, status=201)
    page = come_back(testapp, built.receipt)
    assert "The night shift has one nurse for 40 beds." in page.text and "Thank you." in page.text


def test_files_and_items_are_listed_as_the_reporter_may_read_them(testapp, dbsession, settings, clock, team, sent):
    built, reporter = sent
    staff = api_login(testapp, team.first, clock)
    path = f"/api/v1/cases/{built.ref}/attachments"
    shared = testapp.post(path, b"%PDF- rota", headers=dict(staff, **{"Content-Type": "application/pdf",
                                                                      "X-Filename": "rota.pdf"}), status=201).json
    testapp.post(path + "?internal=true", b"internal", headers=dict(staff, **{"Content-Type": "text/plain",
                                                                             "X-Filename": "notes.txt"}), status=201)
    testapp.post_json(f"/api/v1/cases/{built.ref}/notes", {"text": "Call HR."}, headers=staff, status=201)

    envelopes = testapp.get("/api/v1/reporter/envelopes", headers=reporter).json
    assert {item["kind"] for item in envelopes["items"]} == {"disclosure", "answers", "attachment-meta"}
    [attachment] = envelopes["attachments"]
    assert attachment["id"] == shared["id"] and attachment["author"] == f"guardian:{team.first.account.id}"
    meta = next(item for item in envelopes["items"] if item["id"] == attachment["meta_item"])
    case_keys = open_as_the_device(built, envelopes)
    assert json.loads(read(case_keys, envelopes, meta))["name"] == "rota.pdf"
    assert attachment["bytes"] > len(b"%PDF- rota")


def test_an_item_of_version_1_has_no_author(testapp, dbsession, team, sent):
    built, reporter = sent
    case = dbsession.scalars(select(Case).where(Case.ref == built.ref)).one()
    disclosure = next(item for item in case.items if item.kind == "disclosure")
    disclosure.ciphertext = b"\x01" + disclosure.ciphertext[1:]
    dbsession.flush()
    items = testapp.get("/api/v1/reporter/envelopes", headers=reporter).json["items"]
    assert next(item for item in items if item["id"] == disclosure.id) | {"ciphertext": ""} == {
        "id": disclosure.id, "kind": "disclosure", "version": 1, "author": None, "ciphertext": "",
        "at": case.opened_on.isoformat()}


def test_a_key_holding_session_reads_envelopes_and_writes_items_too(testapp, dbsession, settings, clock, team, sent):
    built, _ = sent
    holder = bearer(testapp.post_json("/api/v1/reporter/session", {"receipt": built.receipt}).json["token"])
    envelopes = testapp.get("/api/v1/reporter/envelopes", headers=holder).json
    assert envelopes["case"] == built.ref
    testapp.post_json("/api/v1/reporter/messages", {"item": built.item("message", "Also this.")}, headers=holder,
                      status=201)
    testapp.post_json("/api/v1/reporter/messages", {"text": "And this."}, headers=holder, status=201)


def test_a_message_item_tells_the_holders_as_a_message_does(testapp, dbsession, team, sent):
    built, reporter = sent
    before = dbsession.scalar(select(func.count()).select_from(Notification))
    testapp.post_json("/api/v1/reporter/messages", {"item": built.item("message", "Again.")}, headers=reporter,
                      status=201)
    assert dbsession.scalar(select(func.count()).select_from(Notification)) == before + 2  # first and colleague
    assert dbsession.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "reporter.message_sent")) == 1


def items(dbsession) -> int:
    return dbsession.scalar(select(func.count()).select_from(CaseItem))


@pytest.mark.parametrize(("body", "field"), [
    ({"item": "not base64"}, "item"),
    ({"item": base64.b64encode(b"\x02\x02" + bytes(300)).decode()}, "item"),
    ({"item": None}, "item"),
    ({"item": "AAAA", "text": "both"}, "text"),
])
def test_a_message_item_of_the_wrong_shape_is_refused_and_keeps_nothing(testapp, dbsession, sent, body, field):
    _, reporter = sent
    before = items(dbsession)
    refused = testapp.post_json("/api/v1/reporter/messages", body, headers=reporter, status=422).json
    assert [error["field"] for error in refused["errors"]] == [field]
    assert items(dbsession) == before


def test_a_message_item_too_long_is_refused(testapp, dbsession, settings, sent):
    built, reporter = sent
    too_long = built.item("message", "x" * (settings.max_text_chars * 4 + 256))
    refused = testapp.post_json("/api/v1/reporter/messages", {"item": too_long}, headers=reporter, status=422).json
    assert refused["errors"][0]["field"] == "item"


def identity_body(built: ClientCase, mode: str = "confidential") -> dict:
    return {"item": built.item("identity", json.dumps({"name": "Sam", "mode": mode}), team=True),
            "identity_mode": mode}


def test_an_identity_is_given_once(testapp, dbsession, sent):
    built, reporter = sent
    testapp.post_json("/api/v1/reporter/identity", identity_body(built), headers=reporter, status=201)
    before = items(dbsession)
    refused = testapp.post_json("/api/v1/reporter/identity", identity_body(built, "open"), headers=reporter,
                                status=409).json
    assert refused["type"] == "/api/v1/problems/identity-given"
    assert items(dbsession) == before


def test_an_identity_waits_for_a_case_without_a_team_key_mac(testapp, dbsession, sent):
    built, reporter = sent
    dbsession.execute(update(Case).where(Case.ref == built.ref).values(team_key_mac=None))
    dbsession.expire_all()
    before = items(dbsession)
    refused = testapp.post_json("/api/v1/reporter/identity", identity_body(built), headers=reporter, status=409).json
    assert refused["type"] == "/api/v1/problems/team-key-unchecked"
    assert items(dbsession) == before
    assert dbsession.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "reporter.identity_deferred")) == 1


@pytest.mark.parametrize(("change", "field"), [
    ({"identity_mode": "anonymous"}, "identity_mode"),
    ({"identity_mode": "shouted"}, "identity_mode"),
    ({"item": "AAAA"}, "item"),
    ({"extra": 1}, "extra"),
])
def test_an_identity_of_the_wrong_shape_is_refused(testapp, dbsession, sent, change, field):
    built, reporter = sent
    before = items(dbsession)
    refused = testapp.post_json("/api/v1/reporter/identity", identity_body(built) | change, headers=reporter,
                                status=422).json
    assert [error["field"] for error in refused["errors"]] == [field]
    assert items(dbsession) == before


def test_an_identity_on_a_channel_that_asks_for_none_is_refused(testapp, dbsession, sent):
    built, reporter = sent
    dbsession.execute(update(Channel).where(Channel.slug == "staff").values(identity_modes=["anonymous"]))
    dbsession.expire_all()
    refused = testapp.post_json("/api/v1/reporter/identity", identity_body(built), headers=reporter, status=422).json
    assert refused["errors"][0]["message"] == "This channel does not ask who reporters are."


def test_envelopes_and_items_need_a_reporter_session(testapp, team, sent):
    built, _ = sent
    testapp.get("/api/v1/reporter/envelopes", status=401)
    testapp.post_json("/api/v1/reporter/identity", identity_body(built), status=401)


def test_the_guardian_reads_it_in_the_workspace_and_the_device_reads_the_reply(testapp, dbsession, settings, clock,
                                                                                 team, sent):
    built, reporter = sent
    html_login(testapp, team.colleague, clock)
    page = testapp.get(f"/staff/cases/{built.ref}")
    assert "The night shift has one nurse for 40 beds." in page.text and "Ward 7" in page.text
    form = page.forms["reply-form"]
    form["text"] = "We have read it and will act today."
    form.submit().follow()
    envelopes = testapp.get("/api/v1/reporter/envelopes", headers=reporter).json
    case_keys = open_as_the_device(built, envelopes)
    [reply] = [item for item in envelopes["items"] if item["kind"] == "message"]
    assert reply["author"] == f"guardian:{team.colleague.account.id}"
    assert read(case_keys, envelopes, reply) == b"We have read it and will act today."
