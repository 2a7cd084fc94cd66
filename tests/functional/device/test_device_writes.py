"""Device mode writes: a session that holds no key sends what its device encrypted (an item in place
of the text, keys sealed on the device for a grant), and the server stores it as it came, with the
same audit and status moves as the server-assisted path; plaintext from such a session, and items
from a session holding a key, are refused naming the field, and a refusal changes nothing."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from tests.factories import b64, device_login, holder_keys, html_login
from tests.functional.workspace.conftest import events
from whistle import crypto
from whistle.accounts.models import Account
from whistle.cases.models import HOLDER_GUARDIAN, Case, CaseGrant, CaseItem
from whistle.cases.services import sealed_author
from whistle.key_directory.services import current_directory

ORIGINAL_ITEMS = 2  # the submitted case's disclosure and answers


def _case(dbsession, ref) -> Case:
    return dbsession.scalars(select(Case).where(Case.ref == ref)).one()


def _item(dbsession, ref, keys, kind, text: str | dict, account_id) -> str:
    """The item a guardian's device would write, encrypted to the case or team key by kind."""
    team = kind in ("note", "outcome", "reason")
    plaintext = text if isinstance(text, str) else json.dumps(text, ensure_ascii=False)
    return b64(crypto.encrypt_item((keys.team if team else keys.case).public, plaintext.encode(), case=ref, kind=kind,
                                   author=f"guardian:{account_id}"))


def _items(dbsession, ref) -> int:
    case_id = _case(dbsession, ref).id
    return dbsession.scalar(select(func.count()).select_from(CaseItem).where(CaseItem.case_id == case_id))


def _read(dbsession, ref, keys, kind) -> str:
    item = dbsession.scalars(select(CaseItem).join(Case).where(Case.ref == ref, CaseItem.kind == kind)
                             .order_by(CaseItem.id.desc())).first()
    pair = keys.team if kind in ("note", "outcome", "reason") else keys.case
    return crypto.decrypt_item(pair, item.ciphertext, case=ref, kind=kind,
                               author=sealed_author(item.author, item.account_id)).decode()


@pytest.fixture
def device(testapp, dbsession, settings, clock, guardian, submitted):
    """The guardian signed in in device mode, on the submitted case: (ref, keys, csrf token)."""
    token = device_login(testapp, dbsession, settings, clock, guardian)
    ref = submitted["case"]
    keys = holder_keys(dbsession, _case(dbsession, ref))
    page = testapp.get(f"/staff/cases/{ref}")
    csrf = page.html.find("meta", attrs={"name": "csrf-token"})["content"]
    return ref, keys, csrf, token


def test_device_reply_and_note_are_stored_as_the_device_encrypted_them(testapp, dbsession, guardian, device):
    ref, keys, csrf, _ = device
    me = guardian.account.id
    message = _item(dbsession, ref, keys, "message", "We are on it.", me)
    testapp.post(f"/staff/cases/{ref}/messages", {"csrf_token": csrf, "item": message}, status=302)
    note = _item(dbsession, ref, keys, "note", "Check the rota.", me)
    testapp.post(f"/staff/cases/{ref}/notes", {"csrf_token": csrf, "item": note}, status=302)
    assert _read(dbsession, ref, keys, "message") == "We are on it."
    assert _read(dbsession, ref, keys, "note") == "Check the rota."
    assert [e.action for e in events(dbsession) if e.action in ("case.message_added", "case.note_added")] == [
        "case.message_added", "case.note_added"]


def test_device_api_twins_take_items(testapp, dbsession, guardian, device):
    ref, keys, _, token = device
    bearer = {"Authorization": f"Bearer {token}"}
    me = guardian.account.id
    testapp.post_json(f"/api/v1/cases/{ref}/messages", {"item": _item(dbsession, ref, keys, "message", "Hi", me)},
                      headers=bearer, status=201)
    testapp.post_json(f"/api/v1/cases/{ref}/notes", {"item": _item(dbsession, ref, keys, "note", "N", me)},
                      headers=bearer, status=201)
    for to in ("acknowledged", "assessing"):
        testapp.post_json(f"/api/v1/cases/{ref}/transitions", {"to": to}, headers=bearer, status=200)
    outcome = {"substantiated": "yes", "changes": ["process"], "learned": "Rotas are checked weekly."}
    answer = testapp.post_json(f"/api/v1/cases/{ref}/transitions",
                               {"to": "closed", "substantiated": "yes", "changes": ["process"],
                                "item": _item(dbsession, ref, keys, "outcome", outcome, me)}, headers=bearer).json
    assert answer["status"] == "closed"
    assert json.loads(_read(dbsession, ref, keys, "outcome")) == outcome
    reason = {"about": "reopen", "text": "New evidence."}
    testapp.post_json(f"/api/v1/cases/{ref}/transitions",
                      {"to": "assessing", "item": _item(dbsession, ref, keys, "reason", reason, me)}, headers=bearer)
    assert json.loads(_read(dbsession, ref, keys, "reason")) == reason
    case = _case(dbsession, ref)
    assert (case.status, case.substantiated, case.closed_on) == ("assessing", None, None)


