"""The audit log against a database writer, with `whistle audit verify`, `audit checkpoint` and
`tick` run as processes (tests/audit_attacker.py: plain SQL on the SQLite file, every hash
recomputed). More cases, with the command's code run in process: tests/functional/test_audit_anchor.py."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pytest

from tests.audit_attacker import add_events, database, rewrite_from
from tests.e2e.server import BIN, Server


@pytest.fixture
def server(tmp_path):
    server = Server(tmp_path)  # not started: its .ini, key files and database are used
    server.whistle("db", "upgrade")
    return server


def run(server, *args) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "whistle"), "-c", str(server.ini), *args], capture_output=True, text=True,
                          timeout=120, check=False)


def checkpoint_file(server):
    return server.directory / "var" / "keys" / "audit-checkpoints"


def verify(server, *args) -> subprocess.CompletedProcess:
    return run(server, "audit", "verify", *args)


def test_an_intact_chain_with_checkpoints_passes(server):
    add_events(server.ini, 3)
    first = run(server, "audit", "checkpoint")
    assert first.returncode == 0 and "checkpoint at event 3 added" in first.stdout, first.stderr
    add_events(server.ini, 2)
    assert run(server, "audit", "checkpoint").returncode == 0
    again = run(server, "audit", "checkpoint")
    assert again.returncode == 0 and "no events since the last checkpoint" in again.stdout
    result = verify(server)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == (f"5 events, chain intact, head MAC checks out, 2 checkpoints in "
                                     f"{checkpoint_file(server)} check out")
    lines = checkpoint_file(server).read_text().splitlines()
    assert [json.loads(line)["seq"] for line in lines] == [3, 5]
    assert set(json.loads(lines[0])) == {"seq", "hash", "at", "mac"}


def test_a_rewritten_event_with_every_hash_recomputed_fails_on_the_head_mac(server):
    add_events(server.ini, 6)
    with database(server.directory) as connection:
        rewrite_from(connection, 3, {"n": 99})
    result = verify(server)
    assert result.returncode == 1
    assert result.stdout.strip() == ("audit head MAC does not check out: the "
                                     "chain or its head was rewritten by someone without the audit key (or the "
                                     "audit key file is not this installation's)")
    # Appending afterwards does not launder the rewrite: a head that does not check out is not re-signed.
    add_events(server.ini, 1)
    assert verify(server).returncode == 1
    refused = run(server, "audit", "checkpoint")
    assert refused.returncode == 1
    assert "no checkpoint written: audit head MAC does not check out" in refused.stderr
    assert not checkpoint_file(server).exists()


def test_events_cut_off_the_end_and_the_head_set_back_fail_against_the_checkpoint(server):
    add_events(server.ini, 4)
    with database(server.directory) as connection:
        old_head = connection.execute("SELECT length, hash, mac FROM audit_head").fetchone()
    add_events(server.ini, 3)
    # The tick writes the first checkpoint (no checkpoint yet: one is due at once).
    tick = run(server, "tick")
    assert tick.returncode == 0, tick.stderr
    # (at event 7, or later if the tick's own jobs recorded events: it signs the first key directory)
    checkpointed = int(re.search(r"^audit checkpoint: at event (\d+)$", tick.stdout, re.MULTILINE).group(1))
    assert checkpointed >= 7
    # The database writer removes events 5 to 7 and puts back the head as it was at event 4, MAC
    # and all: the chain and the head check out, but the chain is shorter than what was checkpointed.
    with database(server.directory) as connection:
        connection.execute("DELETE FROM audit_events WHERE seq > 4")
        connection.execute("UPDATE audit_head SET length = ?, hash = ?, mac = ?", old_head)
        connection.commit()
    result = verify(server)
    assert result.returncode == 1
    assert result.stdout.strip() == (f"audit chain has 4 events, but the checkpoint on line 1 was taken at event "
                                     f"{checkpointed}: events at the end were removed (the chain was cut short or "
                                     "rolled back)")
    assert "events at the end were removed" in run(server, "tick").stdout  # the tick says so too, and writes nothing
    assert len(checkpoint_file(server).read_text().splitlines()) == 1


def test_a_missing_or_unreadable_audit_key_file_stops_the_command_with_a_clear_error(server):
    server.ini.write_text(server.ini.read_text().replace("whistle.secrets.autocreate = true",
                                                         "whistle.secrets.autocreate = false"))
    assert "audit_key" in run(server, "keys", "init").stdout
    key_file = server.directory / "var" / "keys" / "audit_key"
    assert verify(server).returncode == 0
    key_file.chmod(0o000)
    if not os.access(key_file, os.R_OK):  # (root reads it anyway)
        unreadable = verify(server)
        assert unreadable.returncode == 2
        assert f"whistle.audit.key_file: cannot read {key_file}: Permission denied" in unreadable.stderr
    key_file.chmod(0o600)
    shutil.move(key_file, key_file.with_name("elsewhere"))
    result = verify(server)
    assert result.returncode == 2
    assert result.stderr.strip() == (f"whistle: configuration error: whistle.audit.key_file: cannot read {key_file}: "
                                     "No such file or directory (create it with `whistle -c FILE keys init`)")
