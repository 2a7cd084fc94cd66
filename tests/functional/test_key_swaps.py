"""The review's swap attacks: someone who can write to the database replaces a public key with one of
their own, then waits for the next message, file or disclosure. Nothing may be encrypted to their
key: every new item, blob and grant is tried with the attacker's private key, and none opens.
"""
from __future__ import annotations

from urllib.parse import quote

import pytest
from sqlalchemy import func, select, update
from webtest import Upload

from tests.factories import api_login, html_login, make_channel, make_staff, submit_api
from tests.functional.reporters.helpers import come_back
from whistle import crypto
from whistle.accounts.models import Account
from whistle.attachments.services import open_blob
from whistle.audit.models import AuditEvent
from whistle.cases.models import TEAM_KEY_ITEMS, Attachment, Case, CaseGrant, CaseItem
from whistle.cases.services import sealed_author
from whistle.key_directory.services import unattended_channels

ATTACKER = crypto.KeyPair.generate()
MARKER = "the attacker must never read this"


def case_row(dbsession, ref: str) -> Case:
    case = dbsession.scalars(select(Case).where(Case.ref == ref)).one()
    dbsession.refresh(case)
    return case


def swap_case_key(dbsession, ref: str, column=Case.public_key) -> None:
    """What a database writer does: a plain UPDATE, no application code involved."""
    dbsession.execute(update(Case).where(Case.ref == ref).values({column: ATTACKER.public}))
    dbsession.expire_all()


def counts(dbsession) -> tuple[int, int]:
    return (dbsession.scalar(select(func.count()).select_from(CaseItem)),
            dbsession.scalar(select(func.count()).select_from(Attachment)))


def attacker_reads_nothing(dbsession, store, ref: str) -> None:
    """Every item, blob and sealed key of the case, tried with the attacker's private key: none opens."""
    case = case_row(dbsession, ref)
    for item in dbsession.scalars(select(CaseItem).where(CaseItem.case_id == case.id)):
        with pytest.raises(crypto.DecryptionFailed):
            crypto.decrypt_item(ATTACKER, item.ciphertext, case=case.ref, kind=item.kind,
                                author=sealed_author(item.author, item.account_id))
    for attachment in dbsession.scalars(select(Attachment).where(Attachment.case_id == case.id)):
        meta = dbsession.get(CaseItem, attachment.meta_item_id)
        kind = "internal-attachment" if meta.kind in TEAM_KEY_ITEMS else "attachment"
        with open_blob(store, attachment) as source, pytest.raises(crypto.DecryptionFailed):
            next(crypto.decrypt_stream(ATTACKER, source, case=case.ref, kind=kind,
                                       author=sealed_author(meta.author, meta.account_id)))
    for grant in dbsession.scalars(select(CaseGrant).where(CaseGrant.case_id == case.id)):
        for sealed in (grant.sealed_case_key, grant.sealed_team_key):
            if sealed is not None:
                with pytest.raises(crypto.DecryptionFailed):
                    crypto.unseal(ATTACKER, sealed)


def key_mismatches(dbsession, case: Case) -> list[dict]:
    return [event.detail for event in dbsession.scalars(
        select(AuditEvent).where(AuditEvent.case_id == case.id, AuditEvent.action == "case.key_mismatch"))]


@pytest.fixture
def sent(testapp, dbsession, settings, clock):
    """A channel with a guardian, and a case on it: (guardian, {"receipt", "case"})."""
    make_channel(dbsession, "staff", title="Raise a concern")
    guardian = make_staff(dbsession, settings, clock, "guardian", channels=["staff"])
    return guardian, submit_api(testapp, text="The night shift is left with one nurse for 40 beds.")


def reporter_headers(testapp, receipt: str) -> dict:
    token = testapp.post_json("/api/v1/reporter/session", {"receipt": receipt}).json["token"]
    return {"Authorization": f"Bearer {token}"}


def test_a_swapped_case_key_gets_no_reporter_message_or_file_through_the_api(testapp, dbsession, sent):
    _, case = sent
    headers = reporter_headers(testapp, case["receipt"])
    swap_case_key(dbsession, case["case"])
    before = counts(dbsession)

    refused = testapp.post_json("/api/v1/reporter/messages", {"text": MARKER}, headers=headers, status=409)
    assert refused.json["type"] == "/api/v1/problems/key-mismatch" and "Nothing was sent" in refused.json["detail"]
    testapp.post("/api/v1/reporter/attachments", MARKER.encode(), status=409,
                 headers=dict(headers, **{"Content-Type": "text/plain", "X-Filename": quote("notes.txt")}))

    assert counts(dbsession) == before
    attacker_reads_nothing(dbsession, testapp.app.registry.blob_store, case["case"])
    assert key_mismatches(dbsession, case_row(dbsession, case["case"])) == [{"key": "case"}, {"key": "case"}]


def test_a_swapped_case_key_gets_no_reporter_message_or_file_through_the_form(testapp, dbsession, sent):
    _, case = sent
    page = come_back(testapp, case["receipt"])
    swap_case_key(dbsession, case["case"])
    before = counts(dbsession)

    form = page.forms["message-form"]
    form["text"] = MARKER
    form["files"] = [Upload("notes.txt", MARKER.encode(), "text/plain")]
    refused = form.submit(status=409)
    assert "Nothing was sent or saved" in refused.text and "<script" not in refused.text

    assert counts(dbsession) == before
    attacker_reads_nothing(dbsession, testapp.app.registry.blob_store, case["case"])
    assert key_mismatches(dbsession, case_row(dbsession, case["case"])) == [{"key": "case"}]


