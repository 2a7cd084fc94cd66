"""`whistle backup create` while the service takes reports, and `whistle backup restore` into a
fresh deployment given the original key files and shred key store: every case is read back whole,
by the guardian through the API and by each reporter with their receipt, every file byte for byte.
A backup holds no key; a changed backup and a target that is not empty are refused.

On the engine under test: SQLite, and PostgreSQL in CI's PostgreSQL pass (WHISTLE_TEST_DATABASE_URL),
where the copy is pg_dump's and the restore pg_restore's.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import pyotp
from sqlalchemy import select

from tests.conftest import TEST_DATABASE_URL
from tests.e2e.reporter_helpers import call, call_json
from tests.e2e.server import BIN, ROOT, Server
from whistle.cases.models import Attachment
from whistle.db import make_engine
from whistle.shredding import open_shred_store

GUARDIAN = "alex"
PASSWORD = "alex has a long passphrase"
# Reports the writer sends at most while the backup is taken: each is read back afterwards, so a
# slow machine (a slow `backup create`) does not make the test slower still.
WRITTEN_AT_MOST = 16
KEY_FILES = ("lookup_pepper", "session_key", "audit_key", "directory_state")


def deployment(directory: Path, db_url: str) -> Server:
    """development.ini's deployment in `directory` (key files in var/keys, blobs in var/blobs), on
    the database `db_url`, with its shred key store in var/shred, and no scheduler thread (nothing
    purged or re-signed behind the test's back)."""
    directory.mkdir()
    server = Server(directory)
    ini = server.ini.read_text()
    ini = re.sub(r"^whistle\.db\.url = .*$", f"whistle.db.url = {db_url}", ini, flags=re.MULTILINE)
    ini = re.sub(r"^whistle\.scheduler\.embedded = .*$", "whistle.scheduler.embedded = false", ini, flags=re.MULTILINE)
    ini = ini.replace("[app:main]\n", f"[app:main]\nwhistle.shred_store.url = sqlite:///{directory}/var/shred/"
                                      "shred-keys.sqlite\n", 1)
    server.ini.write_text(ini)
    return server


def whistle(server: Server, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "whistle"), "-c", str(server.ini), *args], input=stdin, capture_output=True,
                          check=False, text=True, timeout=120)


def serve(server: Server) -> None:
    log = server.log.open("ab")
    server.process = subprocess.Popen([str(BIN / "pserve"), str(server.ini)], stdout=log, stderr=log,
                                      cwd=server.directory)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", server.port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    server.stop()
    raise AssertionError(f"the server did not start:\n{server.log.read_text()}")


def guardian_session(server: Server, totp: str) -> dict:
    """Bearer headers for the guardian; a TOTP step used already (here or, restored, in the
    backup's deployment) is refused, so the next one is tried."""
    for step in range(4):
        status, body = call_json(server.port, "POST", "/api/v1/staff/session", {
            "username": GUARDIAN, "password": PASSWORD, "otp": pyotp.TOTP(totp).at(time.time() + 30 * step)},
            source="127.0.0.3")
        if status == 200:
            return {"Authorization": f"Bearer {body['token']}"}
    raise AssertionError(body)


def report(port: int, number: int, *, files: int) -> dict:
    """A disclosure through the API, a message and `files` files from its reporter's mailbox: what
    was sent, to compare with what comes back."""
    text = f"Report {number}: the fire door on ward {number} is chained shut."
    status, sent = call_json(port, "POST", "/api/v1/disclosures",
                             {"channel": "raise-a-concern", "text": text, "answers": {"ongoing": "yes"}})
    assert status == 201, sent
    status, session = call_json(port, "POST", "/api/v1/reporter/session", {"receipt": sent["receipt"]})
    assert status == 200, session
    reporter = {"Authorization": f"Bearer {session['token']}"}
    message = f"Report {number}: it happened again tonight."
    assert call_json(port, "POST", "/api/v1/reporter/messages", {"text": message}, headers=reporter)[0] == 201
    sent_files = {}
    for index in range(files):
        data = os.urandom(70_000 + 1000 * number + index)  # more than one stream chunk
        name = f"rota-{number}-{index}.bin"
        status, _, raw = call(port, "POST", "/api/v1/reporter/attachments", data,
                              dict(reporter, **{"Content-Type": "application/octet-stream", "X-Filename": name}))
        assert status == 201, raw
        sent_files[name] = data
    return {"case": sent["case"], "receipt": sent["receipt"], "text": text, "messages": [message], "files": sent_files}


