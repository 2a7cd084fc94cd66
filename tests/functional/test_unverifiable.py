"""A tampered item or attachment is shown as "could not be verified", the rest of the case stays
readable, and the audit log records it; who wrote an item is sealed into its encryption.

Each test plays a database writer: it changes stored rows directly, as someone with write access
to the database (but no keys) could.
"""
from __future__ import annotations

import re
from datetime import time
from urllib.parse import quote

import pytest
from nacl import bindings
from sqlalchemy import select
from webtest import TestApp

from tests.factories import api_login, holder_keys, html_login, make_channel, make_staff, submit_api
from tests.functional.reporters.helpers import come_back
from whistle import crypto
from whistle.audit.models import AuditEvent
from whistle.cases.models import Attachment, Case, CaseItem


@pytest.fixture
def guardian(dbsession, settings, clock):
    make_channel(dbsession)
    return make_staff(dbsession, settings, clock, channels=["staff"])


@pytest.fixture
def sent(testapp, guardian):
    return submit_api(testapp, text="The fire doors on ward 7 are chained shut.",
                      identity={"name": "Sam Carter"}, identity_mode="confidential")


@pytest.fixture
def staff(testapp, guardian, clock):
    return api_login(testapp, guardian, clock)


@pytest.fixture
def reporter(testapp, sent):
    token = testapp.post_json("/api/v1/reporter/session", {"receipt": sent["receipt"]}).json["token"]
    return {"Authorization": f"Bearer {token}"}


def case_of(dbsession, sent) -> Case:
    return dbsession.scalars(select(Case).where(Case.ref == sent["case"])).one()


def item(dbsession, item_id: int) -> CaseItem:
    return dbsession.get(CaseItem, item_id)


def flip_a_byte(row: CaseItem) -> None:
    ciphertext = bytearray(row.ciphertext)
    ciphertext[-20] ^= 0x01
    row.ciphertext = bytes(ciphertext)


def browser(testapp) -> TestApp:
    """Another browser on the same app and transaction (a guardian's cookies would win over a reporter's)."""
    return TestApp(testapp.app, extra_environ=testapp.extra_environ)


def unverifiable_events(dbsession) -> list[AuditEvent]:
    return list(dbsession.scalars(select(AuditEvent).where(AuditEvent.action == "case.item_unverifiable")
                                  .order_by(AuditEvent.seq)))


def conversation(testapp, staff, sent, reporter) -> tuple[int, int]:
    """A message from the reporter, then a reply from the guardian: their item ids."""
    mine = testapp.post_json("/api/v1/reporter/messages", {"text": "They were chained again today."},
                             headers=reporter, status=201).json["id"]
    reply = testapp.post_json(f"/api/v1/cases/{sent['case']}/messages", {"text": "We have called the fire officer."},
                              headers=staff, status=201).json["id"]
    return mine, reply


# --- one tampered item, the rest readable -------------------------------------------------------

def test_a_tampered_message_is_marked_and_the_rest_of_the_case_reads(testapp, dbsession, guardian, clock, sent,
                                                                       staff, reporter):
    mine, reply = conversation(testapp, staff, sent, reporter)
    flip_a_byte(item(dbsession, mine))
    dbsession.flush()

    body = testapp.get(f"/api/v1/cases/{sent['case']}", headers=staff).json
    assert body["text"] == "The fire doors on ward 7 are chained shut."
    assert body["identity"]["name"] == "Sam Carter"
    assert body["messages"][0] == {"id": mine, "unverified": True, "kind": "message", "at": clock.today().isoformat()}
    assert body["messages"][1]["text"] == "We have called the fire officer."
    assert body["unverified"] == [{"id": mine, "unverified": True, "kind": "message"}]

    [event] = unverifiable_events(dbsession)
    assert (event.actor, event.case_id, event.detail) == ("system", case_of(dbsession, sent).id,
                                                          {"item_id": mine, "kind": "message"})

    html_login(testapp, guardian, clock)
    page = testapp.get(f"/staff/cases/{sent['case']}")
    assert "A message that could not be verified" in page.text
    assert "We have called the fire officer." in page.text and "chained shut" in page.text
    assert "They were chained again today." not in page.text
    assert len(unverifiable_events(dbsession)) == 1, "recorded once, not on every view"


