"""The database half of `whistle backup`: an online, consistent copy of the main database, and
loading one into an empty database, for SQLite (the backup API) and PostgreSQL (pg_dump and
pg_restore in the custom format).

Each copy is taken in one read transaction, and what the rest of the backup needs to know of the
copied database (its Alembic revision, its counts, the blobs its attachments name) is read from
that same state: on SQLite from the copy itself, on PostgreSQL from the snapshot pg_dump is given.
"""
from __future__ import annotations

import contextlib
import glob
import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import MetaData, create_engine, func, select, text
from sqlalchemy.engine import URL, Connection, Engine, make_url

from whistle.accounts.models import Account
from whistle.audit.models import AuditEvent
from whistle.cases.models import Attachment, Case, CaseItem
from whistle.cli.env import CommandError
from whistle.intake_channels.models import Channel

SQLITE_FILE = "database.sqlite"
POSTGRES_FILE = "database.dump"

# What the manifest counts, and what tells a database holding a deployment from an empty one.
COUNTED = {"cases": Case, "items": CaseItem, "attachments": Attachment, "accounts": Account,
           "channels": Channel, "audit_events": AuditEvent}


@dataclass(frozen=True)
class CopiedDatabase:
    """What a copy holds: its file (in the backup directory), the Alembic revisions it is at, its
    counts, and the blob of each attachment with the attachment's shred handle (None: stored
    before the shred layer)."""

    engine: str
    file: str
    revisions: list[str]
    counts: dict[str, int]
    blobs: list[tuple[str, bytes | None]]


def engine_name(db_url: str) -> str:
    return make_url(db_url).get_backend_name()


def facts(connection: Connection) -> tuple[list[str], dict[str, int], list[tuple[str, bytes | None]]]:
    """The revisions, counts and attachments' blobs of the database `connection` sees."""
    revisions = sorted(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())
    counts = {name: connection.scalar(select(func.count()).select_from(model)) or 0
              for name, model in COUNTED.items()}
    rows = connection.execute(select(Attachment.blob_name, Attachment.shred_handle).order_by(Attachment.id))
    blobs = [(row.blob_name, bytes(row.shred_handle) if row.shred_handle is not None else None) for row in rows]
    return revisions, counts, blobs


def copy_database(engine: Engine, db_url: str, directory: Path) -> CopiedDatabase:
    name = engine_name(db_url)
    if name == "sqlite":
        return _copy_sqlite(engine, directory / SQLITE_FILE)
    if name == "postgresql":
        return _copy_postgres(engine, db_url, directory / POSTGRES_FILE)
    raise CommandError(f"cannot back up a {name} database: whistle backs up SQLite and PostgreSQL")


def is_empty(engine: Engine) -> bool:
    """No whistle tables, or none of them holding a channel, an account, a case or an audit event
    (a database `whistle db upgrade` has just made is empty)."""
    with engine.connect() as connection:
        tables = _table_names(connection)
        if "cases" not in tables:
            return not tables - {"alembic_version"}
        return not any(connection.scalar(select(func.count()).select_from(COUNTED[name]))
                       for name in ("cases", "accounts", "channels", "audit_events"))


def _table_names(connection: Connection) -> set[str]:
    metadata = MetaData()
    metadata.reflect(connection)
    return set(metadata.tables)


def load_database(engine: Engine, db_url: str, copied_engine: str, file: Path) -> None:
    """Replace whatever the (empty, or --force) database holds with the copy in `file`."""
    name = engine_name(db_url)
    if name != copied_engine:
        raise CommandError(f"this backup is of a {copied_engine} database and the configuration names a {name} one: "
                           "restore into the same kind of database")
    if name == "sqlite":
        _load_sqlite(engine, file)
    else:
        _load_postgres(engine, db_url, file)


# --- SQLite ---

def _copy_sqlite(engine: Engine, target: Path) -> CopiedDatabase:
    """sqlite3's online backup, in one step: a single read transaction, so the copy is the database
    as one moment left it while the app goes on writing (WAL lets it)."""
    raw = engine.raw_connection()
    try:
        source = raw.driver_connection
        assert isinstance(source, sqlite3.Connection)
        destination = sqlite3.connect(target)
        try:
            source.backup(destination)
            # One self-contained file: no write-ahead log beside it in the backup.
            destination.execute("PRAGMA journal_mode=DELETE")
        finally:
            destination.close()
    finally:
        raw.close()
    os.chmod(target, 0o600)
    with _read_only_sqlite(target) as connection:
        revisions, counts, blobs = facts(connection)
    return CopiedDatabase("sqlite", target.name, revisions, counts, blobs)