def read_back(server: Server, staff: dict, sent: dict) -> None:
    """The case as the guardian reads it and as its reporter does, every file byte for byte."""
    status, case = call_json(server.port, "GET", f"/api/v1/cases/{sent['case']}", headers=staff, source="127.0.0.3")
    assert status == 200, case
    assert case["text"] == sent["text"] and case["unverified"] == []
    assert [m["text"] for m in case["messages"]] == sent["messages"]
    assert sorted(a["name"] for a in case["attachments"]) == sorted(sent["files"])
    for attachment in case["attachments"]:
        status, _, data = call(server.port, "GET", f"/api/v1/cases/{sent['case']}/attachments/{attachment['id']}",
                               headers=staff, source="127.0.0.3")
        assert status == 200 and data == sent["files"][attachment["name"]], attachment["name"]
    status, session = call_json(server.port, "POST", "/api/v1/reporter/session", {"receipt": sent["receipt"]})
    assert status == 200, session
    reporter = {"Authorization": f"Bearer {session['token']}"}
    status, mailbox = call_json(server.port, "GET", "/api/v1/reporter/case", headers=reporter)
    assert status == 200 and mailbox["text"] == sent["text"]
    assert [m["text"] for m in mailbox["messages"]] == sent["messages"]
    for attachment in mailbox["attachments"]:
        status, _, data = call(server.port, "GET", f"/api/v1/reporter/attachments/{attachment['id']}", headers=reporter)
        assert status == 200 and data == sent["files"][attachment["name"]], attachment["name"]
    assert sorted(a["name"] for a in mailbox["attachments"]) == sorted(sent["files"])


def copy_shred_store(source: Server, target: Server) -> None:
    """The operator's newest copy of the shred key store, taken after the backup (sqlite3's online copy)."""
    destination = target.directory / "var" / "shred" / "shred-keys.sqlite"
    destination.parent.mkdir(parents=True, exist_ok=True)
    live = sqlite3.connect(source.directory / "var" / "shred" / "shred-keys.sqlite")
    copy = sqlite3.connect(destination)
    live.backup(copy)
    copy.close()
    live.close()


