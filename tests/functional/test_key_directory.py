"""The signed key directory: versions only go up, an expired or wrongly signed one is refused
everywhere, the API serves it, auto_sign never vouches for a key read from a row, a guardian not in
it gets nothing, the overview names each difference, and the team key MAC."""
from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import timedelta

import pytest
import transaction
from sqlalchemy import delete, func, select, update

from tests import factories
from tests.factories import api_login, make_channel, make_staff, sign_directory, submit_api
from tests.functional.reporters.helpers import come_back
from whistle import crypto
from whistle.accounts.models import Account
from whistle.accounts.services import add_account as add_account_without_channels
from whistle.audit.models import AuditEvent
from whistle.cases.models import Case, CaseGrant
from whistle.db import get_tm_session, make_engine, make_session_factory
from whistle.intake_channels.models import ChannelGuardian
from whistle.key_directory.models import KeyDirectory
from whistle.key_directory.services import (
    DirectoryError,
    build_document,
    current_directory,
    newest_version,
    publish,
    staleness,
    unattended_channels,
)
from whistle.settings import load_settings

PASSWORD = "another long passphrase"


@pytest.fixture
def guardian(dbsession, settings, clock):
    make_channel(dbsession, "staff", title="Raise a concern")
    return make_staff(dbsession, settings, clock, "guardian", channels=["staff"])


def not_taking_reports(testapp, dbsession, settings, clock, slug: str) -> str:
    """Send a report to channel `slug` and see it refused without a reason (that is for the
    admins); returns the reason the admin overview gives for the channel."""
    refused = testapp.post_json("/api/v1/disclosures", {"channel": slug, "text": "Hello?"}, status=409).json
    assert refused["type"] == "/api/v1/problems/channel-not-live" and "reason" not in refused
    return {channel.slug: reason for channel, reason in unattended_channels(dbsession, settings, clock)}[slug]


def signed(settings, document: dict, key: crypto.SigningKey | None = None) -> tuple[bytes, bytes]:
    data = crypto.canonical_json(document)
    return data, crypto.sign_directory(data, key or settings.org_signing_key)


def test_versions_only_go_up(dbsession, settings, clock, guardian):
    first = sign_directory(dbsession, settings, clock)
    second = sign_directory(dbsession, settings, clock)
    assert second.version == first.version + 1 == newest_version(dbsession)
    with pytest.raises(DirectoryError, match="versions only go up"):
        publish(dbsession, settings, clock, second.document, second.signature)
    older = build_document(dbsession, settings, clock, version=first.version)
    with pytest.raises(DirectoryError, match="versions only go up"):
        publish(dbsession, settings, clock, *signed(settings, older))
    assert current_directory(dbsession, settings, clock).version == second.version


def test_an_expired_directory_is_refused_everywhere(testapp, dbsession, settings, clock, guardian):
    colleague = make_staff(dbsession, settings, clock, "colleague")
    ref = submit_api(testapp)["case"]
    headers = api_login(testapp, guardian, clock)
    short = replace(settings, directory_lifetime=timedelta(minutes=1))
    sign_directory(dbsession, short, clock)
    clock.advance(timedelta(minutes=2))

    with pytest.raises(DirectoryError, match="expired"):
        current_directory(dbsession, settings, clock)
    assert testapp.get("/api/v1/channels/staff/keys", status=409).json["detail"].startswith("The key directory")
    refused = testapp.post_json(f"/api/v1/cases/{ref}/grants", {"guardian": "colleague"}, headers=headers, status=409)
    assert "expired" in refused.json["detail"] and "no case can be given" in refused.json["detail"]
    assert not_taking_reports(testapp, dbsession, settings, clock, "staff") == "no_key_directory"
    assert colleague.account.id not in set(dbsession.scalars(select(CaseGrant.account_id)))
    # Nor can an expired one be published.
    stale = build_document(dbsession, short, clock, version=newest_version(dbsession) + 1)
    clock.advance(timedelta(minutes=2))
    with pytest.raises(DirectoryError, match="expired"):
        publish(dbsession, settings, clock, *signed(settings, stale))


def test_a_directory_signed_by_another_key_is_refused(testapp, dbsession, settings, clock, guardian):
    intruder = crypto.SigningKey.generate()
    forged = build_document(dbsession, settings, clock, version=newest_version(dbsession) + 1)
    with pytest.raises(DirectoryError, match="not the organisation key's"):
        publish(dbsession, settings, clock, *signed(settings, forged, intruder))
    # Written straight into the table, it is refused when read.
    data, signature = signed(settings, forged, intruder)
    dbsession.add(KeyDirectory(version=forged["version"], document=data, signature=signature,
                               published_on=clock.today()))
    dbsession.flush()
    with pytest.raises(DirectoryError, match="not the organisation key's"):
        current_directory(dbsession, settings, clock)
    assert testapp.get("/api/v1/channels/staff/keys", status=409)
    assert not_taking_reports(testapp, dbsession, settings, clock, "staff") == "no_key_directory"


def test_the_api_serves_the_signed_directory(testapp, dbsession, settings, clock, guardian):
    body = testapp.get("/api/v1/channels/staff/keys").json
    document = body["document"].encode("utf-8")
    crypto.verify_directory(document, base64.b64decode(body["signature"]), settings.org_public_key)
    assert body["key"] == crypto.fingerprint(settings.org_public_key)
    assert base64.b64decode(body["public_key"]) == settings.org_public_key
    listed = json.loads(document)
    account = guardian.account
    assert listed["guardians"][str(account.id)]["username"] == "guardian"
    assert base64.b64decode(listed["guardians"][str(account.id)]["public_key"]) == account.public_key
    assert listed["channels"]["staff"] == {"first_tier": [account.id], "second_tier": []}
    assert testapp.get("/api/v1/channels/nowhere/keys", status=404).json["type"] == "/api/v1/problems/no-key-directory"
    dbsession.execute(delete(KeyDirectory))
    assert testapp.get("/api/v1/channels/staff/keys", status=404).json["title"] == "No key directory"