@contextlib.contextmanager
def _read_only_sqlite(path: Path) -> Iterator[Connection]:
    """The copy read as it is: immutable, so reading it writes nothing beside it."""
    engine = create_engine("sqlite://", creator=lambda: sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True))
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def _load_sqlite(engine: Engine, file: Path) -> None:
    """The backup API the other way: every page of the target replaced by the copy's."""
    source = sqlite3.connect(f"file:{file}?mode=ro&immutable=1", uri=True)
    try:
        raw = engine.raw_connection()
        try:
            destination = raw.driver_connection
            assert isinstance(destination, sqlite3.Connection)
            source.backup(destination)
        finally:
            raw.close()
    finally:
        source.close()
    engine.dispose()


# --- PostgreSQL ---

def _copy_postgres(engine: Engine, db_url: str, target: Path) -> CopiedDatabase:
    """pg_dump in the custom format, given a snapshot exported from a REPEATABLE READ transaction
    of ours: the dump and what we read of it (revision, counts, blobs) are the same state."""
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            major = _server_major(connection)
            snapshot = connection.scalar(text("SELECT pg_export_snapshot()"))
            revisions, counts, blobs = facts(connection)
            tool = find_pg_tool("pg_dump", major)
            # The snapshot must stay exported (this transaction open) until pg_dump has taken it.
            _run([tool, "--format=custom", f"--file={target}", f"--snapshot={snapshot}",
                  f"--dbname={_libpq_uri(db_url)}"], db_url, "pg_dump")
    os.chmod(target, 0o600)
    return CopiedDatabase("postgresql", target.name, revisions, counts, blobs)


def _load_postgres(engine: Engine, db_url: str, file: Path) -> None:
    with engine.connect() as connection:
        major = _server_major(connection)
    # Whatever the target holds goes first (an empty schema from `db upgrade`, or, with --force, a
    # deployment): pg_restore then makes every table as the copy has it, in one transaction.
    metadata = MetaData()
    with engine.begin() as connection:
        metadata.reflect(connection)
        metadata.drop_all(connection)
    engine.dispose()
    _run([find_pg_tool("pg_restore", major), "--no-owner", "--no-privileges", "--exit-on-error",
          "--single-transaction", f"--dbname={_libpq_uri(db_url)}", str(file)], db_url, "pg_restore")


def _server_major(connection: Connection) -> int:
    return int(connection.scalar(text("SHOW server_version_num"))) // 10000


def _libpq_uri(db_url: str) -> str:
    """The URL as libpq takes it, without its password (which goes through PGPASSWORD: a command
    line is visible to every user of the machine)."""
    # URL.set() leaves a field it is given None for as it was: the password goes with _replace.
    url: URL = make_url(db_url).set(drivername="postgresql")._replace(password=None)
    return url.render_as_string(hide_password=False)


def _run(command: list[str], db_url: str, what: str) -> None:
    environ = dict(os.environ)
    password = make_url(db_url).password
    if password:
        environ["PGPASSWORD"] = str(password)
    result = subprocess.run(command, env=environ, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise CommandError(f"{what} failed (exit status {result.returncode}): {last}")


# "pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)": the major version follows the product name.
_VERSION = re.compile(r"\(PostgreSQL\)\s+(\d+)")


def _tool_major(path: str) -> int | None:
    try:
        result = subprocess.run([path, "--version"], capture_output=True, text=True, check=False, timeout=30)
    except OSError:
        return None
    match = _VERSION.search(result.stdout)
    return int(match.group(1)) if match else None


def _candidates(name: str) -> list[str]:
    """Where a PostgreSQL client program may be: beside the server's pg_ctl, in Debian's versioned
    directories (newest first), then on PATH."""
    found: list[str] = []
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl:
        found.append(str(Path(os.path.realpath(pg_ctl)).parent / name))
    found += [str(Path(directory) / name) for directory in
              sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_directory_version, reverse=True)]
    on_path = shutil.which(name)
    if on_path:
        found.append(on_path)
    unique: list[str] = []
    for path in found:
        if path not in unique and os.access(path, os.X_OK):
            unique.append(path)
    return unique


def _directory_version(directory: str) -> int:
    part = Path(directory).parent.name
    return int(part) if part.isdigit() else 0


def find_pg_tool(name: str, server_major: int) -> str:
    """pg_dump or pg_restore of the server's major version, or else the newest newer one; an older
    one cannot read a newer server's catalogue (or the archives its pg_dump writes)."""
    versions = [(path, _tool_major(path)) for path in _candidates(name)]
    usable = [(path, major) for path, major in versions if major is not None and major >= server_major]
    if not usable:
        seen = ", ".join(f"{path} ({major or 'unknown version'})" for path, major in versions) or "none"
        raise CommandError(f"no {name} of PostgreSQL {server_major} or newer found (the server is {server_major}; "
                           f"found: {seen}): install the PostgreSQL client programs of the server's version")
    usable.sort(key=lambda item: (item[1] != server_major, -item[1]))
    return usable[0][0]
