"""The team key of a case built on the client is made by the reporter's client, so the first
guardian to unlock the case replaces it with one the reporter's side never held (docs/crypto.md
7.1): the new team private key sealed to every grant that held the old one (to the keys of the
current signed directory), every team-key item and internal file re-encrypted to it, the team
public key and its MAC replaced, `case.team_key_replaced` audited. Once, and never for a case the
server built."""
from __future__ import annotations

import base64
import json
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import delete, select

from tests.factories import (
    api_login,
    bearer,
    build_client_case,
    guardian_keypair,
    send_client_case,
    sign_directory,
    submit_api,
)
from whistle import crypto
from whistle.attachments.services import INTERNAL_STREAM_KIND
from whistle.audit.models import AuditEvent
from whistle.cases.models import (
    HOLDER_REPORTER,
    ITEM_IDENTITY,
    ITEM_NOTE,
    Attachment,
    Case,
    CaseGrant,
    CaseItem,
)
from whistle.cases.services import activate_standby
from whistle.key_directory.models import KeyDirectory

NOTE = "MARKER internal: we think the reporter is Sam from ward 7"
MINUTES = b"%PDF-1.4 strategy minutes " * 3000  # more than one stream chunk


def case_of(dbsession, ref: str) -> Case:
    dbsession.expire_all()
    return dbsession.scalars(select(Case).where(Case.ref == ref)).one()


def replaced_events(dbsession, case: Case) -> list[AuditEvent]:
    return list(dbsession.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id,
                                                           AuditEvent.action == "case.team_key_replaced")))


def opens(keys: crypto.KeyPair, item: CaseItem, ref: str) -> bool:
    author = item.author if item.account_id is None else f"{item.author}:{item.account_id}"
    try:
        crypto.decrypt_item(keys, item.ciphertext, case=ref, kind=item.kind, author=author)
    except crypto.DecryptionFailed:
        return False
    return True


def items_of(dbsession, case: Case, kind: str) -> list[CaseItem]:
    return list(dbsession.scalars(select(CaseItem).where(CaseItem.case_id == case.id, CaseItem.kind == kind)))


def test_the_reporters_client_cannot_read_the_guardians_internal_notes(testapp, dbsession, settings, clock, team):
    built = build_client_case(testapp, settings, clock)  # a client that kept the team key pair it made
    send_client_case(testapp, built)
    staff = api_login(testapp, team.first, clock)
    testapp.post_json(f"/api/v1/cases/{built.ref}/notes", {"text": NOTE}, headers=staff, status=201)
    case = dbsession.scalars(select(Case).where(Case.ref == built.ref)).one()
    note = dbsession.scalars(select(CaseItem).where(CaseItem.case_id == case.id, CaseItem.kind == ITEM_NOTE)).one()
    try:
        read = crypto.decrypt_item(built.team_keys, note.ciphertext, case=built.ref, kind=ITEM_NOTE,
                                   author=f"guardian:{team.first.account.id}")
    except crypto.DecryptionFailed:
        return
    raise AssertionError(f"the team key the reporter's client made opens the guardians' note: {read!r}")


