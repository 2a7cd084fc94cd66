"""Blob stores: where attachment ciphertext lives. A backend is chosen by dotted name in settings."""
from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path
from typing import BinaryIO, Protocol

from whistle import crypto

_NAME = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


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
