"""A 200 MiB attachment through the real waitress server: flat memory, no plaintext on disk at any
moment (the server's open files are scanned mid-upload, including unlinked temporary files), and
the guardian downloads identical bytes."""
from __future__ import annotations

import hashlib
import os
import tempfile
import time
from pathlib import Path

import pytest

from tests.e2e.reporter_helpers import call, call_json, file_contains, guardian_headers, memory_of, open_files_of

SIZE = 200 * 1024 * 1024
BLOCK = 1024 * 1024
MIB = 1024 * 1024


@pytest.fixture
def server(running_server):
    return running_server


def test_a_200_mib_upload_streams_encrypted_with_flat_memory(server):
    marker = b"UPLOADMARKER" + os.urandom(8).hex().encode()
    block = marker + os.urandom(BLOCK - 2 * len(marker)) + marker
    temp_dir = Path(tempfile.gettempdir())
    temp_before = set(temp_dir.iterdir())

    status, sent = call_json(server.port, "POST", "/api/v1/disclosures",
                             {"channel": "raise-a-concern", "text": "See the attached export.", "answers": {"ongoing": "yes"}})
    assert status == 201, sent
    status, session = call_json(server.port, "POST", "/api/v1/reporter/session", {"receipt": sent["receipt"]})
    assert status == 200
    reporter = {"Authorization": f"Bearer {session['token']}"}
    # Warm up the code paths a small upload uses, then take the baseline.
    status, _, _ = call(server.port, "POST", "/api/v1/reporter/attachments", b"warm-up",
                        dict(reporter, **{"Content-Type": "text/plain", "X-Filename": "warm.txt"}))
    assert status == 201
    baseline = memory_of(server.process.pid)

    digest = hashlib.sha256()
    leaks_mid_upload = []

    def body():
        for index in range(SIZE // BLOCK):
            if index == SIZE // BLOCK // 2:
                # Half-way: everything the server has open on disk right now (waitress's spool is
                # an unlinked temporary file, only reachable through /proc) holds no plaintext.
                for path in open_files_of(server.process.pid):
                    if file_contains(path, [marker]):
                        leaks_mid_upload.append(os.readlink(path))
            digest.update(block)
            yield block

    headers = dict(reporter, **{"Content-Type": "application/octet-stream", "X-Filename": "export%20%C3%A9.bin",
                                "Content-Length": str(SIZE)})
    status, _, raw = call(server.port, "POST", "/api/v1/reporter/attachments", body(), headers)
    assert status == 201, raw
    after = memory_of(server.process.pid)
    assert leaks_mid_upload == [], f"plaintext found in open files: {leaks_mid_upload}"
    growth = after["VmHWM"] - max(baseline["VmRSS"], 0)
    assert growth < 64 * MIB, f"server memory grew by {growth / MIB:.1f} MiB"

    # No file at rest (database, WAL, blobs, keys) and no temp file made meanwhile holds the marker.
    new_temp = [path for path in set(temp_dir.iterdir()) - temp_before if path.is_file()]
    everything = [path for path in server.directory.rglob("*") if path.is_file()] + new_temp
    assert any(path.parent.name == "blobs" and path.stat().st_size > SIZE for path in everything)
    assert [path for path in everything if file_contains(path, [marker])] == []

    # The guardian downloads identical bytes, streamed.
    case = sent["case"]
    staff = guardian_headers(server)
    status, listing = call_json(server.port, "GET", "/api/v1/reporter/case", headers=reporter)
    big = next(a for a in listing["attachments"] if a["name"] == "export é.bin")
    assert big["size"] == SIZE

    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120, source_address=("127.0.0.3", 0))
    try:
        connection.request("GET", f"/api/v1/cases/{case}/attachments/{big['id']}", headers=staff)
        response = connection.getresponse()
        assert response.status == 200
        assert response.headers["Content-Disposition"].startswith("attachment;")
        downloaded = hashlib.sha256()
        leaks_mid_download, received = [], 0
        while chunk := response.read(BLOCK):
            downloaded.update(chunk)
            received += len(chunk)
            if received == SIZE // 2:
                # Half-way, the client stops reading for a moment so waitress's output buffers fill
                # up to their high watermark: none of them may spill plaintext to a temporary file
                # (see outbuf_overflow in the .ini files).
                time.sleep(1.5)
                leaks_mid_download = [os.readlink(path) for path in open_files_of(server.process.pid)
                                      if file_contains(path, [marker])]
    finally:
        connection.close()
    assert leaks_mid_download == [], f"plaintext found in open files: {leaks_mid_download}"
    assert downloaded.hexdigest() == digest.hexdigest()
    final = memory_of(server.process.pid)
    assert final["VmHWM"] - baseline["VmRSS"] < 64 * MIB, "the download streams too"