def test_the_first_unlock_replaces_the_team_key_and_re_encrypts_the_identity(testapp, dbsession, settings, clock,
                                                                              team):
    built = build_client_case(testapp, settings, clock, identity={"name": "Sam Carter"},
                              identity_mode="confidential")
    send_client_case(testapp, built)
    case = case_of(dbsession, built.ref)
    assert case.built_on_client and not case.team_key_replaced
    reporter_grant = dbsession.scalars(select(CaseGrant).where(CaseGrant.case_id == case.id,
                                                               CaseGrant.holder == HOLDER_REPORTER)).one()
    sealed_for_reporter = reporter_grant.sealed_case_key

    staff = api_login(testapp, team.first, clock)
    read = testapp.get(f"/api/v1/cases/{built.ref}", headers=staff).json
    assert read["identity"]["name"] == "Sam Carter" and read["unverified"] == []

    case = case_of(dbsession, built.ref)
    assert case.team_key_replaced and case.team_public_key != built.team_keys.public
    assert case.public_key == built.case_keys.public, "the case key stays the reporter's"
    crypto.check_team_key_mac(built.case_keys.private, case.team_public_key, case.team_key_mac)
    identity = items_of(dbsession, case, ITEM_IDENTITY)[0]
    assert not opens(built.team_keys, identity, built.ref), "the identity is re-encrypted to the new key"
    [event] = replaced_events(dbsession, case)
    assert event.actor == f"account:{team.first.account.id}"
    assert event.detail == {"withheld_ids": [], "escrow_withheld": False}, "no content, no item ids"
    # Every grant that held a team key holds the new one, sealed to the key the directory lists.
    grants = dbsession.scalars(select(CaseGrant).where(CaseGrant.case_id == case.id)).all()
    for staff_member in (team.first, team.colleague, team.second):
        keypair = guardian_keypair(staff_member.account, staff_member.password)
        [grant] = [g for g in grants if g.account_id == staff_member.account.id]
        assert crypto.KeyPair.from_private(crypto.unseal(keypair, grant.sealed_team_key)).public == \
            case.team_public_key
    assert [g.sealed_case_key for g in grants if g.holder == HOLDER_REPORTER] == [sealed_for_reporter]

    # The note the guardian writes now is to the new key: the old one does not open it.
    testapp.post_json(f"/api/v1/cases/{built.ref}/notes", {"text": NOTE}, headers=staff, status=201)
    [note] = items_of(dbsession, case_of(dbsession, built.ref), ITEM_NOTE)
    assert not opens(built.team_keys, note, built.ref)


def test_a_second_unlock_does_not_replace_it_again(testapp, dbsession, settings, clock, team):
    built = build_client_case(testapp, settings, clock)
    send_client_case(testapp, built)
    testapp.get(f"/api/v1/cases/{built.ref}", headers=api_login(testapp, team.first, clock))
    first_key = case_of(dbsession, built.ref).team_public_key
    testapp.get(f"/api/v1/cases/{built.ref}", headers=api_login(testapp, team.colleague, clock))
    testapp.get(f"/api/v1/cases/{built.ref}", headers=api_login(testapp, team.first, clock))
    case = case_of(dbsession, built.ref)
    assert case.team_public_key == first_key
    assert len(replaced_events(dbsession, case)) == 1


def test_the_colleague_and_an_activated_standby_guardian_read_the_identity_and_notes(testapp, dbsession, settings,
                                                                                      clock, team):
    built = build_client_case(testapp, settings, clock, identity={"name": "Sam Carter"},
                              identity_mode="confidential")
    send_client_case(testapp, built)
    first = api_login(testapp, team.first, clock)
    testapp.post_json(f"/api/v1/cases/{built.ref}/notes", {"text": NOTE}, headers=first, status=201)
    activate_standby(dbsession, case_of(dbsession, built.ref), [team.second.account.id], clock.today())
    dbsession.flush()
    for staff_member in (team.colleague, team.second):
        read = testapp.get(f"/api/v1/cases/{built.ref}", headers=api_login(testapp, staff_member, clock)).json
        assert read["identity"]["name"] == "Sam Carter"
        assert [note["text"] for note in read["notes"]] == [NOTE] and read["unverified"] == []


def test_an_identity_given_after_the_replacement_is_sealed_to_the_new_key(testapp, dbsession, settings, clock, team):
    built = build_client_case(testapp, settings, clock)
    reporter = bearer(send_client_case(testapp, built)["token"])
    staff = api_login(testapp, team.first, clock)
    testapp.get(f"/api/v1/cases/{built.ref}", headers=staff)

    envelopes = testapp.get("/api/v1/reporter/envelopes", headers=reporter).json
    case_private = crypto.unseal(built.reporter.keypair, base64.b64decode(envelopes["sealed_case_key"]))
    assert case_private == built.case_keys.private, "the reporter's case key is unchanged"
    team_key = base64.b64decode(envelopes["team_public_key"])
    assert team_key != built.team_keys.public
    # What the reporter's device does before sealing an identity: check the new key by the new MAC.
    crypto.check_team_key_mac(case_private, team_key, base64.b64decode(envelopes["team_key_mac"]))
    identity = crypto.encrypt_item(team_key, json.dumps({"name": "Sam Carter", "mode": "confidential"}).encode(),
                                   case=built.ref, kind="identity", author="reporter")
    testapp.post_json("/api/v1/reporter/identity", {"item": base64.b64encode(identity).decode(),
                                                    "identity_mode": "confidential"}, headers=reporter, status=201)
    read = testapp.get(f"/api/v1/cases/{built.ref}", headers=staff).json
    assert read["identity"]["name"] == "Sam Carter" and read["unverified"] == []
    assert len(replaced_events(dbsession, case_of(dbsession, built.ref))) == 1


