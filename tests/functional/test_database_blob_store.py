"""Files kept in the database (whistle.attachments.blob_store = database), on the engine under test:
a report's file sent through the form and one uploaded in chunks reach the guardian whole, and
the store's rows hold ciphertext only, nothing in the storage directory."""
from __future__ import annotations

import os
from urllib.parse import quote

import pytest
from sqlalchemy import select
from webtest import TestApp

from tests.factories import api_login, make_channel, make_staff, submit_api
from tests.functional.reporters.helpers import receipt_of, submit_disclosure
from tests.functional.reporters.test_chunked_uploads import ClientFile, put
from tests.functional.reporters.test_mailbox_api import reporter_login
from whistle import crypto
from whistle.attachments.dbblobs import DatabaseBlobStore
from whistle.attachments.models import StoredBlobName, StoredBlobPiece
from whistle.cases.models import Attachment, Case
from whistle.config import make_configurator
from whistle.db import Base
from whistle.settings import load_settings

STATEMENT = b"Statement: the fire doors on ward 7 were chained shut again on Friday night."


@pytest.fixture
def testapp(raw_settings, clock, tm, dbsession):
    """The app with the database blob store, in the test's doomed transaction (the store commits
    its own rows, as it does in production)."""
    raw = dict(raw_settings, **{"whistle.attachments.blob_store": "database"})
    app = make_configurator(raw, settings=load_settings(raw, environ={}), clock=clock).make_wsgi_app()
    return TestApp(app, extra_environ={"HTTP_HOST": "example.com", "tm.active": True, "tm.manager": tm,
                                       "app.dbsession": dbsession})


@pytest.fixture
def guardian(dbsession, settings, clock):
    make_channel(dbsession)
    return make_staff(dbsession, settings, clock, channels=["staff"])


def stored_pieces(store: DatabaseBlobStore, blob_name: str) -> bytes:
    with store.engine.connect() as conn:
        file = conn.scalar(select(StoredBlobName.file).where(StoredBlobName.name == blob_name))
        return b"".join(conn.scalars(select(StoredBlobPiece.data).where(StoredBlobPiece.file == file)
                                     .order_by(StoredBlobPiece.offset)))


def test_a_reports_file_is_kept_in_the_database_and_downloaded_by_the_guardian(testapp, dbsession, settings, clock,
                                                                               guardian):
    store = testapp.app.registry.blob_store
    assert isinstance(store, DatabaseBlobStore)
    before = set(store.names())
    page = submit_disclosure(testapp, files=[("statement.txt", STATEMENT, "text/plain")])
    receipt = receipt_of(page)
    row = dbsession.scalars(select(Attachment).order_by(Attachment.id.desc())).first()
    assert set(store.names()) - before == {row.blob_name}
    stored = stored_pieces(store, row.blob_name)
    assert len(stored) == row.stored_bytes and STATEMENT not in stored, "ciphertext only"
    assert not os.path.exists(settings.storage_dir) or not any(
        path.is_file() for path in settings.storage_dir.iterdir()), "nothing in the storage directory"

    case = dbsession.get(Case, row.case_id)
    headers = api_login(testapp, guardian, clock)
    listed = testapp.get(f"/api/v1/cases/{case.ref}", headers=headers).json["attachments"]
    assert [(a["id"], a["name"]) for a in listed] == [(row.id, "statement.txt")]
    assert testapp.get(f"/api/v1/cases/{case.ref}/attachments/{row.id}", headers=headers).body == STATEMENT
    reporter = reporter_login(testapp, receipt)
    assert testapp.get(f"/api/v1/reporter/attachments/{row.id}", headers=reporter).body == STATEMENT


def test_a_file_uploaded_in_chunks_is_staged_and_published_in_the_database(testapp, dbsession, clock, guardian):
    store = testapp.app.registry.blob_store
    sent = testapp.post_json("/api/v1/disclosures", {"channel": "staff", "text": "Something is wrong on ward 7.",
                                                     "answers": {"ongoing": "yes"}}).json
    case = dbsession.scalars(select(Case).where(Case.ref == sent["case"])).one()
    headers = reporter_login(testapp, sent["receipt"])
    plaintext = os.urandom(20 * crypto.CHUNK_SIZE + 99)  # more than one run of chunks
    file = ClientFile(case, plaintext, name="rota.pdf")
    begun = testapp.post_json("/api/v1/reporter/uploads", file.shape, headers=headers, status=201).json
    runs = [(at, b"".join(file.chunks[at:at + 16])) for at in range(0, len(file.chunks), 16)]
    for at, run in reversed(runs):
        put(testapp, headers, begun["id"], at, run, status=204)
    done = testapp.post_json(f"/api/v1/reporter/uploads/{begun['id']}/done", {"meta": file.meta}, headers=headers,
                             status=201).json
    row = dbsession.get(Attachment, done["id"])
    assert row.blob_name in set(store.names())
    staff = api_login(testapp, guardian, clock)
    assert testapp.get(f"/api/v1/cases/{case.ref}/attachments/{row.id}", headers=staff).body == plaintext


def test_no_row_of_either_database_holds_a_files_bytes_or_name(testapp, dbsession, clock, guardian):
    """As tests/functional/test_at_rest.py checks for the directory: every row of every table, the
    store's included (on SQLite, in its file of its own)."""
    store = testapp.app.registry.blob_store
    ref = submit_api(testapp)["case"]
    headers = api_login(testapp, guardian, clock)
    wanted = []
    for internal in ("false", "true"):
        content, name = f"QUAGGA-{internal}-content-4417".encode(), f"OKAPI-{internal}-name-9920.pdf"
        wanted += [content, name.encode()]
        testapp.post(f"/api/v1/cases/{ref}/attachments?internal={internal}", content * 100, status=201,
                     headers=dict(headers, **{"Content-Type": "application/pdf", "X-Filename": quote(name)}))
    dbsession.flush()
    with store.engine.connect() as conn:
        in_store = [row for table in (StoredBlobName.__table__, StoredBlobPiece.__table__)
                    for row in conn.execute(table.select())]
    rows = [row for table in Base.metadata.sorted_tables for row in dbsession.execute(table.select())]
    assert len([row for row in in_store if len(row) == 4 and isinstance(row[3], bytes)]) >= 2
    for row in rows + in_store:
        stored = b"".join(value if isinstance(value, bytes) else str(value).encode() for value in row)
        assert not [marker for marker in wanted if marker in stored]
