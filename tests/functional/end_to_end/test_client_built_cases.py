"""POST /api/v1/disclosures with "format": "e2e/1": a case built on the reporter's device, stored as
sent, every refusal changing nothing (docs/crypto.md 7.1)."""
from __future__ import annotations

import base64
import copy
import json

import pytest
from sqlalchemy import func, select, update

from tests.factories import (
    api_login,
    b64,
    bearer,
    build_client_case,
    send_client_case,
)
from tests.functional.plugins.conftest import plugin_app  # noqa: F401  (fixture)
from tests.plugins import e2e_triage_plugin
from whistle import crypto
from whistle.accounts.models import Account
from whistle.audit.models import AuditEvent
from whistle.cases.models import HOLDER_GUARDIAN, HOLDER_REPORTER, HOLDER_STANDBY, Case, CaseGrant, CaseItem
from whistle.hooks.types import Disclosure
from whistle.intake_channels.models import Channel
from whistle.sessions.models import REPORTER_E2E, LoginSession


def case_row(dbsession, ref: str) -> Case:
    return dbsession.scalars(select(Case).where(Case.ref == ref)).one()


def counts(dbsession) -> tuple[int, ...]:
    return tuple(dbsession.scalar(select(func.count()).select_from(table))
                 for table in (Case, CaseGrant, CaseItem, LoginSession, AuditEvent))


def actions(dbsession, case: Case) -> list[str]:
    return list(dbsession.scalars(select(AuditEvent.action).where(AuditEvent.case_id == case.id)
                                  .order_by(AuditEvent.seq)))


def test_a_case_built_on_the_client_is_stored_as_sent(testapp, dbsession, settings, clock, team):
    built = build_client_case(testapp, settings, clock, answers={"ongoing": "yes", "where": "Ward 7"},
                              identity={"name": "Sam Carter"}, identity_mode="confidential")
    answer = send_client_case(testapp, built)
    assert set(answer) == {"case", "token", "expires_in", "acknowledge_by"} and answer["case"] == built.ref

    case = case_row(dbsession, built.ref)
    assert answer["acknowledge_by"] == case.ack_due.isoformat()  # for the receipt the page shows
    assert (case.public_key, case.team_public_key) == (built.case_keys.public, built.team_keys.public)
    assert case.team_key_mac == crypto.team_key_mac(built.case_keys.private, built.team_keys.public)
    assert case.key_binding == crypto.case_key_binding(settings.session_key, built.ref, built.case_keys.public)
    assert case.reporter_lookup_id == crypto.lookup_id(built.reporter.lookup_value, settings.lookup_pepper)
    assert case.reporter_public_key == built.reporter.keypair.public
    grants = {(grant.holder, grant.account_id): grant for grant in case.grants}
    assert set(grants) == {(HOLDER_REPORTER, None), (HOLDER_GUARDIAN, team.first.account.id),
                           (HOLDER_GUARDIAN, team.colleague.account.id), (HOLDER_STANDBY, team.second.account.id)}
    reporter_grant = grants[(HOLDER_REPORTER, None)]
    assert reporter_grant.case_key_binding == base64.b64decode(built.body["reporter"]["case_key_binding"])
    assert reporter_grant.sealed_team_key is None
    assert all(grant.case_key_binding is None for key, grant in grants.items() if key[0] != HOLDER_REPORTER)
    sent = {item["kind"]: base64.b64decode(item["ciphertext"]) for item in built.body["items"]}
    assert {item.kind: item.ciphertext for item in case.items} == sent
    assert {(item.author, item.account_id, item.ciphertext[0]) for item in case.items} == {("reporter", None, 2)}
    assert actions(dbsession, case) == ["case.opened", "case.routed"]  # standby copies are news
    session = dbsession.scalars(select(LoginSession).where(LoginSession.kind == REPORTER_E2E)).one()
    assert session.case_id == case.id
    testapp.delete("/api/v1/reporter/session", headers=bearer(answer["token"]), status=204)


def test_the_guardian_reads_it_server_assisted_and_replies(testapp, dbsession, settings, clock, team):
    built = build_client_case(testapp, settings, clock, text="The night shift has one nurse for 40 beds.",
                              answers={"ongoing": "yes"}, identity={"name": "Sam Carter"},
                              identity_mode="confidential")
    send_client_case(testapp, built)
    staff = api_login(testapp, team.first, clock)
    read = testapp.get(f"/api/v1/cases/{built.ref}", headers=staff).json
    assert read["text"] == "The night shift has one nurse for 40 beds."
    assert read["answers"] == {"ongoing": "yes"} and read["identity"]["name"] == "Sam Carter"
    assert read["unverified"] == []
    reply = testapp.post_json(f"/api/v1/cases/{built.ref}/messages", {"text": "Thank you, we are on it."},
                              headers=staff, status=201).json
    item = dbsession.get(CaseItem, reply["id"])
    assert crypto.decrypt_item(built.case_keys, item.ciphertext, case=built.ref, kind="message",
                               author=f"guardian:{team.first.account.id}") == b"Thank you, we are on it."
    grant = dbsession.scalars(select(CaseGrant).where(CaseGrant.case_id == item.case_id,
                                                      CaseGrant.account_id == team.first.account.id)).one()
    assert grant.case_key_binding is not None, "the guardian's own binding, written on the first visit"


