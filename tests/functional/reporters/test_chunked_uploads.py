"""Files a reporter's client encrypts itself and uploads in chunks (docs/attachments.md, docs/crypto.md
7.2): the contract's calls and checks, and that such a file is an ordinary attachment afterwards."""
from __future__ import annotations

import base64
import io
import json
import os

import jsonschema
import pytest
from sqlalchemy import func, select
from webtest import TestApp

from tests.factories import api_login, make_channel, make_staff, submit_api
from tests.functional.reporters.test_mailbox_api import reporter_login, small_limits_app
from whistle import crypto
from whistle.attachments.blobs import STAGING
from whistle.attachments.models import PendingUpload, PendingUploadChunk
from whistle.attachments.services import open_blob
from whistle.audit.models import AuditEvent
from whistle.cases.models import HOLDER_REPORTER, Attachment, Case, CaseGrant, CaseItem
from whistle.notifications.models import Notification

OCTETS = "application/octet-stream"


class ClientFile:
    """A file as a reporter's client encrypts it: the stream envelope's upload chunks (header, each
    full chunk, the final one) and the attachment-meta item, to the case public key."""

    def __init__(self, case: Case, plaintext: bytes, name: str = "rota.pdf", content_type: str = "application/pdf"):
        encryptor = crypto.StreamEncryptor(case.public_key, case=case.ref, kind="attachment", author="reporter")
        self.chunks = [encryptor.header]
        for start in range(0, len(plaintext) - len(plaintext) % crypto.CHUNK_SIZE, crypto.CHUNK_SIZE):
            self.chunks.append(encryptor.push(plaintext[start:start + crypto.CHUNK_SIZE]))
        self.chunks.append(encryptor.push(plaintext[len(plaintext) - len(plaintext) % crypto.CHUNK_SIZE:])
                           + encryptor.finish())
        self.blob = b"".join(self.chunks)
        meta = json.dumps({"name": name, "size": len(plaintext), "type": content_type}).encode()
        self.meta = base64.b64encode(crypto.encrypt_item(case.public_key, meta, case=case.ref, kind="attachment-meta",
                                                         author="reporter")).decode()
        self.shape = {"chunks": len(self.chunks), "bytes": len(self.blob)}


@pytest.fixture
def guardian(dbsession, settings, clock):
    make_channel(dbsession)
    return make_staff(dbsession, settings, clock, channels=["staff"])


@pytest.fixture
def reporter(testapp, dbsession, guardian):
    """A case and its reporter's session: (bearer headers, case, receipt)."""
    sent = submit_api(testapp)
    case = dbsession.scalars(select(Case).where(Case.ref == sent["case"])).one()
    return reporter_login(testapp, sent["receipt"]), case, sent["receipt"]


def put(testapp, headers, upload_id, index, data, **kwargs):
    return testapp.put(f"/api/v1/reporter/uploads/{upload_id}/{index}", data,
                       headers=dict(headers, **{"Content-Type": OCTETS}), **kwargs)


