"""Case key bindings (docs/crypto.md 6.12). A database writer who replaces a holder's sealed
grant together with the case's public keys: sealed boxes are anonymous and the holders' public
keys are stored (cases.reporter_public_key, accounts.public_key, the directory), so anyone can seal
a case private key of their own to them, and deriving the case public key from the private key the
session holds then agrees. Each test asserts the attacker reads nothing.
"""
from __future__ import annotations

import contextlib

import pytest
from sqlalchemy import select, update

from tests.factories import api_login, html_login, make_channel, make_staff, submit_api
from tests.functional.reporters.helpers import come_back
from whistle import crypto
from whistle.accounts.models import Account
from whistle.cases.models import HOLDER_GUARDIAN, HOLDER_REPORTER, Case, CaseGrant, CaseItem
from whistle.cases.services import sealed_author

MARKER = "the attacker must never read this"


def forge(dbsession, ref: str, holder_filter) -> tuple[crypto.KeyPair, crypto.KeyPair]:
    """Plain SQL, no app code: fresh case and team key pairs of the attacker's, sealed to the
    holder's stored public key, and the case's public keys and team key MAC set to match."""
    case_keys, team_keys = crypto.KeyPair.generate(), crypto.KeyPair.generate()
    case = dbsession.scalars(select(Case).where(Case.ref == ref)).one()
    for grant in dbsession.scalars(select(CaseGrant).where(CaseGrant.case_id == case.id, holder_filter)):
        if grant.holder == HOLDER_REPORTER:
            holder_public = case.reporter_public_key
        else:
            holder_public = dbsession.get(Account, grant.account_id).public_key
        values = {"sealed_case_key": crypto.seal(holder_public, case_keys.private)}
        if grant.sealed_team_key is not None:
            values["sealed_team_key"] = crypto.seal(holder_public, team_keys.private)
        dbsession.execute(update(CaseGrant).where(CaseGrant.id == grant.id).values(values))
    dbsession.execute(update(Case).where(Case.id == case.id).values(
        public_key=case_keys.public, team_public_key=team_keys.public,
        team_key_mac=crypto.team_key_mac(case_keys.private, team_keys.public)))
    dbsession.expire_all()
    return case_keys, team_keys


def attacker_reads(dbsession, ref: str, keys: crypto.KeyPair, kind: str) -> list[str]:
    case = dbsession.scalars(select(Case).where(Case.ref == ref)).one()
    read = []
    for item in dbsession.scalars(select(CaseItem).where(CaseItem.case_id == case.id, CaseItem.kind == kind)):
        with contextlib.suppress(crypto.DecryptionFailed):
            read.append(crypto.decrypt_item(keys, item.ciphertext, case=ref, kind=kind,
                                            author=sealed_author(item.author, item.account_id)).decode())
    return read


@pytest.fixture
def sent(testapp, dbsession, settings, clock):
    make_channel(dbsession, "staff", title="Raise a concern")
    guardian = make_staff(dbsession, settings, clock, "guardian", channels=["staff"])
    return guardian, submit_api(testapp, text="The night shift is left with one nurse for 40 beds.")


def test_forged_reporter_grant_does_not_get_the_reporters_next_message_api(testapp, dbsession, sent):
    _, case = sent
    token = testapp.post_json("/api/v1/reporter/session", {"receipt": case["receipt"]}).json["token"]
    case_keys, _ = forge(dbsession, case["case"], CaseGrant.holder == HOLDER_REPORTER)
    testapp.post_json("/api/v1/reporter/messages", {"text": MARKER},
                      headers={"Authorization": f"Bearer {token}"}, status="*")
    assert attacker_reads(dbsession, case["case"], case_keys, "message") == []


def test_forged_reporter_grant_does_not_get_the_reporters_identity_on_the_form(testapp, dbsession, sent):
    _, case = sent
    page = come_back(testapp, case["receipt"])
    _, team_keys = forge(dbsession, case["case"], CaseGrant.holder == HOLDER_REPORTER)
    form = page.forms["identity-form"]
    form["identity_mode"] = "confidential"
    form["identity.name"] = MARKER
    form.submit(status="*")
    assert attacker_reads(dbsession, case["case"], team_keys, "identity") == []


