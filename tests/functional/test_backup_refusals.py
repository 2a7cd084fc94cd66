"""What `whistle backup` refuses before it copies or restores anything, with the command's own code
run in process on a real .ini (an empty deployment): a backup beside the key files or into a
directory in use, a directory that is no backup or holds a file its manifest does not list; what
the manifest of an empty deployment says; and which pg_dump is chosen for a server.
(tests/e2e/test_backup.py backs up and restores a deployment in use, as a process.)"""
from __future__ import annotations

import contextlib
import io
import json
import subprocess
from pathlib import Path

import pytest

from tests.e2e.server import Server
from whistle.cli import backup_engines, main
from whistle.cli.env import CommandError


@pytest.fixture
def server(tmp_path):
    (tmp_path / "deployment").mkdir()
    server = Server(tmp_path / "deployment")  # not started: its .ini, key files and database are used
    assert run(server, "db", "upgrade").returncode == 0
    return server


def run(server, *args) -> subprocess.CompletedProcess:
    """`whistle -c INI ARGS` in this process: its exit status and what it printed."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(["-c", str(server.ini), *args])
    return subprocess.CompletedProcess(args, status, out.getvalue(), err.getvalue())


def test_a_backup_never_goes_beside_the_key_files_nor_into_a_directory_in_use(server, tmp_path):
    keys = server.directory / "var" / "keys"
    beside = run(server, "backup", "create", str(keys / "backup"))
    assert beside.returncode == 1 and "never goes next to the key files" in beside.stderr, beside.stderr
    assert not (keys / "backup").exists()
    used = tmp_path / "used"
    used.mkdir()
    (used / "something").write_text("kept")
    refused = run(server, "backup", "create", str(used))
    assert refused.returncode == 1 and "is not an empty directory" in refused.stderr
    assert sorted(path.name for path in used.iterdir()) == ["something"]


def test_the_manifest_names_what_is_left_out_and_holds_no_key(server, tmp_path):
    made = run(server, "backup", "create", str(tmp_path / "backup"))
    assert made.returncode == 0, made.stderr
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    assert manifest["engine"] == "sqlite" and manifest["counts"]["cases"] == 0
    assert set(manifest["files"]) == {"database.sqlite", "org_public_key"}
    left_out = {item["setting"]: item["where"] for item in manifest["not_included"]}
    keys = server.directory / "var" / "keys"
    assert left_out["whistle.secrets.lookup_pepper_file"] == str(keys / "lookup_pepper")
    assert left_out["whistle.audit.key_file"] == str(keys / "audit_key")
    assert "whistle.shred_store.url" in left_out and "whistle_webhook.secret_file" in left_out
    assert set(manifest["key_checks"]) == {"whistle.secrets.lookup_pepper", "whistle.secrets.session_key"}
    text = (tmp_path / "backup" / "manifest.json").read_text()
    for name in ("lookup_pepper", "session_key", "audit_key"):
        assert (keys / name).read_text().strip() not in text
    assert "whistle.secrets.lookup_pepper_file" in made.stdout and "not the key" not in made.stdout


def test_a_directory_that_is_no_backup_or_holds_more_than_its_manifest_is_refused(server, tmp_path):
    assert run(server, "backup", "create", str(tmp_path / "backup")).returncode == 0
    nothing = tmp_path / "nothing"
    nothing.mkdir()
    refused = run(server, "backup", "restore", str(nothing))
    assert refused.returncode == 1 and "it is not a whistle backup" in refused.stderr
    (tmp_path / "backup" / "blobs").mkdir(exist_ok=True)
    (tmp_path / "backup" / "blobs" / "extra").write_bytes(b"slipped in")
    refused = run(server, "backup", "restore", str(tmp_path / "backup"))
    assert refused.returncode == 1 and "files its manifest does not list" in refused.stderr, refused.stderr


def fake_tool(directory: Path, version: str) -> str:
    directory.mkdir(parents=True)
    tool = directory / "pg_dump"
    tool.write_text(f"#!/bin/sh\necho 'pg_dump (PostgreSQL) {version} (Debian {version}-1)'\n")
    tool.chmod(0o755)
    return str(tool)


def test_pg_dump_of_the_servers_version_is_chosen_else_the_newest_never_an_older(tmp_path, monkeypatch):
    tools = [fake_tool(tmp_path / name, version) for name, version in (("a", "14.9"), ("b", "16.2"), ("c", "15.18"))]
    monkeypatch.setattr(backup_engines, "_candidates", lambda name: tools)
    assert backup_engines.find_pg_tool("pg_dump", 15) == tools[2]
    assert backup_engines.find_pg_tool("pg_dump", 16) == tools[1]
    assert backup_engines.find_pg_tool("pg_dump", 13) == tools[1], "the newest, whose archives any restore reads"
    with pytest.raises(CommandError, match="no pg_dump of PostgreSQL 17 or newer found"):
        backup_engines.find_pg_tool("pg_dump", 17)


def test_the_password_never_reaches_a_command_line():
    uri = backup_engines._libpq_uri("postgresql+psycopg://whistle:s3cret@db.internal:5432/whistle?sslmode=verify-full")
    assert uri == "postgresql://whistle@db.internal:5432/whistle?sslmode=verify-full"
