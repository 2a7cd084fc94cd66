"""Helpers for the reporter's end-to-end tests: JSON calls, multipart bodies, scanning disk."""
from __future__ import annotations

import http.client
import json
import os
import time
import uuid
from pathlib import Path

import pyotp

SCAN_CHUNK = 8 * 1024 * 1024


def call(port: int, method: str, path: str, body=None, headers: dict | None = None, source="127.0.0.2"):
    """One request; returns (status, headers, body bytes). `body` may be bytes or an iterable."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120, source_address=(source, 0))
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def call_json(port: int, method: str, path: str, data=None, headers: dict | None = None, source="127.0.0.2"):
    headers = dict(headers or {})
    body = None
    if data is not None:
        body = json.dumps(data).encode()
        headers["Content-Type"] = "application/json"
    status, _, raw = call(port, method, path, body, headers, source)
    return status, (json.loads(raw) if raw else None)


def guardian_headers(server) -> dict:
    """The demo guardian's bearer token. A TOTP code is good once, and tests sharing a server sign
    the same guardian in one after another: a code refused because another test used this step
    is tried again with the next step's."""
    credentials = server.demo_credentials()
    for attempt in range(3):
        status, body = call_json(server.port, "POST", "/api/v1/staff/session", {
            "username": credentials["username"], "password": credentials["password"],
            "otp": pyotp.TOTP(credentials["TOTP secret"]).now()}, source="127.0.0.3")
        if status != 401 or attempt == 2:
            break
        time.sleep(30 - time.time() % 30 + 1)
    assert status == 200, body
    return {"Authorization": f"Bearer {body['token']}"}


def multipart_body(fields: list[tuple[str, str]], files: list[tuple[str, str, bytes]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    out = b""
    for name, value in fields:
        out += (f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n').encode() + value.encode() + b"\r\n"
    for name, filename, content in files:
        out += (f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                f"Content-Type: application/octet-stream\r\n\r\n").encode("utf-8") + content + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return out, f"multipart/form-data; boundary={boundary}"


def file_contains(path: Path, markers: list[bytes]) -> list[bytes]:
    """Which markers occur in the file, read in chunks with overlap (files may be large)."""
    found = set()
    overlap = max(len(m) for m in markers) - 1
    tail = b""
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(SCAN_CHUNK):
                window = tail + chunk
                found.update(m for m in markers if m in window)
                tail = window[-overlap:] if overlap else b""
    except (PermissionError, FileNotFoundError, IsADirectoryError, OSError):
        return []
    return sorted(found)


def open_files_of(pid: int) -> list[Path]:
    """The regular files process `pid` has open, including unlinked temporary files."""
    paths = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("/") and not target.startswith("/dev/"):
            paths.append(fd)
    return paths


def memory_of(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of `pid`, in bytes."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) * 1024
    return values