def test_a_backup_taken_while_reports_arrive_restores_into_a_fresh_deployment(committed_database, tmp_path, figures):
    started = time.monotonic()
    source = deployment(tmp_path / "source", committed_database("backup_source")["whistle.db.url"])
    assert whistle(source, "channels", "load", str(ROOT / "config" / "channels.toml")).returncode == 0
    added = whistle(source, "guardian", "add", GUARDIAN, "--channel", "raise-a-concern", "--password-stdin",
                    stdin=PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    totp = re.search(r"TOTP secret:\s+(\S+)", added.stdout).group(1)
    serve(source)
    try:
        cases = [report(source.port, number, files=number % 3) for number in range(1, 6)]
        staff = guardian_session(source, totp)
        for sent in cases[:3]:
            reply = f"We have looked at the door of report {sent['case']}."
            status, _ = call_json(source.port, "POST", f"/api/v1/cases/{sent['case']}/messages", {"text": reply},
                                  headers=staff, source="127.0.0.3")
            assert status == 201
            sent["messages"].append(reply)

        # Reports keep arriving, each with a file, while the backup is taken.
        arriving: list[dict] = []
        backup_running = threading.Event()
        during: list[int] = []
        stop = threading.Event()

        failures: list[BaseException] = []

        def writer() -> None:
            number = 100
            try:
                while not stop.is_set() and len(arriving) < WRITTEN_AT_MOST:
                    arriving.append(report(source.port, number, files=1))
                    if backup_running.is_set():
                        during.append(number)
                    number += 1
            except BaseException as failure:  # the test's thread reports it
                failures.append(failure)
                raise

        thread = threading.Thread(target=writer)
        thread.start()
        while not arriving and not failures:
            time.sleep(0.05)
        backup = tmp_path / "backup"
        backup_running.set()
        created = whistle(source, "backup", "create", str(backup))
        backup_running.clear()
        stop.set()
        thread.join(timeout=60)
        assert created.returncode == 0, created.stderr
        assert not failures, failures
        assert during, "reports arrived while the backup was taken"
    finally:
        source.stop()
    print(created.stdout)
    manifest = json.loads((backup / "manifest.json").read_text())

    # No key, secret or the shred key store is in the backup; the output and the manifest name them.
    keys = source.directory / "var" / "keys"
    secrets = [(keys / name).read_bytes().strip() for name in ("lookup_pepper", "session_key", "audit_key")]
    secrets += [(source.directory / "org_signing_key").read_bytes().strip(),
                (source.directory / "webhook_secret").read_bytes().strip()]
    backed_up = [path for path in backup.rglob("*") if path.is_file()]
    assert not [path for path in backed_up if any(secret in path.read_bytes() for secret in secrets)]
    assert not [path for path in backed_up if path.name.startswith("shred")]
    named = {item["setting"] for item in manifest["not_included"]}
    assert {"whistle.secrets.lookup_pepper_file", "whistle.secrets.session_key_file", "whistle.audit.key_file",
            "whistle.org.signing_key_file", "whistle.shred_store.url", "whistle_webhook.secret_file"} <= named
    assert str(keys / "lookup_pepper") in created.stdout and "whistle_webhook.secret_file" in created.stdout
    assert manifest["public_files"] == {"org_public_key": "the organisation's public key"}

    # A fresh deployment: an empty database, an empty blob store, the original key files and the
    # organisation key copied over, and the newest copy of the shred key store.
    target = deployment(tmp_path / "target", committed_database("backup_target")["whistle.db.url"])
    (target.directory / "var" / "keys").mkdir(parents=True)
    for name in KEY_FILES:
        shutil.copy2(keys / name, target.directory / "var" / "keys" / name)
    for name in ("org_signing_key", "org_public_key"):
        shutil.copy2(source.directory / name, target.directory / name)

    # A backup changed after it was taken is refused, and nothing is restored: a file changed, and
    # a file changed with its SHA-256 in the manifest changed to match.
    tampered = tmp_path / "tampered"
    shutil.copytree(backup, tampered)
    blob = next((tampered / "blobs").iterdir())
    blob.write_bytes(blob.read_bytes()[:-1] + bytes([blob.read_bytes()[-1] ^ 1]))
    refused = whistle(target, "backup", "restore", str(tampered))
    assert refused.returncode == 1 and "SHA-256 differs" in refused.stderr, refused.stderr
    forged = json.loads((tampered / "manifest.json").read_text())
    forged["files"][f"blobs/{blob.name}"] = hashlib.sha256(blob.read_bytes()).hexdigest()
    (tampered / "manifest.json").write_text(json.dumps(forged))
    refused = whistle(target, "backup", "restore", str(tampered))
    assert refused.returncode == 1 and "does not check out with the audit key" in refused.stderr, refused.stderr
    # So is a restore given another lookup pepper than the backup's deployment used.
    pepper = target.directory / "var" / "keys" / "lookup_pepper"
    pepper.write_text(base64.b64encode(os.urandom(32)).decode() + "\n")
    refused = whistle(target, "backup", "restore", str(backup))
    assert refused.returncode == 1 and "whistle.secrets.lookup_pepper: not the key" in refused.stderr, refused.stderr
    shutil.copy2(keys / "lookup_pepper", pepper)
    assert not list((target.directory / "var" / "blobs").glob("*"))

    # Restored without the shred key store, nothing could be read: it says so, and exits 1.
    keyless = whistle(target, "backup", "restore", str(backup))
    assert keyless.returncode == 1 and "holds none of the restored cases' keys" in keyless.stderr, keyless.stderr
    copy_shred_store(source, target)
    restored = whistle(target, "backup", "restore", "--force", str(backup))
    assert restored.returncode == 0, restored.stdout + restored.stderr
    print(restored.stdout)
    assert "chain intact, head MAC checks out" in restored.stdout
    assert "every file's blob is in the store\n" in restored.stdout
    assert "every case, item and file has its key in the shred key store" in restored.stdout

    # Restoring again over what is there now is refused.
    again = whistle(target, "backup", "restore", str(backup))
    assert again.returncode == 1 and "not empty" in again.stderr, again.stderr

    serve(target)
    try:
        staff = guardian_session(target, totp)
        status, inbox = call_json(target.port, "GET", "/api/v1/cases", headers=staff, source="127.0.0.3")
        assert status == 200
        refs = {case["case"] for case in inbox["cases"]}
        assert len(refs) == manifest["counts"]["cases"]
        for sent in cases:
            read_back(target, staff, sent)
        # Each report that arrived during the backup is either in it whole or not in it at all.
        in_backup = [sent for sent in arriving if sent["case"] in refs]
        assert {sent["case"] for sent in cases + in_backup} == refs
        for sent in in_backup:
            read_whole_or_before_its_file(target, staff, sent)
        assert audit_verify(target).returncode == 0
    finally:
        target.stop()

    shredded_and_lost(source, target, tmp_path / "second")
    elapsed = time.monotonic() - started
    engine = "postgresql" if TEST_DATABASE_URL else "sqlite"
    figures(f"backup and restore ({engine}): {len(refs)} cases ({len(in_backup)} of {len(arriving)} that arrived "
            f"while it ran), {manifest['counts']['blobs']} blobs, {elapsed:.1f} s")


def read_whole_or_before_its_file(server: Server, staff: dict, sent: dict) -> None:
    """A report that arrived while the backup was taken: in the backup with its message and file,
    or copied between its steps, with only the steps before (never a file without its blob)."""
    status, case = call_json(server.port, "GET", f"/api/v1/cases/{sent['case']}", headers=staff, source="127.0.0.3")
    assert status == 200 and case["text"] == sent["text"] and case["unverified"] == []
    names = [a["name"] for a in case["attachments"]]
    sent["messages"] = sent["messages"][:len(case["messages"])]
    sent["files"] = {name: data for name, data in sent["files"].items() if name in names}
    read_back(server, staff, sent)


def audit_verify(server: Server) -> subprocess.CompletedProcess:
    return whistle(server, "audit", "verify")



def shredded_and_lost(source: Server, target: Server, backup: Path) -> None:
    """Between the copy of the database and the copy of the blobs, a purge or an erasure may destroy
    a file's shred key and delete its blob: the backup leaves that blob out, and restores. A blob
    lost with its key still alive is named, and `create` exits 1 (having written the rest)."""
    db_url = re.search(r"^whistle\.db\.url = (.*)$", source.ini.read_text(), flags=re.MULTILINE).group(1)
    engine = make_engine(db_url)
    with engine.connect() as connection:
        files = connection.execute(select(Attachment.blob_name, Attachment.shred_handle).order_by(Attachment.id)).all()
    engine.dispose()
    (shredded, handle), (lost, _) = files[:2]
    # What a purge does between the two copies: the key first, then the blob (the rows go last).
    open_shred_store(f"sqlite:///{source.directory}/var/shred/shred-keys.sqlite").destroy([handle])
    (source.directory / "var" / "blobs" / shredded).unlink()
    (source.directory / "var" / "blobs" / lost).unlink()

    created = whistle(source, "backup", "create", str(backup))
    assert created.returncode == 1 and "1 files of the database have no blob in the store" in created.stderr
    manifest = json.loads((backup / "manifest.json").read_text())
    assert manifest["blobs_shredded_since"] == [shredded] and manifest["blobs_missing"] == [lost]
    assert manifest["counts"]["blobs"] == manifest["counts"]["attachments"] - 2

    # Restored over the deployment restored before (--force): it checks out, naming what it lacks.
    restored = whistle(target, "backup", "restore", "--force", str(backup))
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "every file's blob is in the store, but for 1 files erased or purged while the backup was taken and 1 " \
           "whose blobs were lost before it" in restored.stdout
