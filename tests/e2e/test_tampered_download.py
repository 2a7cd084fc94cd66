"""A stored attachment changed on disk part-way through, downloaded through the real waitress: the
client gets the authenticated part and then a connection closed short of the Content-Length (an
incomplete download, never a shorter file passed off as whole), the audit log records it, and
the server log says so in one line, with no traceback and nothing of the file."""
from __future__ import annotations

import http.client
import os
from pathlib import Path

import pytest

from tests.e2e.reporter_helpers import call, call_json, guardian_headers

CHUNK = 64 * 1024
CIPHER_CHUNK = CHUNK + 17
STREAM_HEADER = 106


def download(port: int, path: str, headers: dict) -> tuple[int, int, bytes, bool]:
    """(status, Content-Length, bytes received, whether the body was complete)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        length = int(response.headers["Content-Length"])
        try:
            return response.status, length, response.read(), True
        except http.client.IncompleteRead as short:
            return response.status, length, short.partial, False
    finally:
        connection.close()


@pytest.mark.parametrize("who", ["guardian", "reporter"])
def test_a_download_that_fails_part_way_is_cut_short_and_recorded(running_server, who):
    server = running_server
    marker = b"DOWNLOADMARKER" + os.urandom(6).hex().encode()
    data = (marker + os.urandom(CHUNK - len(marker))) * 3 + marker  # three full chunks and a short last one

    status, sent = call_json(server.port, "POST", "/api/v1/disclosures",
                             {"channel": "raise-a-concern", "text": "The rota, attached.", "answers": {"ongoing": "yes"}})
    assert status == 201, sent
    status, session = call_json(server.port, "POST", "/api/v1/reporter/session", {"receipt": sent["receipt"]})
    reporter = {"Authorization": f"Bearer {session['token']}"}
    status, _, raw = call(server.port, "POST", "/api/v1/reporter/attachments", data,
                          dict(reporter, **{"Content-Type": "application/octet-stream", "X-Filename": "rota.bin"}))
    assert status == 201, raw

    blobs = [path for path in (server.directory / "var").rglob("*")
             if path.is_file() and path.parent.name == "blobs" and path.stat().st_size > 3 * CIPHER_CHUNK]
    [blob] = blobs
    stored = bytearray(blob.read_bytes())
    stored[STREAM_HEADER + 2 * CIPHER_CHUNK + 100] ^= 0x01  # in the third chunk
    Path(blob).write_bytes(bytes(stored))

    staff = guardian_headers(server)
    status, case = call_json(server.port, "GET", "/api/v1/reporter/case", headers=reporter)
    attachment_id = case["attachments"][0]["id"]
    path, headers = ((f"/api/v1/cases/{sent['case']}/attachments/{attachment_id}", staff) if who == "guardian"
                     else (f"/api/v1/reporter/attachments/{attachment_id}", reporter))
    status, length, body, complete = download(server.port, path, headers)
    assert status == 200 and length == len(data)
    assert not complete, "the client sees an incomplete download"
    assert body == data[:2 * CHUNK], "only the chunks that authenticated"

    status, case = call_json(server.port, "GET", f"/api/v1/cases/{sent['case']}", headers=staff)
    [event] = [e for e in case["events"] if e["action"] == "attachment.unverifiable"]
    assert event["actor"] == "system" and event["detail"] == {"attachment_id": attachment_id, "cut_short": True}
    if who == "reporter":
        assert event["at"][11:19] == "00:00:00", "found on the reporter's path: dated to the day"

    log = server.log.read_bytes()
    assert f"attachment {attachment_id} failed authentication while it was sent".encode() in log
    assert b"Traceback" not in log
    assert marker not in log
