"""A file a client encrypted itself, uploaded in chunks through the real waitress server: out of
order and with a chunk sent twice, finished, then downloaded by the guardian (decrypted with their
key) and by the reporter (the ciphertext, decrypted here). Committed for real, so the staging area
is empty afterwards; and neither the file's bytes nor its name are anywhere at rest or in the log."""
from __future__ import annotations

import base64
import io
import json
import os
import secrets
import sqlite3

from tests.e2e.reporter_helpers import call, call_json, file_contains, guardian_headers
from tests.e2e.server import ROOT
from whistle import crypto


def test_a_file_in_chunks_through_waitress(running_server):
    server = running_server
    server.whistle("channels", "load", str(ROOT / "config" / "channels.toml"))
    status, sent = call_json(server.port, "POST", "/api/v1/disclosures",
                             {"channel": "raise-a-concern", "text": "The rota is unsafe.", "answers": {"ongoing": "yes"}})
    assert status == 201, sent
    status, session = call_json(server.port, "POST", "/api/v1/reporter/session", {"receipt": sent["receipt"]})
    reporter = {"Authorization": f"Bearer {session['token']}"}
    with sqlite3.connect(f"file:{server.directory / 'var' / 'whistle.sqlite'}?mode=ro", uri=True) as database:
        public_key = database.execute("SELECT public_key FROM cases WHERE ref = ?", (sent["case"],)).fetchone()[0]

    # What the reporter's client does: encrypt to the case public key, chunk by chunk.
    marker = f"FILEBODY{secrets.token_hex(6)}".encode()
    name = f"FILENAME{secrets.token_hex(6)}.txt"
    plaintext = (marker + os.urandom(1000)) * 300  # 300 KiB and a little: five full chunks and a final one
    encryptor = crypto.StreamEncryptor(public_key, case=sent["case"], kind="attachment", author="reporter")
    chunks = [encryptor.header]
    whole = len(plaintext) - len(plaintext) % crypto.CHUNK_SIZE
    chunks += [encryptor.push(plaintext[i:i + crypto.CHUNK_SIZE]) for i in range(0, whole, crypto.CHUNK_SIZE)]
    chunks.append(encryptor.push(plaintext[whole:]) + encryptor.finish())
    meta = crypto.encrypt_item(public_key, json.dumps({"name": name, "size": len(plaintext), "type": "text/plain"})
                               .encode(), case=sent["case"], kind="attachment-meta", author="reporter")

    status, begun = call_json(server.port, "POST", "/api/v1/reporter/uploads",
                              {"chunks": len(chunks), "bytes": sum(map(len, chunks))}, reporter)
    assert status == 201, begun
    octets = dict(reporter, **{"Content-Type": "application/octet-stream"})
    for index in [*reversed(range(len(chunks))), 2]:
        status, _, body = call(server.port, "PUT", f"/api/v1/reporter/uploads/{begun['id']}/{index}", chunks[index],
                               octets)
        assert status == 204, body
    status, done = call_json(server.port, "POST", f"/api/v1/reporter/uploads/{begun['id']}/done",
                             {"meta": base64.b64encode(meta).decode()}, reporter)
    assert status == 201 and done["bytes"] == sum(map(len, chunks)), done
    assert list((server.directory / "var" / "blobs" / "staging").iterdir()) == [], "nothing staged once committed"

    staff = guardian_headers(server)
    status, case = call_json(server.port, "GET", f"/api/v1/cases/{sent['case']}", headers=staff, source="127.0.0.3")
    assert [(a["id"], a["name"], a["size"]) for a in case["attachments"]] == [(done["id"], name, len(plaintext))]
    status, _, got = call(server.port, "GET", f"/api/v1/cases/{sent['case']}/attachments/{done['id']}", headers=staff,
                          source="127.0.0.3")
    assert status == 200 and got == plaintext

    status, headers, blob = call(server.port, "GET", f"/api/v1/reporter/attachments/{done['id']}/blob",
                                 headers=reporter)
    assert status == 200 and blob == b"".join(chunks) and headers["Content-Type"] == "application/octet-stream"
    case_key = _reporters_case_key(server, sent["case"], sent["receipt"])
    assert b"".join(crypto.decrypt_stream(case_key, io.BytesIO(blob), case=sent["case"], author="reporter")) \
        == plaintext

    server.stop()
    for path in [*server.files_at_rest(), server.log]:
        assert file_contains(path, [marker, name.encode()]) == [], path


def _reporters_case_key(server, ref: str, receipt: str) -> crypto.KeyPair:
    """The case key as the reporter's receipt opens it: the reporter's key pair from the receipt (the
    server's pepper and the test server's receipt cost), and the case key sealed to it, stored under
    the case's shred key (docs/crypto.md 5.10), which the shred key store beside the database holds."""
    pepper = base64.b64decode((server.directory / "var" / "keys" / "lookup_pepper").read_text())
    reporter = crypto.derive_reporter_keys(receipt, pepper, crypto.KdfCost(opslimit=1, memlimit=8192))
    with sqlite3.connect(f"file:{server.directory / 'var' / 'whistle.sqlite'}?mode=ro", uri=True) as database:
        wrapped, handle = database.execute(
            "SELECT sealed_case_key, shred_handle FROM case_grants JOIN cases ON cases.id = case_grants.case_id"
            " WHERE cases.ref = ? AND holder = 'reporter'", (ref,)).fetchone()
    with sqlite3.connect(f"file:{server.directory / 'var' / 'shred-keys.sqlite'}?mode=ro", uri=True) as store:
        [key] = store.execute("SELECT key FROM shred_keys WHERE handle = ?", (handle,)).fetchone()
    sealed = crypto.shred_unwrap(key, handle, "grant.case_key", wrapped)
    return crypto.KeyPair.from_private(crypto.unseal(reporter.keypair, sealed))