@pytest.mark.parametrize(("path", "body", "field"), [
    ("messages", {"text": "plain"}, "text"),
    ("notes", {"text": "plain"}, "text"),
    ("transitions", {"to": "acknowledged", "reason": "plain"}, "reason"),
    ("conflict", {"reason": "plain"}, "reason"),
])
def test_plaintext_from_a_keyless_session_is_refused_naming_it(testapp, dbsession, device, path, body, field):
    ref, _, _, token = device
    before = _items(dbsession, ref)
    problem = testapp.post_json(f"/api/v1/cases/{ref}/{path}", body, headers={"Authorization": f"Bearer {token}"},
                                status=422).json
    assert field in {error["field"] for error in problem["errors"]}
    assert _items(dbsession, ref) == before and _case(dbsession, ref).status == "received"


def test_plaintext_from_a_keyless_page_is_refused_and_the_page_names_it(testapp, dbsession, device):
    ref, _, csrf, _ = device
    page = testapp.post(f"/staff/cases/{ref}/messages", {"csrf_token": csrf, "text": "plain words"}, status=422)
    assert "encrypts what you write" in page.text
    assert "plain words" in page.text  # kept for the guardian, never stored
    assert _items(dbsession, ref) == ORIGINAL_ITEMS


@pytest.mark.parametrize("item", ["not base64!", b64(b"\x02\x02" + bytes(400)), b64(bytes(500)), ""])
def test_a_malformed_or_missing_item_is_refused_naming_item(testapp, dbsession, device, item):
    ref, _, _, token = device
    problem = testapp.post_json(f"/api/v1/cases/{ref}/messages", {"item": item},
                                headers={"Authorization": f"Bearer {token}"}, status=422).json
    assert [error["field"] for error in problem["errors"]] == ["item"]
    assert _items(dbsession, ref) == ORIGINAL_ITEMS


def test_an_item_larger_than_the_text_limit_is_refused(testapp, dbsession, guardian, device):
    ref, keys, _, token = device
    # Items are padded to 256 bytes: the next size up from the limit.
    too_long = _item(dbsession, ref, keys, "message", "x" * (20_000 * 4 + 256), guardian.account.id)
    testapp.post_json(f"/api/v1/cases/{ref}/messages", {"item": too_long},
                      headers={"Authorization": f"Bearer {token}"}, status=422)
    at_limit = _item(dbsession, ref, keys, "message", "\U0001f600" * 20_000, guardian.account.id)
    testapp.post_json(f"/api/v1/cases/{ref}/messages", {"item": at_limit},
                      headers={"Authorization": f"Bearer {token}"}, status=201)


def test_an_item_from_a_session_holding_a_key_is_refused(testapp, dbsession, guardian, submitted, headers):
    bearer = headers
    ref = submitted["case"]
    keys = holder_keys(dbsession, _case(dbsession, ref))
    item = _item(dbsession, ref, keys, "message", "Hi", guardian.account.id)
    problem = testapp.post_json(f"/api/v1/cases/{ref}/messages", {"item": item}, headers=bearer, status=422).json
    assert [error["field"] for error in problem["errors"]] == ["item"]
    problem = testapp.post_json(f"/api/v1/cases/{ref}/grants",
                                {"guardian": "colleague", "sealed_case_key": b64(bytes(82)),
                                 "sealed_team_key": b64(bytes(82))}, headers=bearer, status=422).json
    assert {error["field"] for error in problem["errors"]} == {"sealed_case_key", "sealed_team_key"}
    assert _items(dbsession, ref) == ORIGINAL_ITEMS


def _sealed_for(dbsession, settings, clock, keys, username):
    account = dbsession.scalars(select(Account).where(Account.username == username)).one()
    public = current_directory(dbsession, settings, clock).key_of(account.id)
    return account, {"sealed_case_key": b64(crypto.seal(public, keys.case.private)),
                     "sealed_team_key": b64(crypto.seal(public, keys.team.private))}