def test_auto_sign_never_vouches_for_a_key_read_from_a_row(dbsession, settings, clock, guardian):
    real = guardian.account.public_key
    attacker = crypto.KeyPair.generate()
    dbsession.execute(update(Account).where(Account.id == guardian.account.id).values(public_key=attacker.public))
    dbsession.expire_all()
    make_staff(dbsession, settings, clock, "newcomer", channels=["staff"])  # re-signs (auto_sign)
    directory = current_directory(dbsession, settings, clock)
    assert "newcomer" in {listed.username for listed in directory.guardians.values()}
    assert directory.key_of(guardian.account.id) == real != attacker.public


def test_a_guardian_not_in_the_directory_cannot_be_granted(testapp, dbsession, settings, clock, guardian):
    ref = submit_api(testapp)["case"]
    # Made by the accounts service alone: nobody re-signed the directory.
    outsider = add_account_without_channels(dbsession, settings, clock, username="outsider", password=PASSWORD)
    refused = testapp.post_json(f"/api/v1/cases/{ref}/grants", {"guardian": "outsider"},
                                headers=api_login(testapp, guardian, clock), status=422).json
    assert "sign a new key directory first" in refused["errors"][0]["message"]
    assert outsider.account.id not in set(dbsession.scalars(select(CaseGrant.account_id)))


def test_the_overview_names_each_difference(testapp, dbsession, settings, clock, guardian):
    admin = make_staff(dbsession, settings, clock, "admin", admin=True, guardian=False)
    young = make_channel(dbsession, "young", title="Young voices")
    helper = make_staff(dbsession, settings, clock, "helper", channels=["staff"])
    assert staleness(dbsession, settings, clock).differences == []
    # Changed in the database without signing again:
    add_account_without_channels(dbsession, settings, clock, username="unsigned", password=PASSWORD)
    helper.account.disabled = True
    dbsession.add(ChannelGuardian(channel_id=young.id, account_id=guardian.account.id))
    dbsession.flush()
    overview = testapp.get("/api/v1/admin/overview", headers=api_login(testapp, admin, clock)).json["key_directory"]
    assert overview["stale"] and overview["swapped"] == []
    assert overview["fingerprint"] == crypto.fingerprint(settings.org_public_key)
    text = " ".join(overview["differences"])
    assert "helper was disabled but is still in the signed directory" in text
    assert "unsigned was added as a guardian but is not in the signed directory" in text
    assert "guardian was added to the channel 'young' after the directory was signed" in text


def test_a_reporter_reveals_who_they_are_only_once_the_team_key_is_vouched_for(testapp, dbsession, guardian, clock):
    sent = submit_api(testapp)
    case = dbsession.scalars(select(Case).where(Case.ref == sent["case"])).one()
    assert case.team_key_mac is not None, "written at case creation"
    case.team_key_mac = None  # a case opened before team key MACs existed
    dbsession.flush()

    form = come_back(testapp, sent["receipt"]).forms["identity-form"]
    form["identity_mode"], form["identity.name"] = "confidential", "Grace Hopper"
    deferred = form.submit(status=409)
    assert "only after the people handling your report have opened it" in deferred.text
    assert dbsession.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "reporter.identity_deferred")) == 1

    testapp.get(f"/api/v1/cases/{case.ref}", headers=api_login(testapp, guardian, clock))  # holds both keys
    dbsession.refresh(case)
    assert case.team_key_mac == crypto.team_key_mac(
        crypto.unseal(guardian_keypair(guardian), guardian_grant(dbsession, case, guardian).sealed_case_key),
        case.team_public_key)
    form = testapp.get("/mailbox/case").forms["identity-form"]
    form["identity_mode"], form["identity.name"] = "confidential", "Grace Hopper"
    assert "You told us who you are" in form.submit().follow().text


def guardian_keypair(staff) -> crypto.KeyPair:
    return factories.guardian_keypair(staff.account, staff.password)


def guardian_grant(dbsession, case, staff) -> CaseGrant:
    return dbsession.scalars(select(CaseGrant).where(CaseGrant.case_id == case.id,
                                                     CaseGrant.account_id == staff.account.id)).one()


def test_a_directory_put_back_after_a_newer_one_was_in_use_is_refused(committed_database, clock):
    settings = load_settings(committed_database("rollback"), environ={})
    engine = make_engine(settings.db_url)
    factory = make_session_factory(engine, audit_key=settings.audit_key)
    try:
        for _ in range(2):
            with transaction.manager:
                dbsession = get_tm_session(factory, transaction.manager)
                sign_directory(dbsession, settings, clock)
        with transaction.manager:  # the newer one is read once, and so remembered
            assert current_directory(get_tm_session(factory, transaction.manager), settings, clock).version == 2
        with transaction.manager:  # a database writer deletes it: version 1 is the newest again
            get_tm_session(factory, transaction.manager).execute(delete(KeyDirectory).where(KeyDirectory.version == 2))
        with transaction.manager:
            dbsession = get_tm_session(factory, transaction.manager)
            with pytest.raises(DirectoryError, match="went back to version 1 after version 2"):
                current_directory(dbsession, settings, clock)
            last = dbsession.scalars(select(AuditEvent.action).order_by(AuditEvent.seq.desc())).first()
            assert last == "key_directory.rolled_back"
    finally:
        engine.dispose()
