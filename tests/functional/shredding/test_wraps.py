"""What the shred layer stores: every grant's sealed keys under the case's shred key, every item under
its own, every file's first 82 bytes out of its blob and under the file's key (docs/crypto.md 5.10);
what it hands out is what was handed out before. Rows stored before it are read as they are, and
the tick's "shred wraps" job wraps them."""
from __future__ import annotations

import base64
from pathlib import Path

from sqlalchemy import select, text

from tests.factories import api_login, guardian_keypair, make_channel, make_staff, submit_api
from whistle import crypto
from whistle.accounts.models import Account
from whistle.attachments.services import HEADER_BYTES, open_blob
from whistle.cases.models import Attachment, Case, CaseGrant, CaseItem
from whistle.shredding import shred_store_of

FILE = b"The rota for March, as it was before it was changed. " * 40


def unwrapped_by_hand(dbsession, handle: bytes, purpose: str, stored: bytes) -> bytes:
    [key] = shred_store_of(dbsession).keys([handle]).values()
    return crypto.shred_unwrap(key, handle, purpose, stored)


def test_grants_items_and_file_headers_are_stored_wrapped_and_read_back_as_before(testapp, dbsession, settings,
                                                                                  clock):
    make_channel(dbsession)
    guardian = make_staff(dbsession, settings, clock, channels=["staff"])
    ref = submit_api(testapp, text="The fire doors are chained shut.")["case"]
    headers = api_login(testapp, guardian, clock)
    file_id = testapp.post(f"/api/v1/cases/{ref}/attachments", FILE,
                           headers={**headers, "X-Filename": "rota.txt", "Content-Type": "text/plain"},
                           status=201).json["id"]
    dbsession.flush()
    case = dbsession.scalars(select(Case).where(Case.ref == ref)).one()
    assert case.shred_handle is not None and len(case.shred_handle) == 16

    keypair = guardian_keypair(dbsession.get(Account, guardian.account.id))
    for grant_id, stored in dbsession.execute(text("SELECT id, sealed_case_key FROM case_grants WHERE case_id = :id"),
                                              {"id": case.id}).all():
        stored = bytes(stored)
        assert stored[:2] == b"\x01\x0a", "a shred wrap (docs/crypto.md 5.10)"
        sealed = unwrapped_by_hand(dbsession, case.shred_handle, "grant.case_key", stored)
        assert dbsession.get(CaseGrant, grant_id).sealed_case_key == sealed
    own = dbsession.scalars(select(CaseGrant).where(CaseGrant.account_id == guardian.account.id)).one()
    case_keys = crypto.KeyPair.from_private(crypto.unseal(keypair, own.sealed_case_key))
    assert case_keys.public == case.public_key
    for item_id, stored, handle in dbsession.execute(text(
            "SELECT id, ciphertext, shred_handle FROM case_items WHERE case_id = :id"), {"id": case.id}).all():
        envelope = unwrapped_by_hand(dbsession, bytes(handle), "item", bytes(stored))
        assert envelope[:2] == b"\x02\x02" and dbsession.get(CaseItem, item_id).ciphertext == envelope
    assert len({bytes(h) for (h,) in dbsession.execute(text("SELECT shred_handle FROM case_items"))}) == len(
        case.items), "each item has a key of its own"

    row = dbsession.get(Attachment, int(file_id))
    blob = Path(settings.storage_dir, row.blob_name).read_bytes()
    assert blob[:HEADER_BYTES] == bytes(HEADER_BYTES), "the blob store keeps no header and no file key"
    with open_blob(testapp.app.registry.blob_store, row) as source:
        envelope = source.read()
    assert envelope[:2] == b"\x02\x03" and envelope[HEADER_BYTES:] == blob[HEADER_BYTES:]
    assert testapp.get(f"/api/v1/cases/{ref}/attachments/{file_id}", headers=headers).body == FILE


def make_legacy(dbsession, store_dir: str, ref: str) -> None:
    """Store the case as it was before the shred layer: no handles, nothing wrapped, the blob whole."""
    case = dbsession.scalars(select(Case).where(Case.ref == ref)).one()
    for grant in case.grants:
        dbsession.execute(text("UPDATE case_grants SET sealed_case_key = :c, sealed_team_key = :t WHERE id = :id"),
                          {"c": grant.sealed_case_key, "t": grant.sealed_team_key, "id": grant.id})
    for item in case.items:
        dbsession.execute(text("UPDATE case_items SET ciphertext = :c, shred_handle = NULL WHERE id = :id"),
                          {"c": item.ciphertext, "id": item.id})
    for row in dbsession.scalars(select(Attachment).where(Attachment.case_id == case.id)):
        blob = Path(store_dir, row.blob_name)
        blob.write_bytes(row.header + blob.read_bytes()[HEADER_BYTES:])
        dbsession.execute(text("UPDATE attachments SET sealed_header = NULL, shred_handle = NULL WHERE id = :id"),
                          {"id": row.id})
    dbsession.execute(text("UPDATE cases SET shred_handle = NULL WHERE id = :id"), {"id": case.id})