def test_the_reporter_sees_a_tampered_message_marked_and_the_event_is_dated_to_the_day(
        testapp, dbsession, clock, sent, staff, reporter):
    mine, reply = conversation(testapp, staff, sent, reporter)
    flip_a_byte(item(dbsession, reply))
    dbsession.flush()

    body = testapp.get("/api/v1/reporter/case", headers=reporter).json
    assert body["messages"] == [
        {"id": mine, "from": "reporter", "text": "They were chained again today.", "at": clock.today().isoformat(),
         "author_sealed": True},
        {"id": reply, "unverified": True, "kind": "message", "at": clock.today().isoformat()},
    ]
    assert body["news"]["new_messages"] == 0, "who sent it cannot be told, so it is not news from the guardians"
    [event] = unverifiable_events(dbsession)
    assert event.actor == "system" and event.detail == {"item_id": reply, "kind": "message"}
    assert event.at.time() == time(0, 0), "found on the reporter's visit: dated to the day, like their own events"

    page = come_back(testapp, sent["receipt"])
    assert "This message could not be checked, so it is not shown." in page.text
    assert "They were chained again today." in page.text
    assert "We have called the fire officer." not in page.text


def test_a_tampered_disclosure_answers_and_identity(testapp, dbsession, guardian, clock, sent, staff):
    case = case_of(dbsession, sent)
    for row in case.items:
        flip_a_byte(row)
    dbsession.flush()
    body = testapp.get(f"/api/v1/cases/{sent['case']}", headers=staff).json
    assert body["text"] == "" and "identity" not in body and body["answers"] == {}
    assert sorted(u["kind"] for u in body["unverified"]) == ["answers", "disclosure", "identity"]
    html_login(testapp, guardian, clock)
    page = testapp.get(f"/staff/cases/{sent['case']}")
    for words in ("The disclosure could not be verified.", "The answers could not be verified.",
                  "The reporter's details could not be verified."):
        assert words in page.text


def test_an_item_that_decrypts_but_holds_the_wrong_shape_is_unverifiable(testapp, dbsession, guardian, clock, sent,
                                                                          staff):
    """Whoever has the case's public key (it is stored) can write an item that decrypts: the
    reader checks what it holds, instead of failing on a list where an object belongs."""
    case = case_of(dbsession, sent)
    identity = next(row for row in case.items if row.kind == "identity")
    identity.ciphertext = crypto.encrypt_item(case.team_public_key, b'["not", "an", "object"]', case=case.ref,
                                              kind="identity", author="reporter")
    dbsession.flush()
    assert testapp.get(f"/api/v1/cases/{sent['case']}", headers=staff).json["unverified"][0]["kind"] == "identity"
    html_login(testapp, guardian, clock)
    assert "The reporter's details could not be verified." in testapp.get(f"/staff/cases/{sent['case']}").text


# --- the author is sealed -----------------------------------------------------------------------

def test_a_reporter_message_relabelled_as_the_guardians_is_unverifiable(testapp, dbsession, guardian, clock, sent,
                                                                         staff, reporter):
    mine, reply = conversation(testapp, staff, sent, reporter)
    row = item(dbsession, mine)
    row.author, row.account_id = "guardian", guardian.account.id
    dbsession.flush()

    body = testapp.get(f"/api/v1/cases/{sent['case']}", headers=staff).json
    assert body["messages"][0]["unverified"] is True
    assert body["messages"][1]["text"] == "We have called the fire officer."
    assert [e.detail for e in unverifiable_events(dbsession)] == [{"item_id": mine, "kind": "message"}]
    html_login(testapp, guardian, clock)
    page = testapp.get(f"/staff/cases/{sent['case']}")
    assert "They were chained again today." not in page.text and "We have called the fire officer." in page.text


@pytest.mark.parametrize("relabel", [("reporter", None), ("guardian", "colleague"), ("guardian", None)])
def test_a_guardian_message_relabelled_is_unverifiable(testapp, dbsession, settings, guardian, clock, sent, staff,
                                                       reporter, relabel):
    colleague = make_staff(dbsession, settings, clock, "colleague", channels=["staff"])
    mine, reply = conversation(testapp, staff, sent, reporter)
    row = item(dbsession, reply)
    row.author = relabel[0]
    row.account_id = colleague.account.id if relabel[1] == "colleague" else None
    dbsession.flush()

    body = testapp.get("/api/v1/reporter/case", headers=reporter).json
    assert [m.get("unverified", False) for m in body["messages"]] == [False, True]
    assert [e.detail["item_id"] for e in unverifiable_events(dbsession)] == [reply]


