"""The shred key store: random keys that wrap what a purge or an erasure must make unreadable.

Every key grant of a case is wrapped under the case's shred key, every case item under its own,
and every file's header under the file's (whistle/crypto/shredding.py, docs/crypto.md). The keys
live here, in a database of their own, never in the main one and never in its backups
(docs/operations.md): destroying a key makes every copy of what it wraps unreadable, including
copies of the main database and blob store taken before.

The store holds nothing but (handle, key) pairs: a handle is 16 random bytes, named by the row it
wraps (`cases.shred_handle`, `case_items.shred_handle`, `attachments.shred_handle`); nothing here
names a case. Each change is committed at once, outside the main transaction: a key made in a
transaction that then rolls back is an orphan, harmless; a key destroyed stays destroyed even if
the transaction that destroyed it fails afterwards (the purge or erasure is simply run again).

Each database session carries its store in `dbsession.info` (whistle.db.make_session_factory):
`shred_store_of(dbsession)` finds it wherever a session was made (the app, the tick, the CLI, the
tests' fixtures).
"""
from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import Column, LargeBinary, MetaData, Table, create_engine, delete, event, insert, select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

from whistle.crypto import random_bytes

HANDLE_SIZE = 16
KEY_SIZE = 32
DEFAULT_FILE_NAME = "shred-keys.sqlite"
INFO_KEY = "shred_store"

_metadata = MetaData()
shred_keys = Table(
    "shred_keys",
    _metadata,
    Column("handle", LargeBinary(HANDLE_SIZE), primary_key=True),
    Column("key", LargeBinary(KEY_SIZE), nullable=False),
)


# How many times this process has destroyed keys: a session's cache of keys it fetched
# (whistle.cases.shredded) is dropped when this changes, so a destroyed key is not used again here.
_destroyed = 0


def destroyed_generation() -> int:
    return _destroyed


class ShredStoreMissing(RuntimeError):
    """A database session was made without a shred store (a bug in whoever made the session)."""


class ShredStore:
    """The shred keys, in the database at `url` (SQLite or PostgreSQL; never the main database)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine: Engine | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"ShredStore({make_url(self.url).render_as_string(hide_password=True)!r})"

    @property
    def engine(self) -> Engine:
        """The store's engine, made (and its one table created) on first use."""
        with self._lock:
            if self._engine is None:
                url = make_url(self.url)
                if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
                    Path(url.database).parent.mkdir(parents=True, exist_ok=True)
                engine = create_engine(self.url)
                if engine.dialect.name == "sqlite":
                    event.listen(engine, "connect", _sqlite_pragmas)
                _metadata.create_all(engine)
                self._engine = engine
            return self._engine

    def new_key(self) -> tuple[bytes, bytes]:
        """A new (16-byte handle, 32-byte key), committed in the store before this returns."""
        handle, key = random_bytes(HANDLE_SIZE), random_bytes(KEY_SIZE)
        with self.engine.begin() as connection:
            connection.execute(insert(shred_keys).values(handle=handle, key=key))
        return handle, key

    def keys(self, handles: Iterable[bytes | None]) -> dict[bytes, bytes]:
        """The keys of `handles` that still exist, by handle (None handles are skipped)."""
        wanted = sorted({bytes(handle) for handle in handles if handle is not None})
        found: dict[bytes, bytes] = {}
        with self.engine.connect() as connection:
            for start in range(0, len(wanted), 500):  # stay under SQLite's bound-parameter limit
                batch = wanted[start:start + 500]
                rows = connection.execute(select(shred_keys.c.handle, shred_keys.c.key)
                                          .where(shred_keys.c.handle.in_(batch)))
                found.update((bytes(row.handle), bytes(row.key)) for row in rows)
        return found

    def destroy(self, handles: Iterable[bytes | None]) -> None:
        """Delete the keys of `handles` for good, committed at once; handles already gone are fine."""
        global _destroyed
        doomed = sorted({bytes(handle) for handle in handles if handle is not None})
        if not doomed:
            return
        with self.engine.begin() as connection:
            for start in range(0, len(doomed), 500):
                connection.execute(delete(shred_keys).where(shred_keys.c.handle.in_(doomed[start:start + 500])))
        _destroyed += 1
        if self.engine.dialect.name == "sqlite":
            # secure_delete zeroed the rows in the page; the checkpoint writes that page back into
            # the database file and empties the write-ahead log, which held the key's earlier copy.
            with self.engine.connect() as connection:
                connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))

    def dispose(self) -> None:
        with self._lock:
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    # A deleted key's bytes are overwritten in its page, not left in a free page to be read back.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


_stores: dict[str, ShredStore] = {}
_stores_lock = threading.Lock()


def open_shred_store(url: str) -> ShredStore:
    """The store at `url`, one per URL in a process (its engine is made on first use)."""
    if not url:
        raise ValueError("no shred store configured: set whistle.shred_store.url (docs/operations.md)")
    with _stores_lock:
        store = _stores.get(url)
        if store is None:
            store = _stores[url] = ShredStore(url)
        return store


def default_store_url(db_url: str) -> str:
    """Where the store is when whistle.shred_store.url is empty: a SQLite file beside the main SQLite
    database. "" for any other main database: there the store must be configured."""
    url = make_url(db_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return ""
    return f"sqlite:///{Path(url.database).parent / DEFAULT_FILE_NAME}"


def shred_store_of(dbsession: Session) -> ShredStore:
    """The shred store bound to `dbsession`."""
    store = dbsession.info.get(INFO_KEY)
    if store is None:
        raise ShredStoreMissing("this database session has no shred store: make it with "
                                "whistle.db.make_session_factory(engine, shred_store)")
    return store
