"""Storing an attachment as it streams in, listing a case's attachments, and reading one back.

The plaintext never exists as a whole: each piece that arrives goes through
`crypto.StreamEncryptor` and straight into the blob store, so memory stays flat whatever the
file's size. Name, size and type are an encrypted ITEM_ATTACHMENT_META item.

An internal file (guardians only) is the same with the team key: its stream is encrypted to the
case's team public key under its own stream kind, and its metadata is an
ITEM_INTERNAL_ATTACHMENT_META item. The reporter holds no team key, so they cannot read it; they
are not even shown it, because listing filters on the meta item's kind.
"""
from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from whistle import crypto
from whistle.attachments.blobs import BlobStore
from whistle.cases.models import ITEM_ATTACHMENT_META, ITEM_INTERNAL_ATTACHMENT_META, Attachment, Case, CaseItem
from whistle.cases.services import (
    CaseKeys,
    NotGranted,
    Unreadable,
    add_item,
    check_keys,
    checked_public_key,
    decrypt_item,
    parse_item,
    sealed_author,
)
from whistle.words import size_words

MAX_NAME_CHARS = 255
MAX_ID = 2**63 - 1
# The stream kinds bound into each chunk's associated data (docs/crypto.md 5.3): a blob moved
# from an internal file to a reporter-visible one (or back) fails to decrypt.
STREAM_KIND = "attachment"
INTERNAL_STREAM_KIND = "internal-attachment"
META_KINDS = (ITEM_ATTACHMENT_META, ITEM_INTERNAL_ATTACHMENT_META)


class AttachmentTooLarge(Exception):
    """The file (or the case's files together) went over a limit; the message says which."""


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int
    max_case_bytes: int  # the reporter's files of one case together
    max_guardian_case_bytes: int  # the guardians' files of one case together (for the reporter and internal)


def limits_for(settings) -> Limits:
    return Limits(settings.max_attachment_bytes, settings.max_case_attachment_bytes,
                  settings.max_guardian_case_attachment_bytes)


@dataclass(frozen=True)
class AttachmentInfo:
    id: int
    name: str
    size: int
    content_type: str
    author: str
    created_on: date
    internal: bool = False  # guardians only (team key); never listed for the reporter
    account_id: int | None = None  # the guardian who added it; None for the reporter's files
    # False: its name, size and type (the meta item) failed to verify, so the file is listed as one
    # that could not be verified and not offered (name "", size 0).
    verified: bool = True
    meta_item_id: int | None = None
    sealed_author: str = ""  # who wrote it, as the stream's encryption binds it


def case_stored_bytes(dbsession: Session, case: Case, *, reporters: bool = True) -> int:
    """What the reporter's files of the case take (`reporters`), or the guardians' files: each
    side has its own room, so the guardians' evidence never uses up the reporter's."""
    if case.id is None:
        return 0
    side = Attachment.author == "reporter" if reporters else Attachment.author != "reporter"
    return dbsession.scalar(select(func.coalesce(func.sum(Attachment.stored_bytes), 0))
                            .where(Attachment.case_id == case.id, side)) or 0


def _too_much_for_the_case(limits: Limits, reporters: bool) -> AttachmentTooLarge:
    if reporters:
        return AttachmentTooLarge(
            f"All the files of one report together can be at most {describe_limit(limits.max_case_bytes)}.")
    return AttachmentTooLarge("All the guardians' files of one case together can be at most "
                              f"{describe_limit(limits.max_guardian_case_bytes)}.")


def describe_limit(size: int) -> str:
    """A limit as people read sizes ("1 GB"), rounded down so it never promises more."""
    return size_words(size, limit=True)


# An extension longer than this is part of the name ("report.final version of the minutes"):
# only a short one is kept whole when a long name is shortened.
MAX_EXTENSION_CHARS = 16
SHORTENED = "…"


