"""The review's swap attacks (tests/functional/test_key_swaps.py) on a case built on the reporter's
device, where they apply on the server: a database writer replaces a public key, or a grant, with
their own and waits. Nothing may be encrypted to their key, and a swapped grant is refused."""
from __future__ import annotations

import base64

import pytest
from sqlalchemy import func, select, update

from tests.factories import api_login, bearer, build_client_case, send_client_case
from tests.functional.test_key_swaps import ATTACKER, MARKER, attacker_reads_nothing, case_row, key_mismatches
from whistle import crypto
from whistle.accounts.models import Account
from whistle.cases.models import HOLDER_GUARDIAN, HOLDER_REPORTER, Case, CaseGrant, CaseItem


def items(dbsession) -> int:
    return dbsession.scalar(select(func.count()).select_from(CaseItem))


def test_a_swapped_guardian_key_cannot_change_what_the_client_seals(testapp, dbsession, settings, clock, team):
    dbsession.execute(update(Account).where(Account.id == team.first.account.id).values(public_key=ATTACKER.public))
    dbsession.expire_all()
    built = build_client_case(testapp, settings, clock, text=MARKER)  # sealed to the keys the directory lists
    send_client_case(testapp, built)
    attacker_reads_nothing(dbsession, testapp.app.registry.blob_store, built.ref)
    staff = api_login(testapp, team.colleague, clock)
    assert testapp.get(f"/api/v1/cases/{built.ref}", headers=staff).json["text"] == MARKER


def test_a_swapped_case_key_gets_no_guardian_reply(testapp, dbsession, settings, clock, team):
    built = build_client_case(testapp, settings, clock)
    send_client_case(testapp, built)
    staff = api_login(testapp, team.first, clock)
    dbsession.execute(update(Case).where(Case.ref == built.ref).values(public_key=ATTACKER.public))
    dbsession.expire_all()
    before = items(dbsession)
    refused = testapp.post_json(f"/api/v1/cases/{built.ref}/messages", {"text": MARKER}, headers=staff, status=409)
    assert refused.json["type"] == "/api/v1/problems/key-mismatch"
    assert items(dbsession) == before
    attacker_reads_nothing(dbsession, testapp.app.registry.blob_store, built.ref)
    assert key_mismatches(dbsession, case_row(dbsession, built.ref)) == [{"key": "case"}]


def _replace_grant(dbsession, ref: str, holder: str, account_id: int | None, public_key: bytes) -> None:
    """A database writer seals a case key pair of their own to the holder and sets the case's
    public keys to match: every check of docs/crypto.md 6.11 would pass."""
    case = case_row(dbsession, ref)
    grant = dbsession.scalars(select(CaseGrant).where(CaseGrant.case_id == case.id, CaseGrant.holder == holder,
                                                      CaseGrant.account_id.is_(account_id) if account_id is None
                                                      else CaseGrant.account_id == account_id)).one()
    grant.sealed_case_key = crypto.seal(public_key, ATTACKER.private)
    case.public_key = ATTACKER.public
    dbsession.flush()


def test_a_replaced_guardian_grant_is_refused_at_the_first_unlock(testapp, dbsession, settings, clock, team):
    built = build_client_case(testapp, settings, clock)
    send_client_case(testapp, built)
    _replace_grant(dbsession, built.ref, HOLDER_GUARDIAN, team.first.account.id, team.first.account.public_key)
    staff = api_login(testapp, team.first, clock)
    before = items(dbsession)
    testapp.post_json(f"/api/v1/cases/{built.ref}/messages", {"text": MARKER}, headers=staff, status=409)
    assert items(dbsession) == before
    assert key_mismatches(dbsession, case_row(dbsession, built.ref)) == [{"key": "case"}]


def test_a_replaced_reporter_grant_is_refused_by_the_server_and_shows_on_the_device(
        testapp, dbsession, settings, clock, team):
    built = build_client_case(testapp, settings, clock)
    token = send_client_case(testapp, built)["token"]
    _replace_grant(dbsession, built.ref, HOLDER_REPORTER, None, built.reporter.keypair.public)
    # Server-assisted, with the receipt: refused before anything is read or written.
    holder = bearer(testapp.post_json("/api/v1/reporter/session", {"receipt": built.receipt}).json["token"])
    assert testapp.post_json("/api/v1/reporter/messages", {"text": MARKER}, headers=holder,
                             status=409).json["type"] == "/api/v1/problems/key-mismatch"
    # On the device: the grant opens, but the case key is not the one the reporter bound.
    envelopes = testapp.get("/api/v1/reporter/envelopes", headers=bearer(token)).json
    opened = crypto.KeyPair.from_private(crypto.unseal(built.reporter.keypair,
                                                       base64.b64decode(envelopes["sealed_case_key"])))
    with pytest.raises(crypto.KeyMismatch):
        crypto.check_case_key_binding(built.reporter.keypair.private, built.ref, opened.public,
                                      base64.b64decode(envelopes["case_key_binding"]))
