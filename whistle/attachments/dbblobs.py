"""The database blob store: blobs as rows, so that every app node reads what any node wrote.

A stored file is a set of pieces (`blob_pieces`: file, offset, bytes), named by rows of
`blob_names`: a published blob, a staged file, or a blob still being written ("partial", never
opened by name). A name points at a file the way a hard link points at an inode, so publishing a
staged file is one new row, never a copy, and the file's pieces go when its last name does.

Every call uses the store's own connections and commits its own short transaction, outside the
request's: a blob is durable once `commit`, `put` or `stage_publish` returns, whatever the request
does next (the attachments' services delete it through the transaction's hooks if it aborts),
exactly as with files in a directory. A blob is written under the state "partial" and made a
blob in one transaction, so a crash never leaves a half-written blob under a name anyone reads.
Memory stays flat both ways: a writer holds at most one piece, a reader fetches one at a time.

On PostgreSQL the tables are the app's own (migration 0022a), so a database backup holds the
blobs. SQLite lets one connection write at a time, and the request's transaction often holds that
lock while a file streams in (a new case, then its files), so there the store keeps the same
tables in a database file of its own beside the main one (`<name>-blobs.sqlite`).
"""
from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, BinaryIO, Self, cast

from sqlalchemy import Connection, Engine, Table, and_, delete, event, exists, func, insert, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from whistle import crypto
from whistle.attachments.blobs import _NAME, BlobStoreUnavailable, StagedSizeMismatch
from whistle.attachments.models import StoredBlobName, StoredBlobPiece
from whistle.db import checkpoint, make_engine

names_table = cast(Table, StoredBlobName.__table__)
pieces_table = cast(Table, StoredBlobPiece.__table__)

BLOB, STAGED, PARTIAL = "blob", "staged", "partial"
# A writer's bytes go to the database a piece of this size at a time (one row, one transaction).
PIECE_BYTES = 1 << 20
# No piece is larger than this (a staged write of one request's run of chunks, about 1 MiB, is one
# piece): a search for the piece that holds an offset looks no further back.
MAX_PIECE_BYTES = 4 << 20
SQLITE_CACHE_KIB = 256


def side_database_url(url: str) -> str:
    """Where the store keeps its tables beside an SQLite database at `url`: `<name>-blobs.sqlite`."""
    parsed = make_url(url)
    if not parsed.database or parsed.database == ":memory:":
        raise ValueError("the database blob store needs an SQLite database in a file")
    path = Path(parsed.database)
    return str(parsed.set(database=str(path.with_name(f"{path.stem}-blobs.sqlite"))))


