"""Blob stores: where attachment ciphertext lives, chosen by `whistle.attachments.blob_store`:
files in a directory (`local`, this module), rows of the app's database (`database`, dbblobs.py),
or objects in an S3-compatible bucket (`s3`, s3blobs.py). make_blob_store builds the one chosen."""
from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol

from pyramid.path import DottedNameResolver

from whistle import crypto
from whistle.settings import ConfigurationError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from whistle.settings import Settings

_NAME = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
STAGING = "staging"


class BlobWriter(Protocol):
    name: str

    def write(self, data: bytes) -> None: ...

    def commit(self) -> None:
        """Make the blob visible under `name` (atomically)."""

    def discard(self) -> None:
        """Throw away whatever was written; the name stays unused."""


class BlobStore(Protocol):
    def writer(self) -> BlobWriter: ...

    def open(self, name: str) -> BinaryIO: ...

    def delete(self, name: str) -> None: ...

    # The staging area: a file uploaded in chunks (docs/attachments.md), written piece by piece at
    # its offsets as the chunks arrive, in any order, until it becomes a blob.
    def stage_new(self) -> str:
        """Make an empty staged file; return its name (random, unrelated to any blob's)."""

    def stage_write(self, staged: str, offset: int, data: bytes) -> None:
        """Write `data` at `offset` of the staged file. Not yet durably: a crash may lose it until
        stage_publish has synced the file (the caller records what it wrote, to check then)."""

    def stage_read(self, staged: str, offset: int, size: int) -> bytes:
        """Up to `size` bytes of the staged file from `offset` (fewer where it ends)."""

    def stage_pieces(self, staged: str, sizes: Iterable[int]) -> Iterator[bytes]:
        """The staged file read from its start in consecutive pieces of `sizes` bytes (shorter, or
        empty, where the file ends), one piece in memory at a time."""

    def stage_publish(self, staged: str, size: int) -> str:
        """Make the staged file, which must be `size` bytes, a blob under a new name, durably (the
        file is synced once, before it is linked, and the link after), and return that name; the
        staged file stays until stage_delete (so a transaction that aborts can delete the blob
        and still have its upload)."""

    def stage_delete(self, staged: str) -> None: ...

    # Whole-store operations: moving blobs between stores, backups and readiness.
    def names(self) -> Iterator[str]:
        """The name of every published blob (not staged files, not half-written ones)."""

    def put(self, name: str, source: BinaryIO) -> None:
        """Write a blob under the given `name`, read from `source` in pieces, durably; a crash
        never leaves it half-written under that name."""

    def check(self) -> None:
        """Raise BlobStoreUnavailable if the store cannot be written to or read from now."""


class StagedSizeMismatch(Exception):
    """A staged file is not the size it should be: some chunk is missing or was cut short."""


class BlobStoreUnavailable(Exception):
    """The blob store cannot be reached (its directory, database or bucket)."""


COPY_PIECE = 1 << 20  # bytes read at a time when a blob is copied whole


