"""SIGKILL during concurrent reports with files, 20 times over, on the engine under test (SQLite, or
PostgreSQL in CI's second pass): afterwards every receipt the service ever returned opens its case
with all its content, every file acknowledged reads back equal, nothing half-written is visible
(no file row without its blob, no blob without its row outside the staging area, no case without
its first message), and the audit chain verifies."""
from __future__ import annotations

import hashlib
import http.client
import os
import random
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.e2e.reporter_helpers import call, call_json, multipart_body
from tests.e2e.server import Browser, Server
from whistle.attachments.blobs import STAGING, LocalBlobStore
from whistle.attachments.unreferenced import GRACE, sweep
from whistle.cases.models import ITEM_DISCLOSURE, Attachment, Case, CaseItem
from whistle.clock import ManualClock
from whistle.db import make_engine

CYCLES = 20
CLIENTS = 4
CHANNEL = "raise-a-concern"
RECEIPT = re.compile(r"[0-9A-Z]{4}(?:-[0-9A-Z]{4}){4}")


@dataclass
class Acknowledged:
    """What the service said it kept for one receipt: the report's text and each file it answered
    for (name -> bytes)."""

    receipt: str
    text: str
    files: dict[str, bytes] = field(default_factory=dict)


@dataclass
class Traffic:
    port: int
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    acknowledged: list[Acknowledged] = field(default_factory=list)
    cut_off: int = 0  # requests that got no answer: in flight at the kill
    errors: list[str] = field(default_factory=list)  # anything else that went wrong: none may

    def keep(self, record: Acknowledged) -> None:
        with self.lock:
            if record not in self.acknowledged:
                self.acknowledged.append(record)


def _content(label: str) -> tuple[str, str, bytes]:
    marker = os.urandom(6).hex()
    body = os.urandom(random.randint(1, 96) * 1024)
    return f"{label} {marker}: the night rota is signed for checks nobody did.", f"{label}-{marker}.bin", body


def _by_form(traffic: Traffic, source: str, label: str) -> None:
    """The report form without JavaScript: one multipart post with the file, then the receipt page."""
    browser = Browser(traffic.port, source=source)
    page = browser.get(f"/report/{CHANNEL}")
    text, name, body = _content(label)
    form, content_type = multipart_body(list(page.form_fields().items()) + [("text", text), ("answers.ongoing", "yes")],
                                        [("attachments", name, body)])
    sent = browser.request("POST", f"/report/{CHANNEL}", form, {"Content-Type": content_type})
    assert sent.status == 303, sent.text
    receipt = RECEIPT.search(browser.get(f"/report/{CHANNEL}/receipt").text)
    assert receipt, "the receipt page shows the receipt"
    traffic.keep(Acknowledged(receipt.group(0), text, {name: body}))


def _by_api(traffic: Traffic, source: str, label: str) -> None:
    """The API: the report, then a session with its receipt and a file sent on its own."""
    text, name, body = _content(label)
    status, sent = call_json(traffic.port, "POST", "/api/v1/disclosures",
                             {"channel": CHANNEL, "text": text, "answers": {"ongoing": "no"}}, source=source)
    assert status == 201, sent
    record = Acknowledged(sent["receipt"], text)
    traffic.keep(record)
    status, session = call_json(traffic.port, "POST", "/api/v1/reporter/session", {"receipt": record.receipt},
                                source=source)
    assert status == 200, session
    status, _, raw = call(traffic.port, "POST", "/api/v1/reporter/attachments", body,
                          {"Authorization": f"Bearer {session['token']}", "Content-Type": "application/octet-stream",
                           "X-Filename": name}, source=source)
    assert status == 201, raw
    with traffic.lock:
        record.files[name] = body


def _client(traffic: Traffic, number: int) -> None:
    source = f"127.0.1.{number + 1}"
    sent = 0
    while not traffic.stop.is_set():
        sent += 1
        try:
            (_by_form if sent % 2 else _by_api)(traffic, source, f"client {number} report {sent}")
        except (OSError, http.client.HTTPException):  # the server died under this request
            with traffic.lock:
                traffic.cut_off += 1
            traffic.stop.wait(0.05)
        except Exception as error:  # noqa: BLE001 - a thread's failure is reported by the test
            with traffic.lock:
                traffic.errors.append(f"{type(error).__name__}: {error}"[:500])


def _read_back(port: int, record: Acknowledged) -> bool:
    """Whether the receipt opens the case with the text and every acknowledged file, bytes equal."""
    status, session = call_json(port, "POST", "/api/v1/reporter/session", {"receipt": record.receipt})
    if status != 200:
        return False
    reporter = {"Authorization": f"Bearer {session['token']}"}
    status, case = call_json(port, "GET", "/api/v1/reporter/case", headers=reporter)
    if status != 200 or case["text"] != record.text:
        return False
    listed = {attachment.get("name"): attachment["id"] for attachment in case["attachments"]}
    for name, body in record.files.items():
        if name not in listed:
            return False
        status, _, downloaded = call(port, "GET", f"/api/v1/reporter/attachments/{listed[name]}", headers=reporter)
        if status != 200 or hashlib.sha256(downloaded).digest() != hashlib.sha256(body).digest():
            return False
    return True