def clean_name(name: str) -> str:
    """A file name as shown back: no directories (some browsers send them), no control characters.

    A name over MAX_NAME_CHARS loses the middle of its stem, never its extension, so the file
    still opens with the right program: "Statement about … ward 7.pdf"."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    if len(name) <= MAX_NAME_CHARS:
        return name or "attachment"
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem or len(extension) > MAX_EXTENSION_CHARS:
        stem, extension = name, ""
    else:
        extension = dot + extension
    room = MAX_NAME_CHARS - len(extension) - len(SHORTENED)
    head = (room + 1) // 2
    return stem[:head].rstrip() + SHORTENED + stem[len(stem) - (room - head):].lstrip() + extension


def store_attachment(
    dbsession: Session,
    store: BlobStore,
    txn,
    case: Case,
    keys: CaseKeys,
    *,
    name: str,
    content_type: str,
    chunks: Iterable[bytes],
    limits: Limits,
    author: str,
    today: date,
    account_id: int | None = None,
    internal: bool = False,
) -> tuple[Attachment, int]:
    """Encrypt `chunks` into a new blob as they arrive; return the row and the plaintext size.

    Raise AttachmentTooLarge past a limit. With `internal` the file is for guardians only: the
    stream and its metadata are encrypted to the team key, which the reporter never holds. The key
    is checked against `keys`, the acting session's (cases.services.checked_public_key), before
    anything is written: KeyMismatch if the stored one is not theirs.

    `txn` is the request's transaction: if it aborts, the blob is deleted, so a rejected
    request leaves no orphaned ciphertext behind.
    """
    reporters = author == "reporter"
    case_limit = limits.max_case_bytes if reporters else limits.max_guardian_case_bytes
    room_in_case = case_limit - case_stored_bytes(dbsession, case, reporters=reporters)
    limit = min(limits.max_file_bytes, room_in_case)
    if internal:
        stream_kind, meta_kind = INTERNAL_STREAM_KIND, ITEM_INTERNAL_ATTACHMENT_META
    else:
        stream_kind, meta_kind = STREAM_KIND, ITEM_ATTACHMENT_META
    check_keys(case, keys, kinds=[meta_kind])
    public_key = checked_public_key(case, keys, team=internal)
    encryptor = crypto.StreamEncryptor(public_key, case=case.ref, kind=stream_kind,
                                       author=sealed_author(author, account_id))
    writer = store.writer()
    size = stored = 0
    try:
        writer.write(encryptor.header)
        stored += len(encryptor.header)
        for chunk in chunks:
            size += len(chunk)
            if size > limit:
                if limit == limits.max_file_bytes:
                    raise AttachmentTooLarge(f"Each file can be at most {describe_limit(limits.max_file_bytes)}.")
                raise _too_much_for_the_case(limits, reporters)
            out = encryptor.push(chunk)
            writer.write(out)
            stored += len(out)
        out = encryptor.finish()
        writer.write(out)
        stored += len(out)
        writer.commit()
    except BaseException:
        writer.discard()
        raise
    txn.addAfterAbortHook(lambda: store.delete(writer.name))

    def delete_unless_committed(committed: bool) -> None:
        if not committed:
            store.delete(writer.name)

    txn.addAfterCommitHook(delete_unless_committed)

    meta = {"name": clean_name(name), "size": size, "type": content_type or "application/octet-stream"}
    item = add_item(case, keys, kind=meta_kind, author=author, account_id=account_id, today=today,
                    plaintext=json.dumps(meta, ensure_ascii=False).encode("utf-8"))
    dbsession.flush()
    attachment = Attachment(case_id=case.id, blob_name=writer.name, meta_item_id=item.id, stored_bytes=stored,
                            author=author, account_id=account_id, created_on=today)
    dbsession.add(attachment)
    dbsession.flush()
    # The room was measured before the file streamed in, so two uploads to one case at once could
    # both fit it. Measured again now, with the case row locked until the transaction ends
    # (PostgreSQL: a second upload waits here for the first to commit, then counts its file;
    # SQLite: the flush above took the database's one write lock): the later one is refused.
    # The same rule as while streaming: this file's size against the room the others leave.
    dbsession.execute(select(Case.id).where(Case.id == case.id).with_for_update())
    others = case_stored_bytes(dbsession, case, reporters=reporters) - stored
    if size > case_limit - others:
        raise _too_much_for_the_case(limits, reporters)
    return attachment, size


def _visible_to(case: Case, keys: CaseKeys):
    """The case's attachments with their meta items, as far as `keys` may see them: someone
    without the team key (the reporter) gets only the files whose details are case-key items.
    An outer join, so a file whose meta item is gone is still listed (as unverified)."""
    query = (select(Attachment, CaseItem).outerjoin(CaseItem, CaseItem.id == Attachment.meta_item_id)
             .where(Attachment.case_id == case.id))
    if keys.team is None:
        query = query.where(CaseItem.kind == ITEM_ATTACHMENT_META)
    return query


def _describe(case: Case, keys: CaseKeys, row: Attachment, item: CaseItem | None) -> AttachmentInfo:
    """The attachment as its meta item says, if that item verifies and names the same author as
    the row; otherwise an AttachmentInfo with verified=False."""
    internal = item is not None and item.kind == ITEM_INTERNAL_ATTACHMENT_META
    try:
        if (item is None or item.kind not in META_KINDS
                or (item.author, item.account_id) != (row.author, row.account_id)):
            raise Unreadable(ITEM_ATTACHMENT_META)
        meta = parse_item(item.kind, decrypt_item(case, keys, item))
        name, size, content_type = meta.get("name"), meta.get("size"), meta.get("type")
        if not (isinstance(name, str) and isinstance(content_type, str) and type(size) is int and size >= 0):
            raise Unreadable(item.kind)
    except (crypto.DecryptionFailed, NotGranted, Unreadable, AttributeError):
        return AttachmentInfo(row.id, "", 0, "", row.author, row.created_on, internal=internal,
                              account_id=row.account_id, verified=False, meta_item_id=row.meta_item_id)
    return AttachmentInfo(row.id, name, size, content_type, row.author, row.created_on, internal=internal,
                          account_id=row.account_id, meta_item_id=item.id,
                          sealed_author=sealed_author(item.author, item.account_id))


def list_attachments(dbsession: Session, case: Case, keys: CaseKeys) -> list[AttachmentInfo]:
    """Every attachment of the case `keys` may see, in order; one whose details fail to verify is
    still listed (verified=False), so the rest of the case stays readable."""
    rows = dbsession.execute(_visible_to(case, keys).order_by(Attachment.id))
    return [_describe(case, keys, row, item) for row, item in rows]


def find_attachment(dbsession: Session, case: Case, keys: CaseKeys,
                    attachment_id: str) -> tuple[AttachmentInfo, str] | None:
    """The attachment's details and blob name, if `attachment_id` names one of this case's that
    `keys` may see (an internal file's id is unknown to the reporter). Check `verified` before
    offering it."""
    try:
        wanted = int(attachment_id)
    except (TypeError, ValueError):
        return None
    if not 0 < wanted <= MAX_ID:  # beyond a 64-bit column it names nothing (and would overflow the driver)
        return None
    found = dbsession.execute(_visible_to(case, keys).where(Attachment.id == wanted)).first()
    if found is None:
        return None
    row, item = found
    return _describe(case, keys, row, item), row.blob_name


def read_attachment(store: BlobStore, case: Case, keys: CaseKeys, blob_name: str, *, author: str,
                    internal: bool = False, size: int | None = None,
                    on_cut: Callable[[], None] | None = None) -> Iterator[bytes]:
    """The plaintext, chunk by chunk, for a response body. `author`: AttachmentInfo.sealed_author;
    `internal`: a guardians-only file, read with the team key; `size`: AttachmentInfo.size.

    The body is sent after the request's transaction has ended, so everything the iterator
    needs (the case reference, the key, the open blob) is taken now, not when it runs. The first
    chunk is decrypted now too, so a stream that fails at once (another case's, kind's or
    author's: what swapping blobs gives) raises crypto.DecryptionFailed while the request can
    still answer with a problem; a file under 64 KiB is then checked whole, its size included. A
    failure further on (a chunk changed or cut off, a size other than `size`) can only end the
    body early: the iterator calls `on_cut` and stops, and the client gets fewer bytes than the
    Content-Length promised (waitress then closes the connection), never a silently shorter file."""
    keypair = keys.team if internal else keys.case
    if keypair is None:
        raise NotGranted(case.ref)
    stream_kind = INTERNAL_STREAM_KIND if internal else STREAM_KIND
    case_ref = case.ref
    source = store.open(blob_name)
    try:
        plaintext = crypto.decrypt_stream(keypair, source, case=case_ref, kind=stream_kind, author=author)
        first = next(plaintext, b"")
        # Only the final chunk can be short: a short first chunk is the whole file.
        if size is not None and (len(first) > size or (len(first) < crypto.CHUNK_SIZE and len(first) != size)):
            raise crypto.DecryptionFailed("attachment size differs from its details")
    except BaseException:
        source.close()
        raise

    def chunks() -> Iterator[bytes]:
        sent = 0
        with source:
            try:
                for piece in itertools.chain((first,), plaintext):
                    if size is not None and sent + len(piece) > size:
                        raise crypto.DecryptionFailed("attachment longer than its details say")
                    sent += len(piece)
                    yield piece
                if size is not None and sent != size:
                    raise crypto.DecryptionFailed("attachment shorter than its details say")
            except crypto.DecryptionFailed:
                if on_cut is not None:
                    on_cut()

    return chunks()
