"""A file in chunks from an end-to-end session (the lookup value's, holding no key) on a case built
on the device: uploaded, listed in the envelopes, read by the guardian, and decrypted by the device."""
from __future__ import annotations

import base64
import io
import json
import os

from tests.factories import api_login, bearer, build_client_case, send_client_case
from whistle import crypto


def test_an_end_to_end_session_sends_a_file_in_chunks(testapp, settings, clock, team):
    built = build_client_case(testapp, settings, clock)
    headers = bearer(send_client_case(testapp, built)["token"])
    plaintext = os.urandom(crypto.CHUNK_SIZE + 300)
    encryptor = crypto.StreamEncryptor(built.case_keys.public, case=built.ref, kind="attachment", author="reporter")
    chunks = [encryptor.header, encryptor.push(plaintext[:crypto.CHUNK_SIZE]),
              encryptor.push(plaintext[crypto.CHUNK_SIZE:]) + encryptor.finish()]
    meta = crypto.encrypt_item(built.case_keys.public, json.dumps({"name": "rota.pdf", "size": len(plaintext),
                                                                   "type": "application/pdf"}).encode(),
                               case=built.ref, kind="attachment-meta", author="reporter")

    upload = testapp.post_json("/api/v1/reporter/uploads", {"chunks": 3, "bytes": sum(map(len, chunks))},
                               headers=headers, status=201).json["id"]
    for index in (2, 0, 1, 2):
        testapp.put(f"/api/v1/reporter/uploads/{upload}/{index}", chunks[index],
                    headers=dict(headers, **{"Content-Type": "application/octet-stream"}), status=204)
    done = testapp.post_json(f"/api/v1/reporter/uploads/{upload}/done", {"meta": base64.b64encode(meta).decode()},
                             headers=headers, status=201).json

    envelopes = testapp.get("/api/v1/reporter/envelopes", headers=headers).json
    [listed] = envelopes["attachments"]
    assert (listed["id"], listed["bytes"], listed["author"]) == (done["id"], done["bytes"], "reporter")
    [meta_item] = [item for item in envelopes["items"] if item["id"] == listed["meta_item"]]
    assert base64.b64decode(meta_item["ciphertext"]) == meta
    blob = testapp.get(f"/api/v1/reporter/attachments/{done['id']}/blob", headers=headers).body
    assert b"".join(crypto.decrypt_stream(built.case_keys, io.BytesIO(blob), case=built.ref,
                                          author="reporter")) == plaintext

    staff = api_login(testapp, team.first, clock)
    listed = testapp.get(f"/api/v1/cases/{built.ref}", headers=staff).json["attachments"]
    assert [(a["name"], a["size"]) for a in listed] == [("rota.pdf", len(plaintext))]
    assert testapp.get(f"/api/v1/cases/{built.ref}/attachments/{done['id']}", headers=staff).body == plaintext
