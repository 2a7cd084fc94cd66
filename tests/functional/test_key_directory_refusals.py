"""The key directory refuses what a database writer or a careless operator could slip into it."""
from __future__ import annotations

import base64
from datetime import timedelta

import pytest
import transaction
from sqlalchemy import delete, select

from tests.factories import make_channel, make_staff, sign_directory, submit_api
from whistle import crypto
from whistle.cases.models import Case, CaseGrant
from whistle.db import get_tm_session, make_engine, make_session_factory
from whistle.intake_channels.models import Channel, ChannelGuardian
from whistle.key_directory import services as key_directory
from whistle.key_directory.models import KeyDirectory
from whistle.key_directory.services import DirectoryError, build_document, current_directory, staleness, verify
from whistle.settings import load_settings


@pytest.mark.parametrize("alias", ["01", "\u0661"])  # a leading zero; ARABIC-INDIC DIGIT ONE
def test_a_directory_listing_one_account_under_two_ids_is_refused(settings, clock, alias):
    """Two JSON members that both read as account 1 would let a reader check one entry while the
    server seals to the other: the document is refused."""
    honest, other = crypto.KeyPair.generate(), crypto.KeyPair.generate()
    now = clock.now()
    document = {
        "format": "whistle-key-directory/1", "version": 1, "escrow": None,
        "issued_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "expires_at": (now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "receipt": {"salt": "", "opslimit": 1, "memlimit": 8192},
        "guardians": {"1": {"username": "alice", "public_key": base64.b64encode(honest.public).decode()},
                      alias: {"username": "alice", "public_key": base64.b64encode(other.public).decode()}},
        "channels": {"staff": {"first_tier": [1], "second_tier": []}},
    }
    data = crypto.canonical_json(document)
    with pytest.raises(DirectoryError):
        verify(settings, data, crypto.sign_directory(data, settings.org_signing_key), now)


def test_a_directory_put_back_is_refused_after_a_restart(committed_database, clock, monkeypatch):
    """The highest version used is kept in the state file (whistle.org.directory_state), so a
    database writer who deletes the newest directory is refused even once the process restarted."""
    settings = load_settings(committed_database("restart"), environ={})
    assert settings.directory_state is not None
    engine = make_engine(settings.db_url)
    factory = make_session_factory(engine, audit_key=settings.audit_key)
    try:
        for _ in range(2):
            with transaction.manager:
                sign_directory(get_tm_session(factory, transaction.manager), settings, clock)
        with transaction.manager:  # a database writer deletes the newest: version 1 is the newest again
            get_tm_session(factory, transaction.manager).execute(delete(KeyDirectory).where(KeyDirectory.version == 2))
        monkeypatch.setattr(key_directory, "_highest_seen", {})  # the restart: the process's memory is gone
        with transaction.manager, pytest.raises(DirectoryError, match="went back to version 1 after version 2"):
            current_directory(get_tm_session(factory, transaction.manager), settings, clock)
    finally:
        engine.dispose()


def test_another_directory_under_a_version_already_used_is_refused(committed_database, clock, monkeypatch):
    settings = load_settings(committed_database("replaced"), environ={})
    engine = make_engine(settings.db_url)
    factory = make_session_factory(engine, audit_key=settings.audit_key)
    try:
        with transaction.manager:
            sign_directory(get_tm_session(factory, transaction.manager), settings, clock)
        with transaction.manager:  # another signed document of version 1 (say, an old draft) put in its place
            dbsession = get_tm_session(factory, transaction.manager)
            dbsession.execute(delete(KeyDirectory))
            clock.advance(timedelta(hours=1))
            document = crypto.canonical_json(build_document(dbsession, settings, clock, version=1))
            dbsession.add(KeyDirectory(version=1, document=document, published_on=clock.today(),
                                       signature=crypto.sign_directory(document, settings.org_signing_key)))
        monkeypatch.setattr(key_directory, "_highest_seen", {})
        with transaction.manager, pytest.raises(DirectoryError, match="another document than the version 1"):
            current_directory(get_tm_session(factory, transaction.manager), settings, clock)
    finally:
        engine.dispose()


def test_auto_sign_does_not_vouch_for_a_membership_row_a_database_writer_inserted(testapp, dbsession, settings, clock):
    """auto_sign lists the channel memberships the last directory signed plus those the services
    changed in the transaction: a channel_guardians row someone inserted is not signed by the next
    routine change (the admin overview names it as a difference instead)."""
    make_channel(dbsession, "staff", title="Raise a concern")
    make_channel(dbsession, "managers", title="Concerns about managers")
    alice = make_staff(dbsession, settings, clock, "alice", channels=["managers"])
    mallory = make_staff(dbsession, settings, clock, "mallory", channels=["staff"])
    managers = dbsession.scalars(select(Channel).where(Channel.slug == "managers")).one()
    dbsession.add(ChannelGuardian(channel_id=managers.id, account_id=mallory.account.id))  # the database writer
    dbsession.flush()
    newcomer = make_staff(dbsession, settings, clock, "newcomer", channels=["staff"])  # routine: auto_sign re-signs

    directory = current_directory(dbsession, settings, clock)
    assert directory.listed_for("managers").first_tier == (alice.account.id,)
    assert set(directory.listed_for("staff").first_tier) == {mallory.account.id, newcomer.account.id}
    ref = submit_api(testapp, channel="managers")["case"]
    case = dbsession.scalars(select(Case).where(Case.ref == ref)).one()
    assert mallory.account.id not in set(dbsession.scalars(select(CaseGrant.account_id).where(
        CaseGrant.case_id == case.id)))
    assert any("mallory was added to the channel 'managers'" in sentence
               for sentence in staleness(dbsession, settings, clock).differences)
