"""A copy of the database and blob store taken before a purge, restored after it, opens nothing of
the purged cases with any key still present in the deployment, escrow included; another case in the
same copy still opens.

The purge is the records area's own (`purge_case`, what the tick runs past retention): the cases'
shred keys destroyed in the shred key store (which no backup of the main database holds), then
their rows and blobs deleted.
"""
from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from tests.factories import build_client_case, guardian_keypair, send_client_case, submit_api
from whistle import crypto
from whistle.accounts.models import Account
from whistle.attachments.blobs import LocalBlobStore
from whistle.attachments.services import HEADER_BYTES, STREAM_KIND, open_blob
from whistle.cases.models import HOLDER_ESCROW, HOLDER_STANDBY, Attachment, Case, CaseGrant, CaseItem
from whistle.cases.services import sealed_author
from whistle.records.services import purge_case
from whistle.shredding import shred_keys, shred_store_of

MARKERS = {"client": "PURGED-CLIENT-5150", "server": "PURGED-SERVER-8812", "kept": "KEPT-CASE-2231"}
PURPOSES = {"sealed_case_key": "grant.case_key", "sealed_team_key": "grant.team_key"}


def database_file(settings) -> Path:
    return Path(make_url(settings.db_url).database)


def take_copy(settings, into: Path) -> None:
    """What a backup of the main database and the blob store holds (the shred store is not in it)."""
    into.mkdir()
    source, copy = sqlite3.connect(database_file(settings)), sqlite3.connect(into / "whistle.sqlite")
    with copy:
        source.backup(copy)
    source.close()
    copy.close()
    shutil.copytree(settings.storage_dir, into / "blobs")


def put_back(world, copy: Path) -> None:
    settings = world.ctx.settings
    world.ctx.session_factory.kw["bind"].dispose()
    main = database_file(settings)
    for path in (main, Path(f"{main}-wal"), Path(f"{main}-shm")):
        path.unlink(missing_ok=True)
    shutil.copyfile(copy / "whistle.sqlite", main)
    shutil.rmtree(settings.storage_dir)
    shutil.copytree(copy / "blobs", settings.storage_dir)


def purge(world, ref: str) -> None:
    """The purge the tick runs: shred first, then blobs and rows."""
    with world.session() as dbsession:
        case = dbsession.scalars(select(Case).where(Case.ref == ref)).one()
        blobs = list(dbsession.scalars(select(Attachment.blob_name).where(Attachment.case_id == case.id)))
        purge_case(dbsession, world.clock, case, blob_store=LocalBlobStore(world.ctx.settings.storage_dir),
                   call_hook=world.ctx.call_hook(dbsession))
    assert not any(Path(world.ctx.settings.storage_dir, name).exists() for name in blobs)


def refused(attempt) -> bool:
    try:
        attempt()
    except (crypto.DecryptionFailed, ValueError):
        return True
    return False