def test_a_device_grant_stores_the_keys_sealed_to_the_directory_key(testapp, dbsession, settings, clock, guardian,
                                                                    colleague, device):
    ref, keys, csrf, _ = device
    account, sealed = _sealed_for(dbsession, settings, clock, keys, "colleague")
    testapp.post(f"/staff/cases/{ref}/grants", {"csrf_token": csrf, "guardian": "colleague", **sealed}, status=302)
    grant = dbsession.scalars(select(CaseGrant).where(CaseGrant.case_id == _case(dbsession, ref).id,
                                                      CaseGrant.account_id == account.id)).one()
    assert grant.holder == HOLDER_GUARDIAN
    assert b64(grant.sealed_case_key) == sealed["sealed_case_key"]
    assert [e.detail for e in events(dbsession, "case.granted")] == [{"account_id": account.id}]
    # The colleague reads it with their own key (server-assisted, as today): the grant checks.
    testapp.cookiejar.clear()
    html_login(testapp, colleague, clock)
    testapp.get(f"/staff/cases/{ref}", status=200)


def test_a_device_grant_needs_both_sealed_keys_and_a_guardian_in_the_directory(testapp, dbsession, settings, clock,
                                                                              colleague, device):
    ref, keys, _, token = device
    bearer = {"Authorization": f"Bearer {token}"}
    problem = testapp.post_json(f"/api/v1/cases/{ref}/grants", {"guardian": "colleague",
                                                                "sealed_case_key": "AAAA"}, headers=bearer,
                                status=422).json
    assert {error["field"] for error in problem["errors"]} == {"sealed_case_key", "sealed_team_key"}
    _, sealed = _sealed_for(dbsession, settings, clock, keys, "colleague")
    problem = testapp.post_json(f"/api/v1/cases/{ref}/grants", {"guardian": "nobody", **sealed}, headers=bearer,
                                status=422).json
    assert [error["field"] for error in problem["errors"]] == ["guardian"]
    assert dbsession.scalar(select(func.count()).select_from(CaseGrant).where(
        CaseGrant.case_id == _case(dbsession, ref).id, CaseGrant.holder == HOLDER_GUARDIAN)) == 1


def test_a_device_transfer_and_conflict_take_a_reason_item(testapp, dbsession, settings, clock, guardian, colleague,
                                                           device):
    ref, keys, _, token = device
    bearer = {"Authorization": f"Bearer {token}"}
    me = guardian.account.id
    account, sealed = _sealed_for(dbsession, settings, clock, keys, "colleague")
    reason = {"about": "transfer", "text": "On leave."}
    answer = testapp.post_json(f"/api/v1/cases/{ref}/transfer",
                               {"guardian": "colleague", "item": _item(dbsession, ref, keys, "reason", reason, me),
                                **sealed}, headers=bearer).json
    assert answer == {"transferred_to": "colleague"}
    assert json.loads(_read(dbsession, ref, keys, "reason")) == reason
    holders = dbsession.scalars(select(CaseGrant.account_id).where(
        CaseGrant.case_id == _case(dbsession, ref).id, CaseGrant.holder == HOLDER_GUARDIAN)).all()
    assert holders == [account.id]


def test_keyless_walk_of_the_write_routes_never_answers_500(testapp, dbsession, device):
    ref, _, csrf, token = device
    bearer = {"Authorization": f"Bearer {token}"}
    odd = [{}, {"item": None}, {"item": 7}, {"item": ["x"]}, {"item": "A" * 100_001}, {"text": None},
           {"to": "closed", "item": "AAAA"}, {"to": "closed", "substantiated": "yes", "changes": ["x"]},
           {"guardian": 7, "sealed_case_key": 1, "sealed_team_key": None}, {"reason": {"a": 1}}]
    for path in ("messages", "notes", "transitions", "grants", "transfer", "conflict"):
        for body in odd:
            answer = testapp.post_json(f"/api/v1/cases/{ref}/{path}", body, headers=bearer, expect_errors=True)
            assert answer.status_int < 500, (path, body, answer.text)
            form = {k: v if isinstance(v, str) else json.dumps(v) for k, v in body.items()}
            answer = testapp.post(f"/staff/cases/{ref}/{path}", {"csrf_token": csrf, **form}, expect_errors=True)
            assert answer.status_int < 500, (path, body, answer.text)
    assert _items(dbsession, ref) == ORIGINAL_ITEMS