class DatabaseBlobStore:
    """Blobs and staged files as rows of the database at `url` (the app's own on PostgreSQL)."""

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        # A pool of its own, never the request's: a request holding its connection while the store
        # takes another could otherwise wait on itself once the shared pool ran dry.
        self.engine: Engine = make_engine(url)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _small_page_cache)
        self._lock = threading.Lock()
        self._ready = parsed.get_backend_name() != "sqlite"  # PostgreSQL: the migrations made the tables
        self._directory = Path(parsed.database).parent if not self._ready and parsed.database else None

    @classmethod
    def for_engine(cls, engine: Engine) -> DatabaseBlobStore:
        """The store for the app whose database is `engine`'s: the same database on PostgreSQL, a
        file beside it on SQLite."""
        url = engine.url.render_as_string(hide_password=False)
        return cls(side_database_url(url) if engine.dialect.name == "sqlite" else url)

    def __repr__(self) -> str:
        return f"DatabaseBlobStore({self.engine.url.render_as_string(hide_password=True)!r})"

    @contextlib.contextmanager
    def _begin(self, *, synced: bool = True) -> Iterator[Connection]:
        """A short transaction of the store's own. `synced` False: its commit does not wait for the
        disk (a staged write, a writer's piece): like a file written without fsync, it is made
        durable by the next synced commit (publishing, a writer's commit), since both engines write
        their log in order and a sync takes everything before it."""
        if not self._ready:
            with self._lock:
                if not self._ready:
                    if self._directory is not None:
                        self._directory.mkdir(parents=True, exist_ok=True, mode=0o700)
                    StoredBlobName.metadata.create_all(self.engine, tables=[names_table, pieces_table])
                    self._ready = True
        with self.engine.begin() as conn:
            if self.engine.dialect.name == "sqlite":  # before the first write begins SQLite's transaction
                conn.exec_driver_sql(f"PRAGMA synchronous = {'FULL' if synced else 'NORMAL'}")
            elif not synced:
                conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
            yield conn

    # --- blobs ---
    def writer(self) -> DatabaseBlobWriter:
        return DatabaseBlobWriter(self, crypto.random_token(24))

    def open(self, name: str) -> BinaryIO:
        _check_name(name)
        with self._begin() as conn:
            found = conn.execute(select(names_table.c.file, names_table.c.size).where(
                names_table.c.name == name, names_table.c.state == BLOB)).first()
        if found is None:
            raise FileNotFoundError(name)
        return DatabaseBlobReader(self, found.file, found.size)  # type: ignore[return-value]

    def delete(self, name: str) -> None:
        _check_name(name)
        with self._begin() as conn:
            dropped = self._drop(conn, name, (BLOB, PARTIAL))
        if dropped:
            self._forget_old_pages()

    def _forget_old_pages(self) -> None:
        """SQLite: empty the write-ahead log into the file, so that it keeps no older copy of the
        pieces just deleted (zeroed in their pages by secure_delete), as the purge does for the main
        database (docs/operations.md 7.5). Elsewhere nothing."""
        # Busy readers: the next delete empties it.
        with contextlib.suppress(SQLAlchemyError):
            checkpoint(self.engine)

    def _drop(self, conn: Connection, name: str, states: tuple[str, ...]) -> bool:
        """Delete the name, and its file's pieces if no other name has that file (True then)."""
        named = and_(names_table.c.name == name, names_table.c.state.in_(states))
        # Every name of the file locked first (on SQLite: the write lock taken before anything is
        # read), so that a name added or dropped at the same time is counted.
        conn.execute(update(names_table).where(names_table.c.file.in_(select(names_table.c.file).where(named)))
                     .values(state=names_table.c.state))
        file = conn.scalar(select(names_table.c.file).where(named))
        if file is None:
            return False
        conn.execute(delete(names_table).where(named))
        if conn.scalar(select(exists().where(names_table.c.file == file))):
            return False
        conn.execute(delete(pieces_table).where(pieces_table.c.file == file))
        return True

    def _insert_pieces(self, conn: Connection, file: str, offset: int, data: bytes, *,
                       most: int = PIECE_BYTES) -> None:
        view = memoryview(data)
        for at in range(0, len(view), most):
            piece = data if len(data) <= most else bytes(view[at:at + most])
            conn.execute(insert(pieces_table).values(file=file, offset=offset + at, size=len(piece), data=piece))

    # --- the staging area ---
    def stage_new(self) -> str:
        staged = crypto.random_token(24)
        with self._begin() as conn:
            conn.execute(insert(names_table).values(name=staged, file=crypto.random_token(24), state=STAGED))
        return staged

    def _lock_staged(self, conn: Connection, staged: str) -> str:
        """The staged file's id, its name locked until the transaction ends (so that writes to one
        staged file happen one after another); FileNotFoundError if there is none."""
        _check_name(staged)
        named = and_(names_table.c.name == staged, names_table.c.state == STAGED)
        conn.execute(update(names_table).where(named).values(state=STAGED))
        file = conn.scalar(select(names_table.c.file).where(named))
        if file is None:
            raise FileNotFoundError(staged)
        return file

    def _staged_file(self, staged: str) -> str:
        _check_name(staged)
        with self._begin() as conn:
            file = conn.scalar(select(names_table.c.file).where(
                names_table.c.name == staged, names_table.c.state == STAGED))
        if file is None:
            raise FileNotFoundError(staged)
        return file

    def stage_write(self, staged: str, offset: int, data: bytes) -> None:
        if not data:
            return
        end = offset + len(data)
        with self._begin(synced=False) as conn:
            file = self._lock_staged(conn, staged)
            # What was there in [offset, end) is replaced; the parts of pieces outside it stay.
            overlapping = conn.execute(select(pieces_table.c.offset, pieces_table.c.size).where(
                pieces_table.c.file == file, pieces_table.c.offset < end,
                pieces_table.c.offset > offset - MAX_PIECE_BYTES,
                pieces_table.c.offset + pieces_table.c.size > offset)).all()
            kept: list[tuple[int, bytes]] = []
            for start, size in overlapping:
                if start < offset or start + size > end:
                    old = conn.execute(select(pieces_table.c.data).where(
                        pieces_table.c.file == file, pieces_table.c.offset == start)).scalar_one()
                    if start < offset:
                        kept.append((start, old[:offset - start]))
                    if start + size > end:
                        kept.append((end, old[end - start:]))
            if overlapping:
                conn.execute(delete(pieces_table).where(
                    pieces_table.c.file == file, pieces_table.c.offset.in_([start for start, _ in overlapping])))
            for start, piece in kept:
                conn.execute(insert(pieces_table).values(file=file, offset=start, size=len(piece), data=piece))
            # One piece for one request's run of chunks (a little over 1 MiB), not a MiB and a sliver.
            self._insert_pieces(conn, file, offset, data, most=MAX_PIECE_BYTES)

    def stage_read(self, staged: str, offset: int, size: int) -> bytes:
        file = self._staged_file(staged)
        with DatabaseBlobReader(self, file, self._length(file)) as reader:
            reader.seek(offset)
            return reader.read(size)

    def stage_pieces(self, staged: str, sizes: Iterable[int]) -> Iterator[bytes]:
        file = self._staged_file(staged)
        with DatabaseBlobReader(self, file, self._length(file)) as reader:
            for size in sizes:
                yield reader.read(size)

    def _length(self, file: str) -> int:
        with self._begin() as conn:
            return conn.scalar(select(func.coalesce(func.max(pieces_table.c.offset + pieces_table.c.size), 0))
                               .where(pieces_table.c.file == file)) or 0

    def stage_publish(self, staged: str, size: int) -> str:
        name = crypto.random_token(24)
        with self._begin() as conn:
            file = self._lock_staged(conn, staged)
            self._check_whole(conn, staged, file, size)
            conn.execute(insert(names_table).values(name=name, file=file, state=BLOB, size=size))
        return name

    def check_staged_whole(self, staged: str, size: int) -> None:
        """StagedSizeMismatch unless the staged file is `size` bytes with no gap (FileNotFoundError
        if there is none): for a store that publishes a staged file by copying it."""
        with self._begin() as conn:
            self._check_whole(conn, staged, self._lock_staged(conn, staged), size)

    def _check_whole(self, conn: Connection, staged: str, file: str, size: int) -> None:
        held, end = conn.execute(select(func.coalesce(func.sum(pieces_table.c.size), 0),
                                        func.coalesce(func.max(pieces_table.c.offset + pieces_table.c.size), 0))
                                 .where(pieces_table.c.file == file)).one()
        if held != size or end != size:  # pieces never overlap: any gap makes the sum short
            raise StagedSizeMismatch(staged)

    def stage_delete(self, staged: str) -> None:
        _check_name(staged)
        with self._begin() as conn:
            dropped = self._drop(conn, staged, (STAGED,))
        if dropped:
            self._forget_old_pages()

    # --- the whole store ---
    def names(self) -> Iterator[str]:
        with self._begin() as conn:
            found = list(conn.scalars(select(names_table.c.name).where(names_table.c.state == BLOB)
                                      .order_by(names_table.c.name)))
        yield from found

    def put(self, name: str, source: BinaryIO) -> None:
        _check_name(name)
        writer = DatabaseBlobWriter(self, name, partial_name=crypto.random_token(24))
        try:
            while piece := source.read(PIECE_BYTES):
                writer.write(piece)
            writer.commit()
        except BaseException:
            writer.discard()
            raise

    def forget_partial(self, before: date) -> int:
        """Delete the blobs begun before `before` and never finished (their writer's node stopped
        mid-write); return how many."""
        with self._begin() as conn:
            names = list(conn.scalars(select(names_table.c.name).where(
                names_table.c.state == PARTIAL, names_table.c.started_on < before)))
        for name in names:
            with self._begin() as conn:
                self._drop(conn, name, (PARTIAL,))
        return len(names)

    def check(self) -> None:
        try:
            with self._begin() as conn:
                conn.execute(select(names_table.c.name).limit(1)).all()
        except (SQLAlchemyError, OSError) as error:
            raise BlobStoreUnavailable(type(error).__name__) from error