def test_a_backup_from_before_a_purge_opens_nothing_of_the_purged_cases_with_any_key_left(installation, tmp_path):
    # A copy of SQLite's files, whatever the engine under test: PostgreSQL's backups are pg_dump's
    # and its own files, and the shred layer makes them as useless (docs/operations.md 5).
    there = installation(escrow=True, sqlite=True)
    world, settings = there.world, there.world.ctx.settings
    # A case built on the reporter's device: grants to the guardian, the standby guardian and escrow.
    built = build_client_case(there.testapp, settings, world.clock, "staff", text=MARKERS["client"])
    send_client_case(there.testapp, built)
    # A case sent to the server, with the guardian's reply and a file; and one that is kept.
    server = submit_api(there.testapp, text=MARKERS["server"])
    kept = submit_api(there.testapp, text=MARKERS["kept"])
    headers = there.headers()
    there.testapp.post_json(f"/api/v1/cases/{server['case']}/messages", {"text": MARKERS["server"] + " reply"},
                            headers=headers, status=201)
    there.testapp.post(f"/api/v1/cases/{server['case']}/attachments", MARKERS["server"].encode() * 100,
                       headers={**headers, "X-Filename": "rota.txt", "Content-Type": "text/plain"}, status=201)
    purged = (built.ref, server["case"])
    with world.session() as dbsession:
        holders = {grant.holder for grant in dbsession.scalars(
            select(CaseGrant).join(Case).where(Case.ref == built.ref))}
    assert {HOLDER_ESCROW, HOLDER_STANDBY} <= holders, "escrow and standby copies are among what is purged"

    copy = tmp_path / "backup"
    take_copy(settings, copy)
    for ref in purged:
        purge(world, ref)
    put_back(world, copy)

    with world.session() as dbsession:
        # Every key still in the deployment: each guardian's (their passwords are known here), each
        # reporter's (from their receipts), escrow's, and every shred key left in the store.
        guardians = [guardian_keypair(account) for account in dbsession.scalars(select(Account))]
        reporters = [built.reporter.keypair] + [
            crypto.derive_reporter_keys(sent["receipt"], settings.lookup_pepper, settings.receipt_kdf).keypair
            for sent in (server, kept)]
        assert there.escrow is not None
        keypairs = [*guardians, *reporters, there.escrow]
        with shred_store_of(dbsession).engine.connect() as connection:
            store_keys = [bytes(row.key) for row in connection.execute(select(shred_keys.c.key))]
        assert store_keys, "the kept case's keys are still there"

        cases = {case.ref: case for case in dbsession.scalars(select(Case))}
        assert set(purged) <= set(cases), "the restored copy holds the purged cases' rows again"
        for ref in purged:
            case = cases[ref]
            grants = dbsession.execute(text("SELECT id, sealed_case_key, sealed_team_key FROM case_grants "
                                            "WHERE case_id = :id"), {"id": case.id}).all()
            assert len(grants) >= 3
            for grant_id, *sealed in grants:
                for column, stored in zip(PURPOSES, sealed, strict=True):
                    if stored is None:
                        continue
                    stored = bytes(stored)
                    assert all(refused(lambda k=k: crypto.unseal(k, stored)) for k in keypairs), (ref, column)
                    assert all(refused(lambda key=key: crypto.shred_unwrap(key, case.shred_handle, PURPOSES[column],
                                                                           stored)) for key in store_keys)
                grant = dbsession.get(CaseGrant, grant_id)
                with pytest.raises(crypto.DecryptionFailed):
                    _ = grant.sealed_case_key
            items = dbsession.execute(text("SELECT id, kind, author, account_id, ciphertext, shred_handle "
                                           "FROM case_items WHERE case_id = :id"), {"id": case.id}).all()
            for item_id, kind, author, account_id, stored, handle in items:
                stored = bytes(stored)
                who = sealed_author(author, account_id)
                assert all(refused(lambda k=k: crypto.decrypt_item(k, stored, case=ref, kind=kind, author=who))
                           for k in keypairs), (ref, kind)
                assert all(refused(lambda key=key: crypto.shred_unwrap(key, bytes(handle), "item", stored))
                           for key in store_keys)
                with pytest.raises(crypto.DecryptionFailed):
                    _ = dbsession.get(CaseItem, item_id).ciphertext
            for row in dbsession.scalars(select(Attachment).where(Attachment.case_id == case.id)):
                blob = Path(settings.storage_dir, row.blob_name).read_bytes()
                assert blob[:HEADER_BYTES] == bytes(HEADER_BYTES), "the blob holds no header and no file key"
                with pytest.raises(crypto.DecryptionFailed):
                    open_blob(world.testapp.app.registry.blob_store, row)
                for k in keypairs:
                    with open(Path(settings.storage_dir, row.blob_name), "rb") as source:
                        assert refused(lambda k=k, source=source: b"".join(crypto.decrypt_stream(
                            k, source, case=ref, kind=STREAM_KIND, author=sealed_author(row.author, row.account_id))))

        # The case that was not purged opens from the same copy, with the same keys.
        case = cases[kept["case"]]
        grant = dbsession.scalars(select(CaseGrant).where(CaseGrant.case_id == case.id,
                                                          CaseGrant.account_id == there.guardian.account.id)).one()
        keypair = guardian_keypair(dbsession.get(Account, there.guardian.account.id))
        case_keys = crypto.KeyPair.from_private(crypto.unseal(keypair, grant.sealed_case_key))
        disclosure = dbsession.scalars(select(CaseItem).where(CaseItem.case_id == case.id,
                                                              CaseItem.kind == "disclosure")).one()
        assert crypto.decrypt_item(case_keys, disclosure.ciphertext, case=case.ref, kind="disclosure",
                                   author="reporter").decode() == MARKERS["kept"]

    # And nothing of the purged cases is in the copy in the clear, nor in the shred store.
    on_disk = database_file(settings).read_bytes() + b"".join(
        path.read_bytes() for path in Path(settings.storage_dir).rglob("*") if path.is_file())
    assert MARKERS["client"].encode() not in on_disk and MARKERS["server"].encode() not in on_disk
