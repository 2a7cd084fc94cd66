"""The audit log against a database writer (tests/audit_attacker.py: plain SQL on the SQLite file,
every hash recomputed), with the `whistle` command's own code run in process on a real .ini: a
copy of the checkpoints kept elsewhere, edited checkpoint lines, a rollback the service carried
on from, a MAC not made with the audit key, and the first check after the upgrade that added the
head's MAC. (tests/e2e/test_audit_anchor.py runs the command as a process.)"""
from __future__ import annotations

import contextlib
import io
import re
import subprocess

import pytest

from tests.audit_attacker import add_events, database, rewrite_from
from tests.e2e.server import Server
from whistle.cli import main


@pytest.fixture
def server(tmp_path):
    server = Server(tmp_path)  # not started: its .ini, key files and database are used
    assert run(server, "db", "upgrade").returncode == 0
    return server


def run(server, *args) -> subprocess.CompletedProcess:
    """`whistle -c INI ARGS` in this process: its exit status and what it printed."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(["-c", str(server.ini), *args])
    return subprocess.CompletedProcess(args, status, out.getvalue(), err.getvalue())


def checkpoint_file(server):
    return server.directory / "var" / "keys" / "audit-checkpoints"


def verify(server, *args) -> subprocess.CompletedProcess:
    return run(server, "audit", "verify", *args)


def test_a_head_mac_made_without_the_audit_key_fails(server):
    """The attacker MACs the rewritten head with every key they could have: their own, or none."""
    from whistle import crypto

    add_events(server.ini, 4)
    with database(server.directory) as connection:
        rewrite_from(connection, 2, {"n": 42})
        length, head_hash = connection.execute("SELECT length, hash FROM audit_head").fetchone()
        for guessed_key in (bytes(32), crypto.new_secret_key()):
            forged = crypto.audit_head_mac(guessed_key, length, head_hash)
            connection.execute("UPDATE audit_head SET mac = ?", (forged,))
            connection.commit()
            result = verify(server)
            assert result.returncode == 1 and "head MAC does not check out" in result.stdout


def test_a_copy_of_the_checkpoints_kept_elsewhere_catches_a_rollback_of_both(server, tmp_path):
    """The attacker rolls back the database and cuts the local checkpoint file to match; the copy
    shipped off the host (or the log's checkpoint lines) still holds the later checkpoint."""
    add_events(server.ini, 2)
    assert run(server, "audit", "checkpoint").returncode == 0
    with database(server.directory) as connection:
        old_head = connection.execute("SELECT length, hash, mac FROM audit_head").fetchone()
    add_events(server.ini, 2)
    assert run(server, "audit", "checkpoint").returncode == 0
    shipped = tmp_path / "shipped-log"
    shipped.write_text("".join(f"2026-12-05 12:00:00,000 INFO  [whistle.audit.services] audit checkpoint {line}\n"
                               for line in checkpoint_file(server).read_text().splitlines()))
    with database(server.directory) as connection:
        connection.execute("DELETE FROM audit_events WHERE seq > 2")
        connection.execute("UPDATE audit_head SET length = ?, hash = ?, mac = ?", old_head)
        connection.commit()
    local = checkpoint_file(server)
    local.write_text(local.read_text().splitlines()[0] + "\n")
    assert verify(server).returncode == 0  # the local file alone has been made to agree
    result = verify(server, "--checkpoints", str(shipped))
    assert result.returncode == 1 and "the checkpoint on line 2 was taken at event 4" in result.stdout
    missing = verify(server, "--checkpoints", str(tmp_path / "nowhere"))
    assert missing.returncode == 1 and "cannot read the checkpoint file" in missing.stderr


@pytest.mark.parametrize(("change", "expected"), [
    (lambda line: line.replace('"seq":3', '"seq":2'),
     "audit checkpoint on line 1 (event 2) does not check out: the line was changed"),
    (lambda line: re.sub(r'"at":"[^"]+"', '"at":"2020-01-01T00:00:00Z"', line),
     "audit checkpoint on line 1 (event 3) does not check out: the line was changed"),
    (lambda line: line[:-3] + "}", "audit checkpoint file, line 1: not a checkpoint"),
])
def test_an_edited_checkpoint_line_fails(server, change, expected):
    add_events(server.ini, 3)
    assert run(server, "audit", "checkpoint").returncode == 0
    path = checkpoint_file(server)
    path.write_text(change(path.read_text().strip()) + "\n")
    result = verify(server)
    assert result.returncode == 1 and expected in result.stdout, result.stdout


def test_a_rollback_followed_by_new_events_fails_against_the_checkpoint(server):
    """The head put back with its old MAC, and then the service carries on appending (and signing,
    since that head checks out): the chain is long again, but event 7 is not the one checkpointed."""
    add_events(server.ini, 4)
    with database(server.directory) as connection:
        old_head = connection.execute("SELECT length, hash, mac FROM audit_head").fetchone()
    add_events(server.ini, 3)
    assert run(server, "audit", "checkpoint").returncode == 0
    with database(server.directory) as connection:
        connection.execute("DELETE FROM audit_events WHERE seq > 4")
        connection.execute("UPDATE audit_head SET length = ?, hash = ?, mac = ?", old_head)
        connection.commit()
    add_events(server.ini, 5, action="test.later")
    result = verify(server)
    assert result.returncode == 1
    assert result.stdout.strip() == ("audit event 7 is not the one the checkpoint on line 1 "
                                     "recorded: the chain was rewritten or rolled back")


def test_the_first_check_after_the_upgrade_signs_the_head_and_a_removed_mac_is_named(server):
    add_events(server.ini, 3)
    with database(server.directory) as connection:  # as the upgrade that added the column leaves it
        connection.execute("UPDATE audit_head SET mac = NULL")
        connection.commit()
    add_events(server.ini, 1)  # an append does not sign a head it has not checked
    with database(server.directory) as connection:
        assert connection.execute("SELECT mac FROM audit_head").fetchone() == (None,)
    first = verify(server)
    assert first.returncode == 0, first.stdout + first.stderr
    assert first.stdout.startswith("the audit head had no MAC yet")
    assert run(server, "audit", "checkpoint").returncode == 0
    with database(server.directory) as connection:  # now taking the MAC away is tampering
        connection.execute("UPDATE audit_head SET mac = NULL")
        connection.commit()
    result = verify(server)
    assert result.returncode == 1 and "audit head has no MAC, though checkpoints were written" in result.stdout