def test_a_swapped_case_key_gets_no_guardian_reply_or_file(testapp, dbsession, sent, clock):
    guardian, case = sent
    headers = api_login(testapp, guardian, clock)
    ref = case["case"]
    swap_case_key(dbsession, ref)
    before = counts(dbsession)

    assert testapp.post_json(f"/api/v1/cases/{ref}/messages", {"text": MARKER}, headers=headers,
                             status=409).json["type"] == "/api/v1/problems/key-mismatch"
    testapp.post(f"/api/v1/cases/{ref}/attachments", MARKER.encode(), status=409,
                 headers=dict(headers, **{"Content-Type": "text/plain", "X-Filename": "reply.txt"}))
    assert counts(dbsession) == before
    attacker_reads_nothing(dbsession, testapp.app.registry.blob_store, ref)
    assert key_mismatches(dbsession, case_row(dbsession, ref)) == [{"key": "case"}, {"key": "case"}]


def test_a_swapped_team_key_gets_no_note_internal_file_or_reason(testapp, dbsession, sent, clock):
    guardian, case = sent
    headers = api_login(testapp, guardian, clock)
    ref = case["case"]
    swap_case_key(dbsession, ref, Case.team_public_key)
    before = counts(dbsession)

    refused = [
        testapp.post_json(f"/api/v1/cases/{ref}/notes", {"text": MARKER}, headers=headers, status=409),
        testapp.post(f"/api/v1/cases/{ref}/attachments?internal=true", MARKER.encode(), status=409,
                     headers=dict(headers, **{"Content-Type": "text/plain", "X-Filename": "internal.txt"})),
        # A move with a reason: the reason is a team-key item.
        testapp.post_json(f"/api/v1/cases/{ref}/transitions", {"to": "acknowledged", "reason": MARKER},
                          headers=headers, status=409),
    ]
    assert {response.json["type"] for response in refused} == {"/api/v1/problems/key-mismatch"}

    assert counts(dbsession) == before
    assert case_row(dbsession, ref).status == "received", "a refused move changes nothing"
    attacker_reads_nothing(dbsession, testapp.app.registry.blob_store, ref)
    assert key_mismatches(dbsession, case_row(dbsession, ref)) == [{"key": "team"}] * 3


def test_a_swapped_team_key_gets_no_reporter_identity(testapp, dbsession, sent):
    _, case = sent
    page = come_back(testapp, case["receipt"])
    swap_case_key(dbsession, case["case"], Case.team_public_key)
    before = counts(dbsession)
    form = page.forms["identity-form"]
    form["identity_mode"] = "confidential"
    form["identity.name"] = MARKER
    assert "Nothing was sent or saved" in form.submit(status=409).text
    assert counts(dbsession) == before
    attacker_reads_nothing(dbsession, testapp.app.registry.blob_store, case["case"])


def test_a_swapped_guardian_key_gets_no_grant_and_the_overview_reports_the_swap(testapp, dbsession, settings, clock):
    make_channel(dbsession, "staff", title="Raise a concern")
    swapped = make_staff(dbsession, settings, clock, "swapped", channels=["staff"])
    make_staff(dbsession, settings, clock, "intact", channels=["staff"])
    admin = make_staff(dbsession, settings, clock, "admin", admin=True, guardian=False)
    dbsession.execute(update(Account).where(Account.id == swapped.account.id).values(public_key=ATTACKER.public))
    dbsession.expire_all()

    ref = submit_api(testapp, text=MARKER)["case"]

    grants = dbsession.scalars(select(CaseGrant).join(Case).where(Case.ref == ref)).all()
    assert swapped.account.id in {grant.account_id for grant in grants}, "sealed to the key the directory lists"
    attacker_reads_nothing(dbsession, testapp.app.registry.blob_store, ref)

    overview = testapp.get("/api/v1/admin/overview", headers=api_login(testapp, admin, clock)).json
    assert overview["key_directory"]["swapped"] == ["swapped"]
    assert any("this is what a key swap looks like" in sentence
               for sentence in overview["key_directory"]["differences"])
    page = html_login(testapp, admin, clock)
    assert page.request.path == "/admin"
    assert "This is what a key swap looks like" in page.text and "swapped" in page.text


def test_a_channel_whose_only_guardian_has_a_swapped_key_takes_no_reports(testapp, dbsession, settings, clock):
    channel = make_channel(dbsession, "staff", title="Raise a concern")
    only = make_staff(dbsession, settings, clock, "only", channels=["staff"])
    dbsession.execute(update(Account).where(Account.id == only.account.id).values(public_key=ATTACKER.public))
    dbsession.expire_all()
    refused = testapp.post_json("/api/v1/disclosures", {"channel": "staff", "text": MARKER}, status=409).json
    assert refused["type"] == "/api/v1/problems/channel-not-live" and "reason" not in refused  # for admins only
    assert dict(unattended_channels(dbsession, settings, clock))[channel] == "not_in_key_directory"
    assert dbsession.scalar(select(func.count()).select_from(Case)) == 0
