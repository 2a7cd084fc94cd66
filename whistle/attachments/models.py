"""Files a client uploads in chunks, while they are arriving (docs/attachments.md).

An upload in progress names its case, the shape the client announced (how many chunks, how many
bytes in all) and where its chunks are staged in the blob store; each chunk the server has is a
row of its own, so two chunks arriving at once never overwrite each other's record. Nothing here
is content: the chunks are ciphertext the client made, and they live in the blob store's staging
area, not in these rows. The day it began is a date, as every record of a reporter's is.

The database blob store's own tables are here too (StoredBlobName, StoredBlobPiece: dbblobs.py).
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, DateTime, ForeignKey, Integer, LargeBinary, String, false
from sqlalchemy.orm import Mapped, mapped_column

from whistle.db import Base


class PendingUpload(Base):
    __tablename__ = "pending_uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    # What the client calls it: random, so an upload cannot be guessed, and checked against the
    # caller's case on every call besides.
    public_id: Mapped[str] = mapped_column(String(64), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    chunks: Mapped[int] = mapped_column(Integer)
    total_bytes: Mapped[int] = mapped_column(BigInteger)
    staged_name: Mapped[str] = mapped_column(String(64), unique=True)  # in the blob store's staging area
    started_on: Mapped[date] = mapped_column(Date, index=True)
    # A guardian's device uploading (device mode): who, and whether the file is for guardians only
    # (the team key); None for the reporter's, which are never internal.
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), nullable=True)
    internal: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class PendingUploadChunk(Base):
    """One chunk the server has of a PendingUpload (its bytes are in the staged file, not yet
    synced to disk) and the BLAKE2b-256 of those bytes (`crypto.upload_chunk_digest`): a resend is
    compared with it, and the staged file is checked against every chunk's digest before it becomes
    the attachment, so a chunk lost from the disk before then is found and asked for again."""

    __tablename__ = "pending_upload_chunks"

    upload_id: Mapped[int] = mapped_column(ForeignKey("pending_uploads.id", ondelete="CASCADE"), primary_key=True)
    chunk_index: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    # None only for a chunk received before digests were recorded: it was synced as it was written.
    digest: Mapped[bytes | None] = mapped_column(LargeBinary(32), nullable=True)


class StoredBlobName(Base):
    """A name in the database blob store (whistle/attachments/dbblobs.py) and the stored file it
    names: a published blob, a staged file, or a blob still being written (never read by name).
    Two names may share a file, as a hard link does: a staged file published as a blob."""

    __tablename__ = "blob_names"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    file: Mapped[str] = mapped_column(String(64), index=True)
    state: Mapped[str] = mapped_column(String(8))  # "blob", "staged" or "partial"
    size: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # a blob's; None otherwise
    # The day a "partial" blob began to be written (a date, as every record of a reporter's is):
    # one left by a node that stopped mid-write is deleted by the tick after a day.
    started_on: Mapped[date | None] = mapped_column(Date, nullable=True)


class StoredBlobPiece(Base):
    """The bytes of a stored file from `offset` on: ciphertext only (blob bodies are encrypted
    before they reach a store). The pieces of a file never overlap."""

    __tablename__ = "blob_pieces"

    file: Mapped[str] = mapped_column(String(64), primary_key=True)
    offset: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class UnreferencedBlob(Base):
    """A published blob that no attachment row named when the tick's "unreferenced blobs" job last
    looked, and since when (`seen_at`). A crash between a blob's commit and its row's leaves one
    behind, as does one between a row's deletion and its blob's; a request still under way
    makes its row seconds later. A blob still unreferenced a grace period after it was first seen
    is deleted (whistle.attachments.unreferenced). Its name is random and says nothing of a case."""

    __tablename__ = "unreferenced_blobs"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
