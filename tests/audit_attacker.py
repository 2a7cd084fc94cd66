"""A database writer attacking the audit log: plain SQL on the SQLite file, recomputing every hash
the way the (public) chain does. What it cannot make is a MAC: the audit key is in a file."""
from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from pathlib import Path

from whistle.audit.services import event_hash, record
from whistle.cli import env


def add_events(ini: Path, count: int, *, action: str = "test.event") -> None:
    """`count` audit events, recorded as whistle does (through a session carrying the audit key)."""
    environment = env.load(str(ini))
    with env.dbsession(environment) as dbsession:
        for number in range(count):
            record(dbsession, environment.clock, actor="system", action=action, detail={"n": number})


def database(directory: Path) -> sqlite3.Connection:
    """The installation's database, opened as anyone who can write the file would."""
    return sqlite3.connect(directory / "var" / "whistle.sqlite")


def rewrite_from(connection: sqlite3.Connection, seq: int, detail: dict) -> None:
    """Change event `seq`'s detail, then recompute its hash, every hash after it and the head's,
    so the chain itself checks out again."""
    connection.execute("UPDATE audit_events SET detail = ? WHERE seq = ?", (json.dumps(detail), seq))
    rows = connection.execute("SELECT seq, at, actor, action, case_id, detail FROM audit_events WHERE seq >= ? "
                              "ORDER BY seq", (seq,)).fetchall()
    (prev_hash,) = connection.execute("SELECT prev_hash FROM audit_events WHERE seq = ?", (seq,)).fetchone()
    for number, at, actor, action, case_id, stored_detail in rows:
        digest = event_hash(prev_hash, number, datetime.fromisoformat(at), actor, action, case_id,
                            json.loads(stored_detail))
        connection.execute("UPDATE audit_events SET prev_hash = ?, hash = ? WHERE seq = ?", (prev_hash, digest, number))
        prev_hash = digest
    connection.execute("UPDATE audit_head SET hash = ? WHERE id = 1", (prev_hash,))
    connection.commit()