def test_notes_and_records_are_sealed_to_their_author_too(testapp, dbsession, settings, guardian, clock, sent,
                                                          staff):
    colleague = make_staff(dbsession, settings, clock, "colleague", channels=["staff"])
    note = testapp.post_json(f"/api/v1/cases/{sent['case']}/notes", {"text": "HR must not see this."},
                             headers=staff, status=201).json["id"]
    testapp.post_json(f"/api/v1/cases/{sent['case']}/transitions", {"to": "acknowledged", "reason": "Read it."},
                      headers=staff)
    reason = max(row.id for row in case_of(dbsession, sent).items if row.kind == "reason")
    for item_id in (note, reason):
        item(dbsession, item_id).account_id = colleague.account.id
    dbsession.flush()
    body = testapp.get(f"/api/v1/cases/{sent['case']}", headers=staff).json
    assert body["notes"] == [{"id": note, "unverified": True, "kind": "note", "at": clock.today().isoformat()}]
    assert [r.get("unverified") for r in body["records"]] == [True]


# --- items written before authors were sealed ----------------------------------------------------

def version_1_item(public_key: bytes, plaintext: bytes, *, case: str, kind: str) -> bytes:
    """An item as whistle wrote it before authors were sealed (docs/crypto.md 5.2, version 1)."""
    item_key, nonce = bindings.randombytes(32), bindings.randombytes(24)
    head = b"\x01\x02" + bindings.crypto_box_seal(item_key, public_key) + nonce
    context = b"".join(len(v.encode()).to_bytes(2, "big") + v.encode() for v in (case, kind))
    return head + bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
        bindings.sodium_pad(plaintext, 256), head + context, nonce, item_key)


def test_an_old_item_still_reads_with_its_author_marked_as_not_sealed(testapp, dbsession, guardian, clock, sent,
                                                                       staff, reporter):
    mine, reply = conversation(testapp, staff, sent, reporter)
    case = case_of(dbsession, sent)
    row = item(dbsession, reply)
    row.ciphertext = version_1_item(case.public_key, b"Written last year.", case=case.ref, kind="message")
    dbsession.flush()

    body = testapp.get(f"/api/v1/cases/{sent['case']}", headers=staff).json
    assert [(m["text"], m["author_sealed"]) for m in body["messages"]] == [
        ("They were chained again today.", True), ("Written last year.", False)]
    assert body["unverified"] == [] and unverifiable_events(dbsession) == []
    mailbox = testapp.get("/api/v1/reporter/case", headers=reporter).json
    assert mailbox["messages"][1]["author_sealed"] is False and mailbox["messages"][1]["text"] == "Written last year."

    html_login(testapp, guardian, clock)
    page = testapp.get(f"/staff/cases/{sent['case']}")
    assert "Written last year." in page.text
    assert page.text.count("(sender not verifiable: written before whistle sealed who wrote each message)") == 1
    visit = browser(testapp)
    come_back(visit, sent["receipt"])
    assert "(sent before this service sealed who wrote each message)" in visit.get("/mailbox/case").text


# --- attachments ---------------------------------------------------------------------------------

def upload(testapp, headers, name: str, data: bytes, path="/api/v1/reporter/attachments") -> int:
    return testapp.post(path, data, status=201,
                        headers=dict(headers, **{"Content-Type": "application/pdf", "X-Filename": quote(name)})).json["id"]


