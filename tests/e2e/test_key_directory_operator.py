"""`keys sign-directory` as an operator runs it after a guardian change: it keeps the signed key of a
guardian whose stored key was changed in the database, and signs a new key only when the operator
accepts it by its fingerprint; `--draft` shows what it is about to sign and refuses anything else."""
from __future__ import annotations

import base64
import json
import sqlite3
import subprocess

from tests.e2e.server import BIN, Server
from whistle import crypto


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "whistle"), *args], capture_output=True, text=True, timeout=120, check=False)


def newest_listed_keys(database) -> dict[str, bytes]:
    with sqlite3.connect(database) as connection:
        document = connection.execute(
            "SELECT document FROM key_directories ORDER BY version DESC LIMIT 1").fetchone()[0]
    return {entry["username"]: base64.b64decode(entry["public_key"])
            for entry in json.loads(document)["guardians"].values()}


def test_sign_directory_keeps_the_signed_key_until_the_operator_accepts_the_new_one(tmp_path):
    server = Server(tmp_path)
    server.whistle("db", "upgrade")
    server.whistle("demo")
    database = tmp_path / "var" / "whistle.sqlite"
    signed = newest_listed_keys(database)
    attacker = crypto.KeyPair.generate()
    with sqlite3.connect(database) as connection:  # a database writer swaps every guardian's key
        connection.execute("UPDATE accounts SET public_key = ? WHERE is_guardian = 1", (attacker.public,))

    routine = run("-c", str(server.ini), "keys", "sign-directory")
    assert routine.returncode == 0, routine.stderr
    assert newest_listed_keys(database) == signed, "sign-directory published a swapped key"
    fingerprint = crypto.fingerprint(attacker.public)
    assert f"--accept-key {next(iter(signed))}={fingerprint}" in routine.stderr

    username = next(iter(signed))
    accepted = run("-c", str(server.ini), "keys", "sign-directory", "--accept-key", f"{username}={fingerprint}")
    assert accepted.returncode == 0, accepted.stderr
    listed = newest_listed_keys(database)
    assert listed[username] == attacker.public
    assert all(key == signed[name] for name, key in listed.items() if name != username)


def test_sign_directory_draft_shows_what_it_signs_and_refuses_what_is_not_a_directory(tmp_path):
    server = Server(tmp_path)
    server.whistle("db", "upgrade")
    server.whistle("demo")
    draft = tmp_path / "draft.json"
    draft.write_text(server.whistle("keys", "directory-draft"))
    key = str(tmp_path / "org_signing_key")
    shown = run("keys", "sign-directory", "--draft", str(draft), "--key", key)
    assert shown.returncode == 0, shown.stderr
    for username, public_key in newest_listed_keys(tmp_path / "var" / "whistle.sqlite").items():
        assert f"guardian {username}: key {crypto.fingerprint(public_key)}" in shown.stderr
    assert "channel " in shown.stderr and "first tier" in shown.stderr

    other = tmp_path / "other.json"
    other.write_bytes(crypto.canonical_json({"format": "something-else", "guardians": {}}))
    refused = run("keys", "sign-directory", "--draft", str(other), "--key", key)
    assert refused.returncode != 0 and "not a key directory draft" in refused.stderr
    assert not refused.stdout