def documented(testapp, path, method, status):
    document = testapp.get("/api/v1/openapi.json").json
    schema = document["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]
    return dict(schema, components=document["components"])


def test_a_file_in_chunks_out_of_order_and_resent_is_an_ordinary_attachment(testapp, dbsession, settings, clock,
                                                                            guardian, reporter):
    headers, case, receipt = reporter
    plaintext = os.urandom(3 * crypto.CHUNK_SIZE + 1000)
    file = ClientFile(case, plaintext, name="Dienstplan Station 7.pdf")
    notices = dbsession.scalar(select(func.count()).select_from(Notification))

    begun = testapp.post_json("/api/v1/reporter/uploads", file.shape, headers=headers, status=201).json
    jsonschema.validate(begun, documented(testapp, "/api/v1/reporter/uploads", "post", "201"))
    assert begun["chunks"] == 5 and len(begun["id"]) >= 43
    for index in (3, 0, 4, 1):
        put(testapp, headers, begun["id"], index, file.chunks[index], status=204)
    put(testapp, headers, begun["id"], 3, file.chunks[3], status=204)  # sent again: the answer was lost
    state = testapp.get(f"/api/v1/reporter/uploads/{begun['id']}", headers=headers).json
    assert state == {"id": begun["id"], "chunks": 5, "received": [0, 1, 3, 4]}
    jsonschema.validate(state, documented(testapp, "/api/v1/reporter/uploads/{upload}", "get", "200"))
    put(testapp, headers, begun["id"], 2, file.chunks[2], status=204)
    done = testapp.post_json(f"/api/v1/reporter/uploads/{begun['id']}/done", {"meta": file.meta}, headers=headers,
                             status=201).json
    jsonschema.validate(done, documented(testapp, "/api/v1/reporter/uploads/{upload}/done", "post", "201"))
    assert done["bytes"] == len(file.blob)

    row = dbsession.get(Attachment, done["id"])
    meta_item = dbsession.get(CaseItem, row.meta_item_id)
    assert (row.author, row.account_id, row.stored_bytes) == ("reporter", None, len(file.blob))
    assert (meta_item.kind, meta_item.author, meta_item.ciphertext[:2]) == ("attachment-meta", "reporter", b"\x02\x02")
    with open_blob(testapp.app.registry.blob_store, row) as stored:
        assert stored.read() == file.blob, "the concatenation, byte for byte the client's stream envelope"
    assert dbsession.scalar(select(func.count()).select_from(PendingUpload)) == 0
    assert dbsession.scalar(select(func.count()).select_from(PendingUploadChunk)) == 0
    testapp.get(f"/api/v1/reporter/uploads/{begun['id']}", headers=headers, status=404)
    # As for a file the server encrypted: recorded, and the guardian told (a content-free notice).
    assert dbsession.scalars(select(AuditEvent.detail).where(
        AuditEvent.action == "reporter.attachment_added", AuditEvent.case_id == case.id)).all() == [{"files": 1}]
    assert dbsession.scalar(select(func.count()).select_from(Notification)) == notices + 1

    # The guardian's workspace lists and downloads it as any file, decrypted with the guardian's key.
    staff = api_login(testapp, guardian, clock)
    listed = testapp.get(f"/api/v1/cases/{case.ref}", headers=staff).json["attachments"]
    assert [(a["id"], a["name"], a["size"]) for a in listed] == [(row.id, "Dienstplan Station 7.pdf", len(plaintext))]
    got = testapp.get(f"/api/v1/cases/{case.ref}/attachments/{row.id}", headers=staff)
    assert got.body == plaintext

    # The reporter's client takes the ciphertext and decrypts it with the case key its receipt opens.
    blob = testapp.get(f"/api/v1/reporter/attachments/{row.id}/blob", headers=headers)
    assert blob.content_type == OCTETS and blob.body == file.blob
    assert int(blob.headers["Content-Length"]) == len(file.blob)
    reporter_keys = crypto.derive_reporter_keys(receipt, settings.lookup_pepper, settings.receipt_kdf)
    grant = dbsession.scalars(select(CaseGrant).where(CaseGrant.case_id == case.id,
                                                      CaseGrant.holder == HOLDER_REPORTER)).one()
    case_keys = crypto.KeyPair.from_private(crypto.unseal(reporter_keys.keypair, grant.sealed_case_key))
    assert b"".join(crypto.decrypt_stream(case_keys, io.BytesIO(blob.body), case=case.ref, author="reporter")) == plaintext
    # And the mailbox (server-assisted) shows it like any other.
    mailbox = testapp.get("/api/v1/reporter/case", headers=headers).json
    assert [(a["id"], a["name"]) for a in mailbox["attachments"]] == [(row.id, "Dienstplan Station 7.pdf")]


def counts(dbsession) -> tuple[int, int, int]:
    return tuple(dbsession.scalar(select(func.count()).select_from(table))
                 for table in (PendingUpload, PendingUploadChunk, Attachment))


def fields_of(problem: dict) -> set[str]:
    return {error["field"] for error in problem.get("errors", [])}


def test_an_upload_must_have_the_shape_of_some_files_stream(testapp, dbsession, reporter):
    headers, case, _ = reporter
    empty = crypto.stream_ciphertext_size(0)
    for body in ({"chunks": 2, "bytes": empty + 1}, {"chunks": 1, "bytes": empty}, {"chunks": 3, "bytes": empty},
                 {"chunks": 2, "bytes": crypto.STREAM_HEADER_BYTES + crypto.STREAM_CHUNK_BYTES + 256}):
        refused = testapp.post_json("/api/v1/reporter/uploads", body, headers=headers, status=422).json
        assert fields_of(refused) == {"chunks", "bytes"}, body
    refused = testapp.post_json("/api/v1/reporter/uploads", {"chunks": True, "bytes": "379", "size": 1},
                                headers=headers, status=422).json
    assert fields_of(refused) == {"chunks", "bytes", "size"}
    assert counts(dbsession) == (0, 0, 0), "a refusal makes nothing"
    for size in (0, 255, 256, crypto.CHUNK_SIZE - 1, crypto.CHUNK_SIZE, 5 * crypto.CHUNK_SIZE + 7):
        shape = {"chunks": crypto.stream_chunk_count(size), "bytes": crypto.stream_ciphertext_size(size)}
        testapp.post_json("/api/v1/reporter/uploads", shape, headers=headers, status=201)
        testapp.delete(f"/api/v1/reporter/uploads/{dbsession.scalars(select(PendingUpload.public_id)).one()}",
                       headers=headers, status=204)


def test_the_file_limit_the_case_limit_and_the_unfinished_uploads_limit(raw_settings, clock, tm, dbsession, settings):
    app = small_limits_app(raw_settings, clock, max_file_bytes=1000, max_case_bytes=1500, max_unfinished_uploads=2)
    testapp = TestApp(app, extra_environ={"HTTP_HOST": "example.com", "tm.active": True, "tm.manager": tm,
                                          "app.dbsession": dbsession})
    make_channel(dbsession)
    make_staff(dbsession, settings, clock, channels=["staff"])
    headers = reporter_login(testapp, submit_api(testapp)["receipt"])

    def shape(size):
        return {"chunks": crypto.stream_chunk_count(size), "bytes": crypto.stream_ciphertext_size(size)}

    too_big = testapp.post_json("/api/v1/reporter/uploads", shape(1100), headers=headers, status=413).json
    assert "Each file can be at most" in too_big["detail"]
    testapp.post_json("/api/v1/reporter/uploads", shape(1000), headers=headers, status=201)
    # The first upload, unfinished, holds its room: a second one of the same size would not fit the case.
    over_case = testapp.post_json("/api/v1/reporter/uploads", shape(1000), headers=headers, status=413).json
    assert "together" in over_case["detail"]
    testapp.post_json("/api/v1/reporter/uploads", shape(100), headers=headers, status=201)
    too_many = testapp.post_json("/api/v1/reporter/uploads", shape(0), headers=headers, status=409).json
    assert "At most 2 files" in too_many["detail"]
    assert counts(dbsession)[0] == 2


def test_each_chunk_is_checked_and_a_refused_one_changes_nothing(testapp, dbsession, reporter):
    headers, case, _ = reporter
    file = ClientFile(case, os.urandom(crypto.CHUNK_SIZE + 10))
    upload = testapp.post_json("/api/v1/reporter/uploads", file.shape, headers=headers, status=201).json["id"]
    assert file.shape["chunks"] == 3
    path = f"/api/v1/reporter/uploads/{upload}"

    testapp.put(f"{path}/1", file.chunks[1], headers=dict(headers, **{"Content-Type": "text/plain"}), status=415)
    assert fields_of(put(testapp, headers, upload, 3, file.chunks[2], status=422).json) == {"index"}
    assert fields_of(put(testapp, headers, upload, 999999999, b"", status=422).json) == {"index"}
    assert fields_of(put(testapp, headers, upload, 1, file.chunks[1][:-1], status=422).json) == {"body"}
    assert fields_of(put(testapp, headers, upload, 2, file.chunks[2] + b"x", status=422).json) == {"body"}
    not_a_header = b"\x01" + file.chunks[0][1:]  # a stream of version 1: its author unbound
    assert fields_of(put(testapp, headers, upload, 0, not_a_header, status=422).json) == {"body"}
    assert counts(dbsession) == (1, 0, 0)

    put(testapp, headers, upload, 1, file.chunks[1], status=204)
    changed = bytearray(file.chunks[1])
    changed[100] ^= 1
    assert "other bytes" in put(testapp, headers, upload, 1, bytes(changed), status=409).json["detail"]
    put(testapp, headers, upload, 1, file.chunks[1], status=204)
    assert testapp.get(path, headers=headers).json["received"] == [1]
    assert counts(dbsession) == (1, 1, 0)


def test_another_case_s_reporter_finds_no_such_upload_and_no_such_file(testapp, dbsession, reporter):
    headers, case, _ = reporter
    file = ClientFile(case, b"%PDF- rota")
    upload = testapp.post_json("/api/v1/reporter/uploads", file.shape, headers=headers, status=201).json["id"]
    put(testapp, headers, upload, 0, file.chunks[0], status=204)
    mine = testapp.post("/api/v1/reporter/attachments", b"%PDF- mine", status=201,
                        headers=dict(headers, **{"Content-Type": "application/pdf", "X-Filename": "mine.pdf"})).json
    other = reporter_login(testapp, submit_api(testapp, text="Something else.")["receipt"])

    path = f"/api/v1/reporter/uploads/{upload}"
    testapp.get(path, headers=other, status=404)
    put(testapp, other, upload, 1, file.chunks[1], status=404)
    testapp.post_json(f"{path}/done", {"meta": file.meta}, headers=other, status=404)
    testapp.delete(path, headers=other, status=404)
    testapp.get(f"/api/v1/reporter/attachments/{mine['id']}/blob", headers=other, status=404)
    for unknown in ("x" * 43, "nope"):
        testapp.get(f"/api/v1/reporter/uploads/{unknown}", headers=headers, status=404)
    testapp.get(path, status=401)
    assert testapp.get(path, headers=headers).json["received"] == [0]
    # The reporter's own file that the server encrypted is there as ciphertext too.
    stored = dbsession.get(Attachment, mine["id"])
    blob = testapp.get(f"/api/v1/reporter/attachments/{mine['id']}/blob", headers=headers).body
    assert len(blob) == stored.stored_bytes and blob[:2] == b"\x02\x03"
    testapp.app.registry.blob_store.delete(stored.blob_name)
    testapp.get(f"/api/v1/reporter/attachments/{mine['id']}/blob", headers=headers, status=404)


def test_a_file_the_guardians_sent_is_the_reporter_s_and_an_internal_one_is_not(testapp, dbsession, clock, guardian,
                                                                                reporter):
    headers, case, _ = reporter
    staff = api_login(testapp, guardian, clock)
    sent = testapp.post(f"/api/v1/cases/{case.ref}/attachments", b"the policy", status=201, headers=dict(
        staff, **{"Content-Type": "text/plain", "X-Filename": "policy.txt"})).json
    internal = testapp.post(f"/api/v1/cases/{case.ref}/attachments?internal=true", b"minutes", status=201, headers=dict(
        staff, **{"Content-Type": "text/plain", "X-Filename": "minutes.txt"})).json
    blob = testapp.get(f"/api/v1/reporter/attachments/{sent['id']}/blob", headers=headers).body
    with open_blob(testapp.app.registry.blob_store, dbsession.get(Attachment, sent["id"])) as stored:
        assert blob == stored.read()
    testapp.get(f"/api/v1/reporter/attachments/{internal['id']}/blob", headers=headers, status=404)


def test_finishing_needs_every_chunk_and_an_item_and_a_refusal_keeps_the_upload(testapp, dbsession, reporter):
    headers, case, _ = reporter
    file = ClientFile(case, os.urandom(2 * crypto.CHUNK_SIZE))
    upload = testapp.post_json("/api/v1/reporter/uploads", file.shape, headers=headers, status=201).json["id"]
    done = f"/api/v1/reporter/uploads/{upload}/done"
    put(testapp, headers, upload, 1, file.chunks[1], status=204)
    missing = testapp.post_json(done, {"meta": file.meta}, headers=headers, status=409).json
    assert missing["missing"] == [0, 2, 3] and "0, 2, 3" in missing["detail"]
    for chunk in (0, 2, 3):
        put(testapp, headers, upload, chunk, file.chunks[chunk], status=204)

    version_one = b"\x01" + base64.b64decode(file.meta)[1:]
    too_long = crypto.encrypt_item(case.public_key, b"x" * 5000, case=case.ref, kind="attachment-meta",
                                   author="reporter")
    stream_not_item = file.chunks[0] + file.chunks[-1]
    for meta in ("not base64!", base64.b64encode(version_one).decode(), base64.b64encode(too_long).decode(),
                 base64.b64encode(stream_not_item).decode(), 17, None):
        refused = testapp.post_json(done, {"meta": meta}, headers=headers, status=422).json
        assert fields_of(refused) == {"meta"}, meta
    assert fields_of(testapp.post_json(done, {"meta": file.meta, "name": "x"}, headers=headers, status=422).json) \
        == {"name"}
    assert counts(dbsession) == (1, 4, 0)

    testapp.post_json(done, {"meta": file.meta}, headers=headers, status=201)
    testapp.post_json(done, {"meta": file.meta}, headers=headers, status=404)
    assert counts(dbsession) == (0, 0, 1)


def test_a_cancelled_upload_is_gone(testapp, dbsession, reporter):
    headers, case, _ = reporter
    file = ClientFile(case, b"draft")
    upload = testapp.post_json("/api/v1/reporter/uploads", file.shape, headers=headers, status=201).json["id"]
    put(testapp, headers, upload, 0, file.chunks[0], status=204)
    testapp.delete(f"/api/v1/reporter/uploads/{upload}", headers=headers, status=204)
    testapp.get(f"/api/v1/reporter/uploads/{upload}", headers=headers, status=404)
    put(testapp, headers, upload, 1, file.chunks[1], status=404)
    assert counts(dbsession) == (0, 0, 0)


def run_of(file: ClientFile, first: int, count: int) -> bytes:
    return b"".join(file.chunks[first:first + count])


def test_a_run_of_consecutive_chunks_in_one_request_and_sent_again(testapp, dbsession, reporter):
    headers, case, _ = reporter
    file = ClientFile(case, os.urandom(20 * crypto.CHUNK_SIZE + 300))
    assert file.shape["chunks"] == 22
    upload = testapp.post_json("/api/v1/reporter/uploads", file.shape, headers=headers, status=201).json["id"]
    path = f"/api/v1/reporter/uploads/{upload}"

    put(testapp, headers, upload, 0, run_of(file, 0, 16), status=204)  # the header and 15 chunks: the most
    assert testapp.get(path, headers=headers).json["received"] == list(range(16))
    put(testapp, headers, upload, 0, run_of(file, 0, 16), status=204)  # the same run again: the answer was lost
    put(testapp, headers, upload, 18, run_of(file, 18, 4), status=204)  # a run that ends with the last chunk
    # A run over chunks the server has, with their bytes, and new ones.
    put(testapp, headers, upload, 14, run_of(file, 14, 5), status=204)
    assert testapp.get(path, headers=headers).json["received"] == list(range(22))
    assert counts(dbsession) == (1, 22, 0)
    testapp.post_json(f"{path}/done", {"meta": file.meta}, headers=headers, status=201)
    row = dbsession.scalars(select(Attachment)).one()
    with open_blob(testapp.app.registry.blob_store, row) as stored:
        assert stored.read() == file.blob


def test_a_run_must_be_whole_chunks_and_one_with_other_bytes_changes_nothing(testapp, dbsession, reporter):
    headers, case, _ = reporter
    file = ClientFile(case, os.urandom(20 * crypto.CHUNK_SIZE + 300))
    upload = testapp.post_json("/api/v1/reporter/uploads", file.shape, headers=headers, status=201).json["id"]
    path = f"/api/v1/reporter/uploads/{upload}"

    for index, body in ((0, run_of(file, 0, 17)),  # 17 chunks: one too many
                        (1, run_of(file, 1, 3)[:-1]),  # a chunk cut short
                        (1, run_of(file, 1, 2) + b"x"),  # a byte into the next chunk
                        (20, run_of(file, 20, 2) + b"x"),  # past the last chunk
                        (5, b"")):
        refused = put(testapp, headers, upload, index, body, status=422).json
        assert fields_of(refused) == {"body"}, (index, len(body))
    not_a_header = b"\x01" + run_of(file, 0, 3)[1:]
    assert fields_of(put(testapp, headers, upload, 0, not_a_header, status=422).json) == {"body"}
    assert fields_of(put(testapp, headers, upload, 22, file.chunks[-1], status=422).json) == {"index"}
    assert counts(dbsession) == (1, 0, 0)

    put(testapp, headers, upload, 3, file.chunks[3], status=204)
    changed = bytearray(run_of(file, 1, 4))
    changed[2 * crypto.STREAM_CHUNK_BYTES + 5] ^= 1  # in chunk 3, which the server has
    refused = put(testapp, headers, upload, 1, bytes(changed), status=409).json
    assert "Chunk 3" in refused["detail"]
    assert testapp.get(path, headers=headers).json["received"] == [3], "chunks 1, 2 and 4 were not kept either"
    staged = testapp.app.registry.blob_store.stage_read(dbsession.scalars(select(PendingUpload.staged_name)).one(),
                                                        crypto.stream_chunk_offset(3), crypto.STREAM_CHUNK_BYTES)
    assert staged == file.chunks[3]
    put(testapp, headers, upload, 1, run_of(file, 1, 4), status=204)
    assert testapp.get(path, headers=headers).json["received"] == [1, 2, 3, 4]


def test_a_chunk_lost_from_the_disk_before_the_end_is_asked_for_again(testapp, dbsession, reporter):
    headers, case, _ = reporter
    file = ClientFile(case, os.urandom(5 * crypto.CHUNK_SIZE + 300))
    upload = testapp.post_json("/api/v1/reporter/uploads", file.shape, headers=headers, status=201).json["id"]
    path = f"/api/v1/reporter/uploads/{upload}"
    put(testapp, headers, upload, 0, run_of(file, 0, 7), status=204)
    store = testapp.app.registry.blob_store
    staged = store.directory / STAGING / dbsession.scalars(select(PendingUpload.staged_name)).one()

    # What a crash before the chunks were synced can leave: chunk 2 never reached the disk.
    with staged.open("r+b") as handle:
        handle.seek(crypto.stream_chunk_offset(2) + 1000)
        handle.write(b"\0" * 100)
    refused = testapp.post_json(f"{path}/done", {"meta": file.meta}, headers=headers, status=409).json
    assert refused["missing"] == [2] and "2" in refused["detail"]
    assert counts(dbsession) == (1, 7, 0), "nothing is published"
    put(testapp, headers, upload, 2, file.chunks[2], status=204)  # sent again, with the bytes the server recorded
    # Or the file's end was lost: the last two chunks.
    os.truncate(staged, crypto.stream_chunk_offset(5) + 10)
    assert testapp.post_json(f"{path}/done", {"meta": file.meta}, headers=headers, status=409).json["missing"] == [5, 6]
    put(testapp, headers, upload, 5, run_of(file, 5, 2), status=204)

    done = testapp.post_json(f"{path}/done", {"meta": file.meta}, headers=headers, status=201).json
    with open_blob(store, dbsession.get(Attachment, done["id"])) as stored:
        assert stored.read() == file.blob
