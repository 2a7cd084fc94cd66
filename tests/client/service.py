"""A small HTTP server in a thread that plays the service for whistle-report: it serves crafted
channels and key directories (the attacker's server, in the refusal tests) and records every request,
so a test can say that nothing was posted. It takes a report and chunked uploads as the contract says
(tests/e2e runs the client against the real server)."""
from __future__ import annotations

import base64
import io
import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self

from whistle import crypto
from whistle.client import cli

CHANNEL = {"slug": "raise-a-concern", "title": "Raise a concern", "introduction": "For staff.",
           "identity_modes": ["anonymous", "confidential"], "accepting_reports": True,
           "fields": [{"name": "where", "label": "Where?", "type": "text", "required": False, "routing": False},
                      {"name": "site", "label": "Which site?", "type": "single_choice", "required": True,
                       "choices": ["North", "South"], "routing": True}]}


@dataclass
class Guardian:
    id: int
    username: str
    keys: crypto.KeyPair = field(default_factory=crypto.KeyPair.generate)


def directory_document(*, version: int = 3, expires_in: timedelta = timedelta(days=30),
                       guardians: tuple[Guardian, ...] = (), first_tier: tuple[int, ...] = (),
                       second_tier: tuple[int, ...] = (), salt: bytes = b"s" * 16) -> bytes:
    now = datetime.now(UTC)
    return crypto.canonical_json({
        "format": "whistle-key-directory/1", "version": version,
        "issued_at": (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "expires_at": (now + expires_in).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "receipt": {"salt": base64.b64encode(salt).decode(), "opslimit": 1, "memlimit": 8192},
        "escrow": None,
        "guardians": {str(g.id): {"username": g.username, "public_key": base64.b64encode(g.keys.public).decode()}
                      for g in guardians},
        "channels": {CHANNEL["slug"]: {"first_tier": list(first_tier), "second_tier": list(second_tier)}},
    })


def published(document: bytes, key: crypto.SigningKey) -> dict:
    """The directory as GET /api/v1/channels/{slug}/keys serves it, signed by `key`."""
    return {"document": document.decode("utf-8"),
            "signature": base64.b64encode(crypto.sign_directory(document, key)).decode(),
            "key": crypto.fingerprint(key.public_key),
            "public_key": base64.b64encode(key.public_key).decode()}


@dataclass
class Request:
    method: str
    path: str
    body: bytes


class Service:
    """Serves `directory` (a published directory dict) and records requests. An upload's PUT carries a
    run of chunks from its index, cut by the shape the upload began with. `fail_chunks` maps the
    first chunk of a run to how its first PUT fails: "lost-answer" (kept, but answered 503) or
    "refused" (not kept, 500). `lost_at_done`: chunks the first finish answers as lost (409)."""

    def __init__(self, directory: dict) -> None:
        self.directory = directory
        self.requests: list[Request] = []
        self.chunks: dict[int, bytes] = {}
        self.fail_chunks: dict[int, str] = {}
        self.shape: tuple[int, int] = (0, 0)
        self.lost_at_done: list[int] = []
        self.uploaded: list[dict] = []
        # The case as the last disclosure made it, and what a lookup value's session reads of it.
        self.case: dict | None = None
        self.items: list[dict] = []
        self.lookup_value: str | None = None
        self.blob_cut = 0  # serve downloads this many bytes short
        self.conflicts: list[tuple[str, dict | None]] = []  # (problem type, directory to serve after it)
        service = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _body(self) -> bytes:
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _answer(self, status: int, value=None) -> None:
                raw = b"" if value is None else json.dumps(value).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self) -> None:
                service.requests.append(Request("GET", self.path, b""))
                if self.path == "/api/v1/channels":
                    self._answer(200, {"channels": [CHANNEL]})
                elif self.path == f"/api/v1/channels/{CHANNEL['slug']}/keys":
                    self._answer(200, service.directory)
                elif self.path == "/api/v1/reporter/uploads/u1":
                    self._answer(200, {"id": "u1", "chunks": len(service.chunks), "received": sorted(service.chunks)})
                elif self.path == "/api/v1/reporter/envelopes" and service.case is not None:
                    self._answer(200, service.envelopes())
                elif self.path.startswith("/api/v1/reporter/attachments/") and self.path.endswith("/blob"):
                    blob = service.uploaded[int(self.path.split("/")[-2]) - 1]["blob"]
                    blob = blob[:len(blob) - service.blob_cut]
                    self.send_response(200)
                    self.send_header("Content-Type", "application/octet-stream")
                    self.send_header("Content-Length", str(len(blob)))
                    self.end_headers()
                    self.wfile.write(blob)
                else:
                    self._answer(404, {"title": "Not found"})

            def do_POST(self) -> None:
                body = self._body()
                service.requests.append(Request("POST", self.path, body))
                if self.path == "/api/v1/disclosures" and service.conflicts:
                    problem, directory = service.conflicts.pop(0)
                    service.directory = directory or service.directory
                    self._answer(409, {"type": problem, "title": "Conflict"})
                elif self.path == "/api/v1/disclosures":
                    service.case = json.loads(body)
                    service.lookup_value = service.case["reporter"]["lookup_value"]
                    service.items = [dict(item, id=i + 1, author="reporter", version=2, at="2026-12-05")
                                     for i, item in enumerate(service.case["items"]) if item["kind"] != "identity"]
                    self._answer(201, {"case": service.case["case"], "token": "t" * 43, "expires_in": 3600})
                elif self.path == "/api/v1/reporter/session":
                    known = json.loads(body).get("lookup_value") == service.lookup_value
                    self._answer(200 if known else 401, {"token": "t" * 43, "expires_in": 3600, "holds_key": False}
                                 if known else {"title": "Unknown receipt"})
                elif self.path == "/api/v1/reporter/messages":
                    service.items.append({"id": len(service.items) + 1, "kind": "message", "author": "reporter",
                                          "version": 2, "ciphertext": json.loads(body)["item"], "at": "2026-12-05"})
                    self._answer(201, {"id": len(service.items)})
                elif self.path == "/api/v1/reporter/uploads":
                    service.chunks.clear()
                    service.shape = (json.loads(body)["chunks"], json.loads(body)["bytes"])
                    self._answer(201, {"id": "u1", "chunks": json.loads(body)["chunks"]})
                elif self.path == "/api/v1/reporter/uploads/u1/done" and service.lost_at_done:
                    lost, service.lost_at_done = service.lost_at_done, []
                    for index in lost:
                        service.chunks.pop(index, None)
                    self._answer(409, {"title": "Conflict", "detail": "Chunks to send again", "missing": lost})
                elif self.path == "/api/v1/reporter/uploads/u1/done":
                    service.uploaded.append({"blob": b"".join(service.chunks[i] for i in sorted(service.chunks)),
                                             "meta": base64.b64decode(json.loads(body)["meta"])})
                    service.items.append({"id": len(service.items) + 1, "kind": "attachment-meta",
                                          "author": "reporter", "version": 2, "at": "2026-12-05",
                                          "ciphertext": json.loads(body)["meta"]})
                    self._answer(201, {"id": len(service.uploaded), "bytes": 0})
                else:
                    self._answer(404, {"title": "Not found"})

            def do_PUT(self) -> None:
                body = self._body()
                service.requests.append(Request("PUT", self.path, body))
                index = int(self.path.rsplit("/", 1)[1])
                failure = service.fail_chunks.pop(index, None)
                if failure != "refused":
                    while body:
                        length = crypto.stream_chunk_bytes(index, *service.shape)
                        service.chunks[index], body, index = body[:length], body[length:], index + 1
                self._answer({"lost-answer": 503, "refused": 500}.get(failure or "", 204))

            def do_DELETE(self) -> None:
                service.requests.append(Request("DELETE", self.path, b""))
                self._answer(204)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def envelopes(self) -> dict:
        assert self.case is not None
        grant = self.case["grants"][0]
        metas = [item for item in self.items if item["kind"] == "attachment-meta"]
        return {"case": self.case["case"], "status": "received", "status_text": "Received", "opened": "2026-12-05",
                "case_public_key": self.case["case_public_key"], "team_public_key": self.case["team_public_key"],
                "team_key_mac": self.case["team_key_mac"], "sealed_case_key": grant["sealed_case_key"],
                "case_key_binding": self.case["reporter"]["case_key_binding"], "items": self.items,
                "attachments": [{"id": n + 1, "meta_item": item["id"], "bytes": len(self.uploaded[n]["blob"]),
                                 "author": "reporter"} for n, item in enumerate(metas)],
                "identity_given": False, "news": []}

    def posted(self) -> list[Request]:
        return [r for r in self.requests if r.method in ("POST", "PUT")]


@dataclass
class Run:
    code: int
    out: str
    err: str


class FakeStdin(io.StringIO):
    def isatty(self) -> bool:
        return False


def run_client(*args: str, stdin: str = "", confirm=lambda question: None) -> Run:
    """whistle-report in this process, with standard input given and no terminal to ask on."""
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(args), console=cli.Console(FakeStdin(stdin), out, err, confirm))
    return Run(code, out.getvalue(), err.getvalue())