def test_leaving_out_the_first_tier_gives_it_to_the_second(testapp, dbsession, settings, clock, team):
    left_out = [team.first.account.id, team.colleague.account.id]
    built = build_client_case(testapp, settings, clock, left_out=left_out)
    send_client_case(testapp, built)
    case = case_row(dbsession, built.ref)
    assert {(g.holder, g.account_id) for g in case.grants} == {(HOLDER_REPORTER, None),
                                                               (HOLDER_GUARDIAN, team.second.account.id)}
    routed = dbsession.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id,
                                                        AuditEvent.action == "case.routed")).one()
    assert routed.detail == {"account_ids": [team.second.account.id], "tier": 2, "excluded": 2, "standby_ids": []}


def test_leaving_out_everyone_is_nobody_can_receive_and_keeps_nothing(testapp, dbsession, settings, clock, team):
    built = build_client_case(testapp, settings, clock, left_out=[team.first.account.id, team.colleague.account.id,
                                                                  team.second.account.id])
    before = counts(dbsession)
    refused = send_client_case(testapp, built, status=409)
    assert refused["type"] == "/api/v1/problems/nobody-can-receive"
    assert counts(dbsession) == before


def test_a_holder_no_longer_enabled_is_dropped(testapp, dbsession, settings, clock, team):
    built = build_client_case(testapp, settings, clock)
    dbsession.execute(update(Account).where(Account.id == team.first.account.id).values(disabled=True))
    send_client_case(testapp, built)
    holders = {g.account_id for g in case_row(dbsession, built.ref).grants if g.holder == HOLDER_GUARDIAN}
    assert holders == {team.colleague.account.id}


def test_the_only_holder_no_longer_enabled_is_nobody_can_receive(testapp, dbsession, settings, clock, team):
    built = build_client_case(testapp, settings, clock, left_out=[team.colleague.account.id])
    dbsession.execute(update(Account).where(Account.id == team.first.account.id).values(disabled=True))
    before = counts(dbsession)
    assert send_client_case(testapp, built, status=409)["type"] == "/api/v1/problems/nobody-can-receive"
    assert counts(dbsession) == before


def _drop_grant(body, holder):
    body["grants"] = [g for g in body["grants"] if g["holder"] != holder]


def _add(body, where, value):
    body[where].append(value)


def _shorten(text: str) -> str:
    return b64(base64.b64decode(text)[:-1])


REFUSALS = {
    "a grant missing": (lambda b, t: _drop_grant(b, "standby"), "grants"),
    "a grant too many": (lambda b, t: _add(b, "grants", dict(b["grants"][1])), "grants"),
    "a grant to someone else": (lambda b, t: b["grants"][1].update(account_id=t.second.account.id), "grants"),
    "a grant to escrow the directory has not": (
        lambda b, t: _add(b, "grants", {k: v for k, v in b["grants"][1].items() if k not in ("account_id", "holder")}
                          | {"holder": "escrow"}), "grants"),
    "a sealed key of the wrong size": (lambda b, t: b["grants"][1].update(sealed_case_key=_shorten(
        b["grants"][1]["sealed_case_key"])), "grants.1.sealed_case_key"),
    "a team key for the reporter": (
        lambda b, t: b["grants"][0].update(sealed_team_key=b["grants"][1]["sealed_team_key"]),
        "grants.0.sealed_team_key"),
    "a guardian grant without a team key": (lambda b, t: b["grants"][1].pop("sealed_team_key"),
                                            "grants.1.sealed_team_key"),
    "an unknown holder": (lambda b, t: b["grants"][1].update(holder="admin"), "grants.1.holder"),
    "a kind a reporter does not write": (lambda b, t: _add(b, "items", {"kind": "note",
                                                                        "ciphertext": b["items"][0]["ciphertext"]}),
                                         "items.1.kind"),
    "two disclosures": (lambda b, t: _add(b, "items", dict(b["items"][0])), "items"),
    "no disclosure": (lambda b, t: b.update(items=[]), "items"),
    "an identity on an anonymous report": (lambda b, t: _add(b, "items", {"kind": "identity",
                                                                          "ciphertext": b["items"][0]["ciphertext"]}),
                                           "items"),
    "no identity on a confidential report": (lambda b, t: b.update(identity_mode="confidential"), "items"),
    "a ciphertext of no item's length": (lambda b, t: b["items"][0].update(ciphertext=_shorten(
        b["items"][0]["ciphertext"])), "items.0.ciphertext"),
    "a ciphertext of another envelope type": (lambda b, t: b["items"][0].update(
        ciphertext=b64(b"\x02\x03" + base64.b64decode(b["items"][0]["ciphertext"])[2:])), "items.0.ciphertext"),
    "an item of version 1": (lambda b, t: b["items"][0].update(
        ciphertext=b64(b"\x01" + base64.b64decode(b["items"][0]["ciphertext"])[1:])), "items.0.ciphertext"),
    "a public key of the wrong size": (lambda b, t: b.update(case_public_key=b64(bytes(31))), "case_public_key"),
    "a lookup value that is not base64": (lambda b, t: b["reporter"].update(lookup_value="not base64"),
                                          "reporter.lookup_value"),
    "another format": (lambda b, t: b.update(format="e2e/2"), "format"),
    "a case reference not in the server's format": (lambda b, t: b.update(case="case-1"), "case"),
    "an unknown member": (lambda b, t: b.update(text="in the clear"), "text"),
    "left out someone the directory does not list": (lambda b, t: b.update(left_out=[10**6]), "left_out"),
    "an answer to a question that is not a routing question": (
        lambda b, t: b.update(routing_answers={"where": "Ward 7"}), "routing_answers.where"),
    "an identity mode the channel does not offer": (lambda b, t: b.update(identity_mode="shouted"), "identity_mode"),
}