def _small_page_cache(dbapi_connection, _record) -> None:
    """Pieces are written once and read once, in order: caching their pages (SQLite's default, 2 MB
    for each pooled connection) only grows the process."""
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
    cursor.close()


def _check_name(name: str) -> None:
    if not _NAME.match(name):
        raise ValueError("bad blob name")


class DatabaseBlobWriter:
    """A new blob, written a piece at a time under the state "partial" and made a blob by commit.
    `partial_name`: the name it is written under until then, when that is not `name` (put, which
    may replace a blob of that name)."""

    def __init__(self, store: DatabaseBlobStore, name: str, *, partial_name: str | None = None) -> None:
        self.name = name
        self._store = store
        self._partial = partial_name or name
        self._file = crypto.random_token(24)
        self._buffer = bytearray()
        self._offset = 0
        with store._begin() as conn:
            conn.execute(insert(names_table).values(name=self._partial, file=self._file, state=PARTIAL,
                                                    started_on=datetime.now(UTC).date()))

    def write(self, data: bytes) -> None:
        self._buffer += data
        if len(self._buffer) >= PIECE_BYTES:
            self._flush(whole_pieces_only=True)

    def _flush(self, *, whole_pieces_only: bool = False) -> None:
        size = len(self._buffer) - len(self._buffer) % PIECE_BYTES if whole_pieces_only else len(self._buffer)
        if not size:
            return
        with self._store._begin(synced=False) as conn:
            self._store._insert_pieces(conn, self._file, self._offset, bytes(self._buffer[:size]))
        del self._buffer[:size]
        self._offset += size

    def commit(self) -> None:
        self._flush()
        with self._store._begin() as conn:
            if self._partial != self.name:
                self._store._drop(conn, self.name, (BLOB,))
            conn.execute(update(names_table).where(names_table.c.name == self._partial,
                                                   names_table.c.state == PARTIAL)
                         .values(name=self.name, state=BLOB, size=self._offset, started_on=None))

    def discard(self) -> None:
        self._buffer.clear()
        with self._store._begin() as conn:
            self._store._drop(conn, self._partial, (PARTIAL,))