def test_rows_stored_before_the_shred_layer_are_read_as_they_are_and_wrapped_by_the_tick(installation):
    there = installation()
    world, settings = there.world, there.world.ctx.settings
    ref = submit_api(there.testapp, text="The fire doors are chained shut.")["case"]
    headers = there.headers()
    there.testapp.post_json(f"/api/v1/cases/{ref}/messages", {"text": "We are looking into it."}, headers=headers,
                            status=201)
    file_id = there.testapp.post(f"/api/v1/cases/{ref}/attachments", FILE,
                                 headers={**headers, "X-Filename": "rota.txt", "Content-Type": "text/plain"},
                                 status=201).json["id"]
    with world.session() as dbsession:
        make_legacy(dbsession, str(settings.storage_dir), ref)
    with world.session() as dbsession:
        assert dbsession.scalar(text("SELECT count(*) FROM case_items WHERE shred_handle IS NOT NULL")) == 0
        before = base64.b64encode(bytes(dbsession.scalar(text("SELECT sealed_case_key FROM case_grants LIMIT 1"))))

    read = there.testapp.get(f"/api/v1/cases/{ref}", headers=headers).json
    assert read["text"] == "The fire doors are chained shut." and read["messages"][0]["text"] == "We are looking into it."
    assert there.testapp.get(f"/api/v1/cases/{ref}/attachments/{file_id}", headers=headers).body == FILE

    lines = world.tick()
    assert any(line.startswith("shred wraps: 1 cases, ") and line.endswith(" items, 1 files wrapped")
               for line in lines), lines
    with world.session() as dbsession:
        case = dbsession.scalars(select(Case).where(Case.ref == ref)).one()
        assert case.shred_handle is not None
        assert all(bytes(value)[:2] == b"\x01\x0a" for (value,) in dbsession.execute(text(
            "SELECT sealed_case_key FROM case_grants UNION ALL SELECT ciphertext FROM case_items "
            "UNION ALL SELECT sealed_header FROM attachments")))
        assert base64.b64encode(bytes(dbsession.scalar(text("SELECT sealed_case_key FROM case_grants LIMIT 1")))) != before
        blob_name = dbsession.get(Attachment, int(file_id)).blob_name
        assert Path(settings.storage_dir, blob_name).read_bytes()[:HEADER_BYTES] == bytes(HEADER_BYTES)
    assert [path.name for path in Path(settings.storage_dir).iterdir() if path.is_file()] == [blob_name], \
        "the blob that held the header is gone"
    read = there.testapp.get(f"/api/v1/cases/{ref}", headers=headers).json
    assert read["text"] == "The fire doors are chained shut." and read["messages"][0]["text"] == "We are looking into it."
    assert there.testapp.get(f"/api/v1/cases/{ref}/attachments/{file_id}", headers=headers).body == FILE
    assert not any(line.startswith("shred wraps") for line in world.tick()), "nothing left to wrap"


def test_a_value_written_after_its_row_expired_is_still_wrapped_when_the_row_is_read_again(testapp, dbsession,
                                                                                          settings, clock):
    make_channel(dbsession)
    make_staff(dbsession, settings, clock, channels=["staff"])
    ref = submit_api(testapp, text="The fire doors are chained shut.")["case"]
    dbsession.flush()
    item = dbsession.scalars(select(CaseItem).join(Case).where(Case.ref == ref, CaseItem.kind == "disclosure")).one()
    envelope = item.ciphertext
    dbsession.expire(item)  # as a commit leaves it
    item.ciphertext = envelope[:-1] + bytes([envelope[-1] ^ 1])  # written...
    assert item.kind == "disclosure"  # ...then the row's other columns loaded again
    dbsession.flush()
    stored = bytes(dbsession.scalar(text("SELECT ciphertext FROM case_items WHERE id = :id"), {"id": item.id}))
    assert stored[:2] == b"\x01\x0a"
    assert unwrapped_by_hand(dbsession, item.shred_handle, "item", stored) == envelope[:-1] + bytes([envelope[-1] ^ 1])