def _half_written(db_url: str, blobs: Path) -> dict[str, int]:
    """What a crash could have left half-done, counted straight from the database and blob store."""
    store = LocalBlobStore(blobs)
    published = set(store.names())
    engine = make_engine(db_url)
    try:
        with engine.connect() as connection:
            rows = set(connection.scalars(select(Attachment.blob_name)))
            first_messages = select(CaseItem.case_id).where(CaseItem.kind == ITEM_DISCLOSURE)
            without_first = connection.scalar(select(func.count()).select_from(Case)
                                              .where(Case.id.not_in(first_messages)))
    finally:
        engine.dispose()
    return {"rows without a blob": len(rows - published), "blobs without a row": len(published - rows),
            "cases without their first message": without_first or 0,
            # Written under a temporary name and never renamed: never visible as a blob, but kept.
            "partial blobs": sum(1 for path in blobs.iterdir() if path.name.startswith(".partial-"))
            if blobs.is_dir() else 0,
            "staged files": sum(1 for _ in (blobs / STAGING).iterdir()) if (blobs / STAGING).is_dir() else 0}


def _wait_for(condition, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the traffic stalled"
        time.sleep(0.02)


def _sweep_as_the_tick_would(db_url: str, blobs: Path) -> int:
    """The "unreferenced blobs" job's sweep, now and once its grace period has passed (the tick runs
    it at most hourly); returns how many blobs it deleted."""
    store, engine = LocalBlobStore(blobs), make_engine(db_url)
    clock = ManualClock(datetime.now(UTC))
    doomed: list[str] = []
    try:
        for _ in range(2):
            with Session(engine) as dbsession, dbsession.begin():
                doomed += sweep(dbsession, store, clock)[1]
            clock.advance(GRACE)
    finally:
        engine.dispose()
    for name in doomed:
        store.delete(name)
    return len(doomed)


def test_sigkill_during_reports_with_files_loses_nothing_acknowledged(engine_under_test, tmp_path, figures):
    settings = engine_under_test("crash")
    (tmp_path / "node").mkdir()
    server = Server(tmp_path / "node", settings=settings)
    server.start()
    blobs = server.home / "var" / "blobs"
    traffic = Traffic(server.port)
    random.seed()
    started = time.monotonic()
    starting = 0.0
    try:
        for cycle in range(CYCLES):
            if cycle:
                before = time.monotonic()
                server.start(prepare=False)
                starting += time.monotonic() - before
            traffic.stop.clear()
            acknowledged_before = len(traffic.acknowledged)
            clients = [threading.Thread(target=_client, args=(traffic, n), daemon=True) for n in range(CLIENTS)]
            for client in clients:
                client.start()
            # Once this cycle's first report is acknowledged, a random moment later: every client
            # is then somewhere in a report of its own (the form, the API, a file on its way).
            _wait_for(lambda: len(traffic.acknowledged) > acknowledged_before, timeout=30)
            time.sleep(random.uniform(0, 0.8))
            server.kill()
            traffic.stop.set()
            for client in clients:
                client.join(timeout=60)
                assert not client.is_alive()
        server.start(prepare=False)
        recovered = sum(_read_back(server.port, record) for record in traffic.acknowledged)
        audit = server.whistle("audit", "verify")
    finally:
        server.stop()
    left = _half_written(settings["whistle.db.url"], blobs)
    swept = _sweep_as_the_tick_would(settings["whistle.db.url"], blobs)
    after = _half_written(settings["whistle.db.url"], blobs)
    acknowledged = len(traffic.acknowledged)
    files = sum(len(record.files) for record in traffic.acknowledged)
    orphans = after["rows without a blob"] + after["blobs without a row"] + after["cases without their first message"]
    figures(f"crash test ({make_engine(settings['whistle.db.url']).dialect.name}): {CYCLES} cycles in "
          f"{time.monotonic() - started:.0f} s ({starting:.0f} s of it restarting), {acknowledged} receipts acknowledged ({files} files), "
          f"{recovered} recovered, orphans {orphans}; requests cut off by the kills {traffic.cut_off}; "
          f"right after the last restart {left}, {swept} blobs deleted by the unreferenced blobs job")
    assert traffic.errors == []
    assert acknowledged >= CYCLES, "the traffic ran in every cycle"
    assert recovered == acknowledged
    assert left["rows without a blob"] == 0 and left["cases without their first message"] == 0, left
    assert left["blobs without a row"] == swept, "the job deletes exactly the blobs the crashes left unnamed"
    assert orphans == 0, after
    assert "chain intact, head MAC checks out" in audit, audit