class LocalBlobStore:
    """Files in one directory, named by random ids unrelated to the case or the file.

    A blob is written under a temporary name in the same directory and renamed into place,
    so a crash never leaves a half-written blob under a real name."""

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)

    def _path(self, name: str) -> Path:
        if not _NAME.match(name):  # never let a stored name walk out of the directory
            raise ValueError("bad blob name")
        return self.directory / name

    def writer(self) -> LocalBlobWriter:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        return LocalBlobWriter(self.directory, crypto.random_token(24))

    def open(self, name: str) -> BinaryIO:
        return self._path(name).open("rb")

    def delete(self, name: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path(name).unlink()

    # A staged file lives in the subdirectory "staging" (a name no blob can have), on the same
    # file system as the blobs, so publishing it is a hard link: no copy, and atomic.
    def _staged_path(self, staged: str) -> Path:
        if not _NAME.match(staged):
            raise ValueError("bad staged name")
        return self.directory / STAGING / staged

    def stage_new(self) -> str:
        (self.directory / STAGING).mkdir(parents=True, exist_ok=True, mode=0o700)
        staged = crypto.random_token(24)
        os.close(os.open(self._staged_path(staged), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        return staged

    def stage_write(self, staged: str, offset: int, data: bytes) -> None:
        fd = os.open(self._staged_path(staged), os.O_WRONLY)
        try:
            view = memoryview(data)
            while view:
                written = os.pwrite(fd, view, offset)
                view, offset = view[written:], offset + written
        finally:
            os.close(fd)

    def stage_read(self, staged: str, offset: int, size: int) -> bytes:
        with self._staged_path(staged).open("rb") as handle:
            handle.seek(offset)
            return handle.read(size)

    def stage_pieces(self, staged: str, sizes: Iterable[int]) -> Iterator[bytes]:
        with self._staged_path(staged).open("rb") as handle:
            for size in sizes:
                yield handle.read(size)

    def stage_publish(self, staged: str, size: int) -> str:
        source = self._staged_path(staged)
        fd = os.open(source, os.O_RDONLY)
        try:
            if os.fstat(fd).st_size != size:
                raise StagedSizeMismatch(staged)
            os.fsync(fd)  # the chunks were written without syncing: all of them at once, here
        finally:
            os.close(fd)
        name = crypto.random_token(24)
        os.link(source, self._path(name))
        _sync_directory(self.directory)
        return name

    def stage_delete(self, staged: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._staged_path(staged).unlink()

    def forget_partial(self, before: date) -> int:
        """Delete the `.partial-*` files last written before the day `before` (UTC): blobs a process
        began and never finished (it was killed mid-write); return how many."""
        if not self.directory.is_dir():
            return 0
        cutoff = datetime.combine(before, time.min, tzinfo=UTC).timestamp()
        count = 0
        for entry in self.directory.glob(".partial-*"):
            with contextlib.suppress(FileNotFoundError):
                if entry.stat().st_mtime < cutoff:
                    entry.unlink()
                    count += 1
        return count

    def names(self) -> Iterator[str]:
        if not self.directory.is_dir():
            return
        for entry in sorted(self.directory.iterdir()):
            if entry.is_file() and _NAME.match(entry.name):
                yield entry.name

    def put(self, name: str, source: BinaryIO) -> None:
        self._path(name)  # checks the name
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        writer = LocalBlobWriter(self.directory, name)
        try:
            while piece := source.read(COPY_PIECE):
                writer.write(piece)
            writer.commit()
        except BaseException:
            writer.discard()
            raise
        _sync_directory(self.directory)

    def check(self) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not os.access(self.directory, os.R_OK | os.W_OK | os.X_OK):
                raise BlobStoreUnavailable(f"{self.directory} is not readable and writable")
        except OSError as error:
            raise BlobStoreUnavailable(str(error)) from error


def _sync_directory(directory: Path) -> None:
    """Make a new name in `directory` durable (on POSIX, a directory's entries are synced apart
    from the files they name)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LocalBlobWriter:
    def __init__(self, directory: Path, name: str) -> None:
        self.name = name
        self._final = directory / name
        self._temp = directory / f".partial-{name}"
        fd = os.open(self._temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._handle = os.fdopen(fd, "wb")

    def write(self, data: bytes) -> None:
        self._handle.write(data)

    def commit(self) -> None:
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()
        os.replace(self._temp, self._final)

    def discard(self) -> None:
        self._handle.close()
        with contextlib.suppress(FileNotFoundError):
            self._temp.unlink()


STORE_KINDS = ("local", "database", "s3")


def make_blob_store(settings: Settings, engine: Engine) -> BlobStore:
    """The blob store the settings choose (`whistle.attachments.blob_store`): `local`, `database`
    (the database of `engine`, the app's), `s3`, or a dotted class name, constructed with the
    storage directory. A ConfigurationError names what is wrong with the choice."""
    return blob_store_of_kind(settings.blob_store, settings, engine)


def blob_store_of_kind(kind: str, settings: Settings, engine: Engine) -> BlobStore:
    """The store of `kind` (as make_blob_store reads it), whatever the settings choose: `whistle
    blobs move` builds the store it copies to this way."""
    if kind == "local":
        return LocalBlobStore(settings.storage_dir)
    if kind == "database":
        # Imported here: dbblobs imports this module (its names and errors).
        from whistle.attachments.dbblobs import DatabaseBlobStore

        return DatabaseBlobStore.for_engine(engine)
    if kind == "s3":
        # Imported here: boto3 is an extra (whistle[s3]), needed only by those who choose S3.
        from whistle.attachments.s3blobs import S3BlobStore

        return S3BlobStore.from_settings(settings, engine)
    try:
        store_class = DottedNameResolver().resolve(kind)
    except (ImportError, AttributeError, ValueError):
        raise ConfigurationError(f"bad value for 'whistle.attachments.blob_store': {kind!r} is none of "
                                 f"{', '.join(STORE_KINDS)}, nor a class that can be imported") from None
    return store_class(settings.storage_dir)
