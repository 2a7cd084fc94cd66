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
from whistle.attachments.models import PendingUpload, PendingUploadChunk
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
    with testapp.app.registry.blob_store.open(row.blob_name) as stored:
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