@pytest.mark.parametrize("name", sorted(REFUSALS))
def test_each_refusal_names_the_field_and_keeps_nothing(testapp, dbsession, settings, clock, team, name):
    change, field = REFUSALS[name]
    built = build_client_case(testapp, settings, clock)
    body = copy.deepcopy(built.body)
    change(body, team)
    before = counts(dbsession)
    refused = testapp.post_json("/api/v1/disclosures", body, status=422).json
    assert [error["field"] for error in refused["errors"]] == [field], "that field, and only that one"
    assert counts(dbsession) == before


def test_a_stale_directory_version_is_a_conflict(testapp, dbsession, settings, clock, team):
    built = build_client_case(testapp, settings, clock)
    built.body["directory_version"] -= 1
    before = counts(dbsession)
    refused = send_client_case(testapp, built, status=409)
    assert refused["type"] == "/api/v1/problems/directory-changed"
    assert refused["directory_version"] == built.directory.version
    assert counts(dbsession) == before


def test_a_taken_case_reference_or_receipt_is_a_conflict(testapp, dbsession, settings, clock, team):
    first = build_client_case(testapp, settings, clock)
    send_client_case(testapp, first)
    before = counts(dbsession)
    same_ref = build_client_case(testapp, settings, clock, ref=first.ref)
    assert send_client_case(testapp, same_ref, status=409)["type"] == "/api/v1/problems/case-ref-taken"
    same_receipt = build_client_case(testapp, settings, clock, receipt=first.receipt)
    assert send_client_case(testapp, same_receipt, status=409)["type"] == "/api/v1/problems/receipt-taken"
    assert counts(dbsession) == before


def test_plaintext_hooks_see_the_routing_answers_only_and_the_second_tier_can_be_given_it(
        plugin_app, testapp, dbsession, settings, clock, team):
    channel = dbsession.scalars(select(Channel).where(Channel.slug == "staff")).one()
    channel.questionnaire = [dict(spec, routing=True) if spec["name"] == "ongoing" else spec
                             for spec in channel.questionnaire]
    dbsession.flush()
    e2e_triage_plugin.CALLS.clear()
    plugin = "tests.plugins.e2e_triage_plugin"
    app = plugin_app([plugin], plaintext=[plugin])
    built = build_client_case(app, settings, clock, text="Secret words.", answers={"where": "Ward 7"},
                              routing_answers={"ongoing": "yes"})
    send_client_case(app, built)
    assert e2e_triage_plugin.CALLS == [
        ("triage", Disclosure(channel="staff", text="", answers={"ongoing": "yes"}, identity=None)),
        ("opened", "high"),
    ], "no routing or exclusion by plugins: the reporter chose who reads it"
    case = case_row(dbsession, built.ref)
    assert case.priority == "high"
    holders = {g.account_id for g in case.grants if g.holder == HOLDER_GUARDIAN}
    assert team.second.account.id in holders, "the standby copy activated by the rule, with no key"


def test_a_case_at_the_text_limit_is_not_too_large_to_send(testapp, dbsession, settings, clock, team):
    """A disclosure and answers each at the text limit in 4-byte characters, padded, encrypted and
    in base64, are more than the plain JSON limit: the call takes what its items may hold."""
    longest = "\N{FACE SCREAMING IN FEAR}" * settings.max_text_chars
    built = build_client_case(testapp, settings, clock, text=longest)
    for item in built.body["items"]:
        if item["kind"] == "disclosure":
            answers = json.dumps({"where": longest[: settings.max_text_chars - 20]}, ensure_ascii=False)
            built.body["items"].append({"kind": "answers", "ciphertext": built.item("answers", answers)})
            break
    body = json.dumps(built.body).encode()
    assert len(body) > settings.max_json_bytes, "the test needs a body over the plain limit"
    answer = testapp.post("/api/v1/disclosures", body, content_type="application/json", status=201).json
    assert case_row(dbsession, answer["case"]).ref == built.ref
