"""Erasing a message and a file leaves nothing of them on disk: not in the database file (nor its
write-ahead log), not in the blob store, and not their keys in the shred key store."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from tests.factories import submit_api
from whistle.cases.models import Attachment, Case, CaseItem
from whistle.shredding import shred_store_of

MARKER = "ERASED-ON-DISK-6021"


def files_of(url: str) -> bytes:
    """Everything SQLite keeps of the database at `url`: the file, its write-ahead log, its index."""
    main = Path(make_url(url).database)
    return b"".join(path.read_bytes() for path in (main, Path(f"{main}-wal"), Path(f"{main}-shm")) if path.exists())


def middle(value: bytes) -> bytes:
    """32 bytes from the middle of a stored value: found only if the value is still there."""
    start = len(value) // 2 - 16
    return value[start:start + 32]


def test_an_erased_message_and_file_leave_no_trace_in_the_database_the_blobs_or_the_shred_store(installation):
    # SQLite's files, whatever the engine under test: what PostgreSQL keeps on disk after a delete
    # is its own (docs/operations.md 5), and the shred layer is what makes it useless there.
    there = installation(sqlite=True)
    world, settings = there.world, there.world.ctx.settings
    sent = submit_api(there.testapp, text="Something is wrong on ward 7.")
    headers = there.headers()
    ref = sent["case"]
    message_id = there.testapp.post_json(f"/api/v1/cases/{ref}/messages", {"text": f"{MARKER} in a reply"},
                                         headers=headers, status=201).json["id"]
    file_id = int(there.testapp.post(f"/api/v1/cases/{ref}/attachments", f"{MARKER} in a file ".encode() * 500,
                                     headers={**headers, "X-Filename": "notes.txt", "Content-Type": "text/plain"},
                                     status=201).json["id"])
    with world.session() as dbsession:
        row = dbsession.get(Attachment, file_id)
        meta_id, blob_name = row.meta_item_id, row.blob_name
        stored = {name: bytes(value) for name, value in dbsession.execute(text(
            "SELECT 'message', ciphertext FROM case_items WHERE id = :message UNION ALL "
            "SELECT 'meta', ciphertext FROM case_items WHERE id = :meta UNION ALL "
            "SELECT 'header', sealed_header FROM attachments WHERE id = :file"),
            {"message": message_id, "meta": meta_id, "file": file_id}).all()}
        handles = [dbsession.get(CaseItem, message_id).shred_handle, dbsession.get(CaseItem, meta_id).shred_handle,
                   row.shred_handle]
        keys = shred_store_of(dbsession).keys(handles)
        store_url = shred_store_of(dbsession).url
    blob = Path(settings.storage_dir, blob_name).read_bytes()
    assert len(keys) == 3 and all(middle(value) in files_of(settings.db_url) for value in stored.values())

    for item_id, reason in ((message_id, "sent-in-error"), (meta_id, "manifestly-irrelevant")):
        there.testapp.post_json(f"/api/v1/cases/{ref}/erasures", {"item_id": item_id, "reason": reason},
                                headers=headers, status=200)

    database = files_of(settings.db_url)
    for name, value in stored.items():
        assert middle(value) not in database, f"the {name} is still in the database's files"
    blobs = b"".join(path.read_bytes() for path in Path(settings.storage_dir).rglob("*") if path.is_file())
    assert middle(blob) not in blobs and not Path(settings.storage_dir, blob_name).exists()
    store = files_of(store_url)
    assert all(key not in store and handle not in store for handle, key in keys.items())
    assert MARKER.encode() not in database + blobs + store
    with world.session() as dbsession:
        case = dbsession.scalars(select(Case).where(Case.ref == ref)).one()
        erased = {item.id: item.erased_reason for item in case.items if item.erased_on is not None}
    assert erased == {message_id: "sent-in-error", meta_id: "manifestly-irrelevant"}
