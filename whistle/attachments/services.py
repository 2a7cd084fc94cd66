"""Storing an attachment as it streams in, listing a case's attachments, and reading one back.

The plaintext never exists as a whole: each piece that arrives goes through
`crypto.StreamEncryptor` and straight into the blob store, so memory stays flat whatever the
file's size. Name, size and type are an encrypted ITEM_ATTACHMENT_META item.
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
from whistle.cases.models import ITEM_ATTACHMENT_META, Attachment, Case
from whistle.cases.services import CaseKeys, add_item, decrypt_item

MAX_NAME_CHARS = 255
MAX_ID = 2**63 - 1


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
) -> tuple[Attachment, int]:
    """Encrypt `chunks` into a new blob as they arrive; return the row and the plaintext size.

    Raise AttachmentTooLarge past a limit.

    `txn` is the request's transaction: if it aborts, the blob is deleted, so a rejected
    request leaves no orphaned ciphertext behind.
    """
    room_in_case = limits.max_case_bytes - case_stored_bytes(dbsession, case)
    limit = min(limits.max_file_bytes, room_in_case)
    encryptor = crypto.StreamEncryptor(case.public_key, case=case.ref)
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
    item = add_item(case, kind=ITEM_ATTACHMENT_META, author=author, account_id=account_id, today=today,
                    plaintext=json.dumps(meta, ensure_ascii=False).encode("utf-8"))
    dbsession.flush()
    attachment = Attachment(case_id=case.id, blob_name=writer.name, meta_item_id=item.id, stored_bytes=stored,
                            author=author, account_id=account_id, created_on=today)
    dbsession.add(attachment)
    dbsession.flush()
    return attachment, size


def list_attachments(dbsession: Session, case: Case, keys: CaseKeys) -> list[AttachmentInfo]:
    rows = dbsession.scalars(select(Attachment).where(Attachment.case_id == case.id).order_by(Attachment.id))
    items = {item.id: item for item in case.items}
    result = []
    for row in rows:
        meta = json.loads(decrypt_item(case, keys, items[row.meta_item_id]))
        result.append(AttachmentInfo(row.id, meta["name"], meta["size"], meta["type"], row.author, row.created_on))
    return result


def find_attachment(dbsession: Session, case: Case, keys: CaseKeys, attachment_id: str) -> tuple[AttachmentInfo, str] | None:
    """The attachment's details and blob name, if `attachment_id` names one of this case's."""
    try:
        wanted = int(attachment_id)
    except (TypeError, ValueError):
        return None
    if not 0 < wanted <= MAX_ID:  # beyond a 64-bit column it names nothing (and would overflow the driver)
        return None
    row = dbsession.scalars(select(Attachment).where(Attachment.case_id == case.id, Attachment.id == wanted)).first()
    if row is None:
        return None
    info = next(info for info in list_attachments(dbsession, case, keys) if info.id == row.id)
    return info, row.blob_name


def read_attachment(store: BlobStore, case: Case, keys: CaseKeys, blob_name: str) -> Iterator[bytes]:
    """The plaintext, chunk by chunk, for a response body.

    The body is sent after the request's transaction has ended, so everything the iterator
    needs (the case reference, the open blob) is taken now, not when it runs."""
    case_ref = case.ref
    source = store.open(blob_name)

    def chunks() -> Iterator[bytes]:
        with source:
            yield from crypto.decrypt_stream(keys.case, source, case=case_ref)

    return chunks()