def test_forged_guardian_grant_does_not_get_the_guardians_next_reply_and_note(testapp, dbsession, sent, clock):
    guardian, case = sent
    headers = api_login(testapp, guardian, clock)
    ref = case["case"]
    case_keys, team_keys = forge(dbsession, ref, CaseGrant.holder == HOLDER_GUARDIAN)
    testapp.post_json(f"/api/v1/cases/{ref}/messages", {"text": MARKER}, headers=headers, status="*")
    testapp.post_json(f"/api/v1/cases/{ref}/notes", {"text": MARKER}, headers=headers, status="*")
    assert attacker_reads(dbsession, ref, case_keys, "message") == []
    assert attacker_reads(dbsession, ref, team_keys, "note") == []


def test_the_reporters_binding_is_made_at_intake_and_a_guardians_on_their_first_visit(
        testapp, dbsession, sent, clock):
    guardian, case = sent
    db_case = dbsession.scalars(select(Case).where(Case.ref == case["case"])).one()
    grants = {grant.holder: grant for grant in db_case.grants}
    assert db_case.key_binding is not None
    assert grants[HOLDER_REPORTER].case_key_binding is not None
    assert grants[HOLDER_GUARDIAN].case_key_binding is None  # the server never holds their key
    testapp.get(f"/api/v1/cases/{case['case']}", headers=api_login(testapp, guardian, clock))
    dbsession.expire_all()
    assert grants[HOLDER_GUARDIAN].case_key_binding is not None


def test_a_grant_without_a_binding_on_a_case_stripped_of_the_servers_is_refused(testapp, dbsession, sent, clock):
    """Removing the server's binding as well does not make a forged guardian grant look like a
    case from before bindings: the reporter's binding says the case has them."""
    guardian, case = sent
    ref = case["case"]
    case_keys, _ = forge(dbsession, ref, CaseGrant.holder == HOLDER_GUARDIAN)
    dbsession.execute(update(Case).where(Case.ref == ref).values(key_binding=None))
    headers = api_login(testapp, guardian, clock)
    testapp.post_json(f"/api/v1/cases/{ref}/messages", {"text": MARKER}, headers=headers, status=409)
    assert attacker_reads(dbsession, ref, case_keys, "message") == []


def test_a_case_from_before_bindings_is_trusted_on_first_use_and_bound_from_then_on(
        testapp, dbsession, sent, clock):
    guardian, case = sent
    ref = case["case"]
    case_id = dbsession.scalars(select(Case.id).where(Case.ref == ref)).one()
    dbsession.execute(update(Case).where(Case.id == case_id).values(key_binding=None))
    dbsession.execute(update(CaseGrant).where(CaseGrant.case_id == case_id).values(case_key_binding=None))
    headers = api_login(testapp, guardian, clock)
    testapp.post_json(f"/api/v1/cases/{ref}/messages", {"text": "We have read your report."}, headers=headers)
    dbsession.expire_all()
    db_case = dbsession.get(Case, case_id)
    assert db_case.key_binding is not None
    assert [g.case_key_binding is not None for g in db_case.grants if g.holder == HOLDER_GUARDIAN] == [True]
    # From now on a forged grant is refused again.
    _, team_keys = forge(dbsession, ref, CaseGrant.holder == HOLDER_GUARDIAN)
    testapp.post_json(f"/api/v1/cases/{ref}/notes", {"text": MARKER}, headers=headers, status=409)
    assert attacker_reads(dbsession, ref, team_keys, "note") == []


def test_a_refused_key_is_shown_on_the_admin_overview_without_naming_the_case(
        testapp, dbsession, settings, sent, clock):
    _, case = sent
    admin = make_staff(dbsession, settings, clock, "admin", admin=True, guardian=False)
    token = testapp.post_json("/api/v1/reporter/session", {"receipt": case["receipt"]}).json["token"]
    forge(dbsession, case["case"], CaseGrant.holder == HOLDER_REPORTER)
    testapp.post_json("/api/v1/reporter/messages", {"text": MARKER},
                      headers={"Authorization": f"Bearer {token}"}, status=409)
    testapp.reset()
    html_login(testapp, admin, clock)
    page = testapp.get("/admin").text
    assert "whistle refused to encrypt to a key someone changed in the database" in page
    assert "a case&#39;s key was not the one its guardians&#39; or its reporter&#39;s keys vouch for: 1 time" in page
    assert case["case"] not in page