def test_an_attachment_whose_details_fail_is_listed_without_a_link(testapp, dbsession, guardian, clock, sent, staff,
                                                                    reporter):
    good = upload(testapp, reporter, "rota.pdf", b"%PDF- the rota")
    bad = upload(testapp, reporter, "photo.jpg", b"\xff\xd8 a photo")
    attachment = dbsession.get(Attachment, bad)
    flip_a_byte(item(dbsession, attachment.meta_item_id))
    dbsession.flush()

    body = testapp.get(f"/api/v1/cases/{sent['case']}", headers=staff).json
    assert [a.get("unverified", False) for a in body["attachments"]] == [False, True]
    assert body["attachments"][1] == {"id": bad, "unverified": True, "kind": "attachment", "from": "reporter",
                                      "internal": False, "at": clock.today().isoformat()}
    [event] = unverifiable_events(dbsession)
    assert event.detail == {"item_id": attachment.meta_item_id, "kind": "attachment-meta"}

    answer = testapp.get(f"/api/v1/cases/{sent['case']}/attachments/{bad}", headers=staff, expect_errors=True)
    assert answer.status_int == 404 and answer.json["detail"] == "This file could not be verified, so it is not offered for download."
    assert testapp.get(f"/api/v1/cases/{sent['case']}/attachments/{good}", headers=staff).body == b"%PDF- the rota"
    downloads = dbsession.scalars(select(AuditEvent).where(AuditEvent.action == "attachment.downloaded")).all()
    assert len(downloads) == 1, "the refused download is not recorded as a download"

    html_login(testapp, guardian, clock)
    page = testapp.get(f"/staff/cases/{sent['case']}")
    assert "A file that could not be verified" in page.text and "rota.pdf" in page.text
    assert f"/attachments/{bad}" not in page.text
    visit = browser(testapp)
    come_back(visit, sent["receipt"])
    mailbox = visit.get("/mailbox/case")
    assert "A file that could not be checked, so it is not offered." in mailbox.text
    assert f"/mailbox/case/attachments/{bad}" not in mailbox.text
    assert visit.get(f"/mailbox/case/attachments/{bad}", expect_errors=True).status_int == 404


def test_an_attachment_relabelled_to_another_author_is_unverifiable(testapp, dbsession, guardian, sent, staff,
                                                                     reporter):
    bad = upload(testapp, reporter, "rota.pdf", b"%PDF- the rota")
    attachment = dbsession.get(Attachment, bad)
    attachment.author, attachment.account_id = "guardian", guardian.account.id
    dbsession.flush()
    body = testapp.get("/api/v1/reporter/case", headers=reporter).json
    assert body["attachments"] == [{"id": bad, "unverified": True, "kind": "attachment", "from": "guardian"}]


def test_swapped_blobs_are_refused_before_any_byte_is_sent(testapp, tm, dbsession, guardian, sent, staff, reporter):
    """The reporter's file and a guardian's swapped on disk (by their blob names): each stream is
    sealed to its author, so the first chunk fails while the request can still answer."""
    from whistle.attachments.services import limits_for, store_attachment

    theirs = upload(testapp, reporter, "rota.pdf", b"%PDF- the rota!")  # as long as ours: only the author differs
    case, registry = case_of(dbsession, sent), testapp.app.registry
    row, _ = store_attachment(dbsession, registry.blob_store, tm.get(), case, holder_keys(dbsession, case),
                              name="reply.pdf",
                              content_type="application/pdf", chunks=[b"%PDF- our reply"],
                              limits=limits_for(registry.whistle_settings), author="guardian",
                              account_id=guardian.account.id, today=case.opened_on)
    ours = row.id
    mine = dbsession.get(Attachment, theirs)
    names = (mine.blob_name, row.blob_name)
    mine.blob_name = "swapping"
    dbsession.flush()
    row.blob_name = names[0]
    dbsession.flush()
    mine.blob_name = names[1]
    dbsession.flush()

    for attachment_id in (theirs, ours):
        answer = testapp.get(f"/api/v1/cases/{sent['case']}/attachments/{attachment_id}", headers=staff,
                             expect_errors=True)
        assert answer.status_int == 404 and answer.content_type == "application/problem+json"
    events = dbsession.scalars(select(AuditEvent).where(AuditEvent.action == "attachment.unverifiable")).all()
    assert [e.detail for e in events] == [{"attachment_id": theirs}, {"attachment_id": ours}]
    assert all(e.actor == "system" for e in events)
    answer = testapp.get(f"/api/v1/reporter/attachments/{theirs}", headers=reporter, expect_errors=True)
    assert answer.status_int == 404
    assert re.fullmatch(r".*T00:00:00.*", dbsession.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()))
                        .first().at.isoformat()), "on the reporter's path: dated to the day"