_PIECE_AT_POSTGRESQL = ('SELECT "offset", data FROM blob_pieces WHERE file = %s AND "offset" <= %s AND "offset" > %s '
                        'ORDER BY "offset" DESC LIMIT 1')


def _piece_at(conn: Connection, file: str, at: int) -> tuple[int, bytes] | None:
    """The piece of `file` that starts at or last before offset `at` (it may end before `at`)."""
    if conn.dialect.name == "postgresql":
        # Asked for in binary: the bytes as they are, not as hex text to decode (4-5 times faster
        # for a 1 MiB piece here).
        driver: Any = conn.connection.dbapi_connection
        with driver.cursor(binary=True) as cursor:
            cursor.execute(_PIECE_AT_POSTGRESQL, (file, at, at - MAX_PIECE_BYTES))
            row = cursor.fetchone()
        return None if row is None else (row[0], bytes(row[1]))
    found = conn.execute(select(pieces_table.c.offset, pieces_table.c.data).where(
        pieces_table.c.file == file, pieces_table.c.offset <= at,
        pieces_table.c.offset > at - MAX_PIECE_BYTES).order_by(pieces_table.c.offset.desc()).limit(1)).first()
    return None if found is None else (found.offset, found.data)


class DatabaseBlobReader:
    """A stored file of `size` bytes read like an open file: each read fetches the pieces it needs,
    one at a time; a gap between pieces (a staged file not yet whole) reads as zeros, as a file's
    unwritten bytes do."""

    def __init__(self, store: DatabaseBlobStore, file: str, size: int) -> None:
        self._store, self._file, self._size = store, file, size
        self._position = 0
        self._piece_start, self._piece = 0, b""

    def _fetch(self) -> None:
        at = self._position
        with self._store._begin() as conn:
            found = _piece_at(conn, self._file, at)
            if found is not None and found[0] + len(found[1]) > at:
                self._piece_start, self._piece = found
                return
            following = conn.scalar(select(func.min(pieces_table.c.offset)).where(
                pieces_table.c.file == self._file, pieces_table.c.offset > at))
        if following is None:  # a blob's pieces leave no gap, nor a staged file's before its end
            raise FileNotFoundError("the stored file was deleted while it was read")
        gap_end = min(following, self._size)
        self._piece_start, self._piece = at, bytes(min(gap_end - at, PIECE_BYTES))

    def read(self, size: int = -1) -> bytes:
        end = self._size if size < 0 else min(self._size, self._position + size)
        out = bytearray()
        while self._position < end:
            inside = self._position - self._piece_start
            if not 0 <= inside < len(self._piece):
                self._fetch()
                inside = self._position - self._piece_start
            taken = self._piece[inside:inside + end - self._position]
            out += taken
            self._position += len(taken)
        return bytes(out)

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._position, 2: self._size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def tell(self) -> int:
        return self._position

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def close(self) -> None:
        self._piece = b""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()
