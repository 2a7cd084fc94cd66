"""`whistle -c FILE blobs move --to local|database|s3`: copy every file's blob to another store."""
from __future__ import annotations

import hashlib
from typing import BinaryIO

from sqlalchemy import select

from whistle.attachments.blobs import (
    COPY_PIECE,
    STORE_KINDS,
    BlobStore,
    BlobStoreUnavailable,
    blob_store_of_kind,
)
from whistle.cases.models import Attachment
from whistle.cli import env as cli_env
from whistle.cli.env import CommandError
from whistle.db import make_engine


class _Hashing:
    """A blob read through, its bytes counted and hashed on the way (for put)."""

    def __init__(self, source: BinaryIO) -> None:
        self._source = source
        self.hash = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        data = self._source.read(size)
        self.hash.update(data)
        self.size += len(data)
        return data


def _fingerprint(store: BlobStore, name: str) -> tuple[int, bytes]:
    """The blob's size and SHA-256, read through once a piece at a time (FileNotFoundError if absent)."""
    digest, size = hashlib.sha256(), 0
    with store.open(name) as handle:
        while piece := handle.read(COPY_PIECE):
            digest.update(piece)
            size += len(piece)
    return size, digest.digest()


def _copy(source: BlobStore, target: BlobStore, name: str) -> tuple[int, bytes]:
    with source.open(name) as handle:
        reading = _Hashing(handle)
        target.put(name, reading)  # type: ignore[arg-type]
    return reading.size, reading.hash.digest()


def _ini_lines(kind: str) -> list[str]:
    lines = [f"whistle.attachments.blob_store = {kind}"]
    if kind == "s3":
        lines.append("(and the whistle.attachments.s3.* settings this command used)")
    return lines


def _move(args) -> int:
    environment = cli_env.load(args.config)
    settings = environment.settings
    from_kind = args.source or settings.blob_store
    if from_kind == args.to:
        raise CommandError(f"the blobs are in the {args.to} store already: name another with --to")
    engine = make_engine(settings.db_url)
    try:
        source = blob_store_of_kind(from_kind, settings, engine)
        target = blob_store_of_kind(args.to, settings, engine)
        for role, store in (("source", source), ("target", target)):
            try:
                store.check()
            except BlobStoreUnavailable as error:
                raise CommandError(f"the {role} store ({store!r}) cannot be used: {error}") from None
        # Every blob the database names: the attachments' (a staged file of an unfinished upload
        # is not a blob; its client sends its chunks again, or it expires within two days).
        with engine.connect() as connection:
            names = list(connection.scalars(select(Attachment.blob_name).order_by(Attachment.id)))
        there = set(target.names())
        copied = skipped = gone = 0
        for name in names:
            try:
                if name in there and _fingerprint(target, name) == _fingerprint(source, name):
                    skipped += 1
                else:
                    expected = _copy(source, target, name)
                    if _fingerprint(target, name) != expected:
                        raise CommandError(f"blob {name} differs in the target store after copying it: nothing "
                                           "was deleted; run the command again")
                    copied += 1
            except FileNotFoundError:
                # Deleted meanwhile (a purge, an erasure), or lost before: said below, never copied.
                if name not in there:
                    gone += 1
                    print(f"not in the source store: blob {name}")
                    continue
                skipped += 1
            if args.delete_source:
                source.delete(name)
    finally:
        engine.dispose()
    print(f"{copied} blobs copied to the {args.to} store and verified (size and SHA-256), {skipped} there already"
          + (f", {gone} missing from the source store" if gone else "")
          + (f"; deleted from the {from_kind} store" if args.delete_source else "") + ".")
    print("Now set in the .ini, and restart every node:")
    for line in _ini_lines(args.to):
        print(f"  {line}")
    print("Files added while this ran are copied by running it again (with the app stopped, nothing is added).")
    return 1 if gone else 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("blobs", help="move the files' blobs to another blob store",
                                   description="Blob stores (docs/attachments.md).")
    commands = parser.add_subparsers(dest="blobs_command", required=True, metavar="COMMAND")
    move = commands.add_parser(
        "move", help="copy every blob the database names to another store, and verify each",
        description="Copy every blob the database names from the configured store (or --from) to the "
                    "store --to, verify each (size and SHA-256 of its bytes), then say what to change in the "
                    ".ini. A blob already in the target with the same bytes is skipped, so the command can be "
                    "run again after an interruption, and once more with the app stopped to copy what was "
                    "added meanwhile. Nothing is deleted from the source unless --delete-source is given, "
                    "and then only after its copy is verified. Exit status 1 if a blob the database names is "
                    "in neither store.")
    move.add_argument("--to", required=True, choices=STORE_KINDS, help="the store to copy to")
    move.add_argument("--from", dest="source", choices=STORE_KINDS,
                      help="the store to copy from (default: whistle.attachments.blob_store)")
    move.add_argument("--delete-source", action="store_true",
                      help="delete each blob from the source store once its copy is verified")
    move.set_defaults(handler=_move)
