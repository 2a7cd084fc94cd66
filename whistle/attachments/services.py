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

import json
from dataclasses import dataclass
from datetime import date
from typing import Iterable, Iterator

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from whistle import crypto
from whistle.attachments.blobs import BlobStore
from whistle.cases.models import ITEM_ATTACHMENT_META, ITEM_INTERNAL_ATTACHMENT_META, Attachment, Case, CaseItem
from whistle.cases.services import CaseKeys, NotGranted, add_item, decrypt_item

MAX_NAME_CHARS = 255
# The stream kinds bound into each chunk's associated data (docs/crypto.md 5.3): a blob moved
# from an internal file to a reporter-visible one (or back) fails to decrypt.
STREAM_KIND = "attachment"
INTERNAL_STREAM_KIND = "internal-attachment"


class AttachmentTooLarge(Exception):
    """The file (or the case's files together) went over a limit; the message says which."""


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int
    max_case_bytes: int


def limits_for(settings) -> Limits:
    return Limits(settings.max_attachment_bytes, settings.max_case_attachment_bytes)


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


def case_stored_bytes(dbsession: Session, case: Case) -> int:
    if case.id is None:
        return 0
    return dbsession.scalar(select(func.coalesce(func.sum(Attachment.stored_bytes), 0))
                            .where(Attachment.case_id == case.id)) or 0


def describe_limit(size: int) -> str:
    for unit, scale in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if size >= scale:
            return f"{size / scale:g} {unit}"
    return f"{size} bytes"


def clean_name(name: str) -> str:
    """A file name as shown back: no directories (some browsers send them), no control characters."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return name[:MAX_NAME_CHARS] or "attachment"


def store_attachment(
    dbsession: Session,
    store: BlobStore,
    txn,
    case: Case,
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
    stream and its metadata are encrypted to the team key, which the reporter never holds.

    `txn` is the request's transaction: if it aborts, the blob is deleted, so a rejected
    request leaves no orphaned ciphertext behind.
    """
    room_in_case = limits.max_case_bytes - case_stored_bytes(dbsession, case)
    limit = min(limits.max_file_bytes, room_in_case)
    if internal:
        public_key, stream_kind, meta_kind = case.team_public_key, INTERNAL_STREAM_KIND, ITEM_INTERNAL_ATTACHMENT_META
    else:
        public_key, stream_kind, meta_kind = case.public_key, STREAM_KIND, ITEM_ATTACHMENT_META
    encryptor = crypto.StreamEncryptor(public_key, case=case.ref, kind=stream_kind)
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
                raise AttachmentTooLarge(
                    f"All the files of one report together can be at most {describe_limit(limits.max_case_bytes)}.")
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
    txn.addAfterCommitHook(lambda committed: committed or store.delete(writer.name))

    meta = {"name": clean_name(name), "size": size, "type": content_type or "application/octet-stream"}
    item = add_item(case, kind=meta_kind, author=author, account_id=account_id, today=today,
                    plaintext=json.dumps(meta, ensure_ascii=False).encode("utf-8"))
    dbsession.flush()
    attachment = Attachment(case_id=case.id, blob_name=writer.name, meta_item_id=item.id, stored_bytes=stored,
                            author=author, account_id=account_id, created_on=today)
    dbsession.add(attachment)
    dbsession.flush()
    return attachment, size


def _visible_to(case: Case, keys: CaseKeys):
    """The case's attachments with their meta items, as far as `keys` may see them: someone
    without the team key (the reporter) gets only the files encrypted to the case key."""
    query = (select(Attachment, CaseItem).join(CaseItem, CaseItem.id == Attachment.meta_item_id)
             .where(Attachment.case_id == case.id))
    if keys.team is None:
        query = query.where(CaseItem.kind == ITEM_ATTACHMENT_META)
    return query


def _info(case: Case, keys: CaseKeys, row: Attachment, item: CaseItem) -> AttachmentInfo:
    meta = json.loads(decrypt_item(case, keys, item))
    return AttachmentInfo(row.id, meta["name"], meta["size"], meta["type"], row.author, row.created_on,
                          internal=item.kind == ITEM_INTERNAL_ATTACHMENT_META, account_id=row.account_id)


def list_attachments(dbsession: Session, case: Case, keys: CaseKeys) -> list[AttachmentInfo]:
    rows = dbsession.execute(_visible_to(case, keys).order_by(Attachment.id))
    return [_info(case, keys, row, item) for row, item in rows]


def find_attachment(dbsession: Session, case: Case, keys: CaseKeys, attachment_id: str) -> tuple[AttachmentInfo, str] | None:
    """The attachment's details and blob name, if `attachment_id` names one of this case's that
    `keys` may see (an internal file's id is unknown to the reporter)."""
    try:
        wanted = int(attachment_id)
    except (TypeError, ValueError):
        return None
    found = dbsession.execute(_visible_to(case, keys).where(Attachment.id == wanted)).first()
    if found is None:
        return None
    row, item = found
    return _info(case, keys, row, item), row.blob_name


def read_attachment(store: BlobStore, case: Case, keys: CaseKeys, blob_name: str, *,
                    internal: bool = False) -> Iterator[bytes]:
    """The plaintext, chunk by chunk, for a response body (`internal`: a guardians-only file,
    read with the team key).

    The body is sent after the request's transaction has ended, so everything the iterator
    needs (the case reference, the key, the open blob) is taken now, not when it runs."""
    keypair = keys.team if internal else keys.case
    if keypair is None:
        raise NotGranted(case.ref)
    stream_kind = INTERNAL_STREAM_KIND if internal else STREAM_KIND
    case_ref = case.ref
    source = store.open(blob_name)

    def chunks() -> Iterator[bytes]:
        with source:
            yield from crypto.decrypt_stream(keypair, source, case=case_ref, kind=stream_kind)

    return chunks()