def test_a_guardian_the_directory_no_longer_lists_loses_the_team_key_copy(testapp, dbsession, settings, clock, team):
    built = build_client_case(testapp, settings, clock)
    send_client_case(testapp, built)
    team.colleague.account.disabled = True
    sign_directory(dbsession, settings, clock)  # a directory without the colleague
    testapp.get(f"/api/v1/cases/{built.ref}", headers=api_login(testapp, team.first, clock))
    case = case_of(dbsession, built.ref)
    grant = dbsession.scalars(select(CaseGrant).where(CaseGrant.case_id == case.id,
                                                      CaseGrant.account_id == team.colleague.account.id)).one()
    assert grant.sealed_team_key is None and grant.sealed_case_key is not None
    [event] = replaced_events(dbsession, case)
    assert event.detail["withheld_ids"] == [team.colleague.account.id]


def test_without_a_usable_directory_it_waits_and_later_re_encrypts_notes_and_internal_files(
        testapp, dbsession, settings, clock, team):
    built = build_client_case(testapp, settings, clock)
    send_client_case(testapp, built)
    dbsession.execute(delete(KeyDirectory))
    staff = api_login(testapp, team.first, clock)
    testapp.post_json(f"/api/v1/cases/{built.ref}/notes", {"text": NOTE}, headers=staff, status=201)
    uploaded = testapp.post(f"/api/v1/cases/{built.ref}/attachments?internal=true", MINUTES, status=201, headers=dict(
        staff, **{"Content-Type": "application/pdf", "X-Filename": quote("Strategy minutes.pdf")})).json
    case = case_of(dbsession, built.ref)
    assert not case.team_key_replaced and not replaced_events(dbsession, case)
    old_blob = dbsession.get(Attachment, uploaded["id"]).blob_name

    sign_directory(dbsession, settings, clock)
    read = testapp.get(f"/api/v1/cases/{built.ref}", headers=staff).json
    assert [note["text"] for note in read["notes"]] == [NOTE] and read["unverified"] == []
    case = case_of(dbsession, built.ref)
    assert case.team_key_replaced
    [note] = items_of(dbsession, case, ITEM_NOTE)
    assert not opens(built.team_keys, note, built.ref)
    attachment = dbsession.get(Attachment, uploaded["id"])
    assert attachment.blob_name != old_blob
    blob = Path(settings.storage_dir) / attachment.blob_name
    with blob.open("rb") as source, pytest.raises(crypto.DecryptionFailed):
        b"".join(crypto.decrypt_stream(built.team_keys, source, case=built.ref, kind=INTERNAL_STREAM_KIND,
                                       author=f"guardian:{team.first.account.id}"))
    assert testapp.get(f"/api/v1/cases/{built.ref}/attachments/{uploaded['id']}", headers=staff).body == MINUTES


def test_nothing_happens_for_a_case_the_server_built(testapp, dbsession, settings, clock, team):
    sent = submit_api(testapp, identity_mode="confidential", identity={"name": "Sam Carter"})
    case = case_of(dbsession, sent["case"])
    before = case.team_public_key
    assert not case.built_on_client
    read = testapp.get(f"/api/v1/cases/{sent['case']}", headers=api_login(testapp, team.first, clock)).json
    assert read["identity"]["name"] == "Sam Carter"
    case = case_of(dbsession, sent["case"])
    assert case.team_public_key == before and not case.team_key_replaced
    assert not replaced_events(dbsession, case)
