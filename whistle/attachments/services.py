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

import contextlib
import itertools
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import BinaryIO, Self

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from whistle import crypto
from whistle.attachments.blobs import BlobStore, StagedSizeMismatch
from whistle.attachments.models import PendingUpload, PendingUploadChunk
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
    wrap_case_grants,
    wrap_item,
)
from whistle.errors import Problem, validation_problem
from whistle.i18n import _
from whistle.jobs import TickContext
from whistle.words import size_words

MAX_NAME_CHARS = 255
# The attachments' id column is an INTEGER: 32 bits on PostgreSQL, where a larger id would be refused
# by the database (400 out of range) rather than be an id that names nothing (404), as on SQLite.
MAX_ID = 2**31 - 1
# The stream kinds bound into each chunk's associated data (docs/crypto.md 5.3): a blob moved
# from an internal file to a reporter-visible one (or back) fails to decrypt.
STREAM_KIND = "attachment"
INTERNAL_STREAM_KIND = "internal-attachment"
META_KINDS = (ITEM_ATTACHMENT_META, ITEM_INTERNAL_ATTACHMENT_META)
# A blob's first bytes (the stream envelope's header and sealed file key, docs/crypto.md 5.3) are
# kept in the attachment's row, wrapped under the file's shred key; the blob holds zeros there.
HEADER_BYTES = Attachment.HEADER_BYTES
_NO_HEADER = bytes(HEADER_BYTES)


class _BlobWithHeader:
    """A blob read as it was written: its first HEADER_BYTES from the row, the rest from the store."""

    def __init__(self, source: BinaryIO, header: bytes) -> None:
        self._source, self._header = source, header
        source.seek(len(header))

    def read(self, size: int = -1) -> bytes:
        head, self._header = (self._header, b"") if size < 0 else (self._header[:size], self._header[size:])
        rest = size - len(head) if size >= 0 else -1
        return head + (self._source.read(rest) if rest != 0 else b"")

    def close(self) -> None:
        self._source.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()


def open_blob(store: BlobStore, attachment: Attachment) -> BinaryIO:
    """The attachment's stored ciphertext (its stream envelope), as its writer made it: the header
    taken from the row (unwrapped with the file's shred key: DecryptionFailed once that is
    destroyed), the rest from the blob store. A file stored before shredding existed is its blob."""
    header = attachment.header
    source = store.open(attachment.blob_name)
    if header is None:
        return source
    return _BlobWithHeader(source, header)  # type: ignore[return-value]




class AttachmentTooLarge(Exception):
    """The file (or the case's files together) went over a limit; the message (args[0], marked for
    translation, so never str() it) says which."""


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
    metadata_removal: str | None = None  # one of METADATA_OUTCOMES, or None: nobody asked


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
        return AttachmentTooLarge(_("All the files of one report together can be at most ${limit}.",
                                    mapping={"limit": describe_limit(limits.max_case_bytes)}))
    return AttachmentTooLarge(_("All the guardians' files of one case together can be at most ${limit}.",
                                mapping={"limit": describe_limit(limits.max_guardian_case_bytes)}))


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


# --- removing hidden information before a file is encrypted (whistle_clean_file) ---
# What the attachment row keeps of it: the outcome, never what was removed.
METADATA_REMOVED = "removed"  # a plugin cleaned it: this is the cleaned file
METADATA_UNSUPPORTED = "unsupported"  # no plugin knows its format: stored as sent
METADATA_UNREADABLE = "unreadable"  # of a known format, but it could not be read: stored as sent
METADATA_TOO_LARGE = "too_large"  # over MAX_CLEAN_BYTES: stored as sent, never held in memory
METADATA_OUTCOMES = (METADATA_REMOVED, METADATA_UNSUPPORTED, METADATA_UNREADABLE, METADATA_TOO_LARGE)
# A file is cleaned in memory (it must never be written to disk in the clear), so only up to this
# size; phone photos, PDFs and office documents are far smaller. A larger file streams as before.
MAX_CLEAN_BYTES = 32 * 1024 * 1024
CLEAN_HOOK = "whistle_clean_file"
# The reporter's forms' checkbox "Remove hidden information…", placed before their file inputs
# (the server reads a form in order); ticked, it sends "yes"; unticked, nothing. A hidden field
# before it says the form offered it, so that a form given back (an error) keeps the box as the
# reporter left it, and ticks it when the post never got that far.
REMOVE_METADATA_FIELD = "remove_metadata"
REMOVE_METADATA_OFFERED = "remove_metadata_offered"


def remove_metadata_ticked(fields) -> bool:
    """Whether a form given back should show the box ticked: as the reporter left it if the post
    says the box was offered, ticked otherwise (`fields`: the posted fields read so far)."""
    return fields.get(REMOVE_METADATA_FIELD) == "yes" or fields.get(REMOVE_METADATA_OFFERED) != "yes"
_PIECE = 64 * 1024


def metadata_removal_offered(hooks) -> bool:
    """Whether a form may offer to remove hidden information: some enabled plugin, allowed
    plaintext, implements whistle_clean_file (`hooks`: the registry's Hooks)."""
    return bool(hooks.implementations(CLEAN_HOOK))


def clean_file(call_hook, *, name: str, content_type: str, chunks: Iterable[bytes],
               limits: Limits) -> tuple[Iterator[bytes], str]:
    """The file's pieces with its hidden information removed by a plugin, and the outcome.

    The file is gathered in memory up to MAX_CLEAN_BYTES, or the largest file allowed if that is
    less; one that goes past it is handed on as it arrives (what was gathered, then the rest),
    uncleaned, for store_attachment to store or refuse as it would without this. One that a plugin
    cannot read, or that no plugin knows, is handed on as it was sent. Either way nothing of it is
    lost, and the caller still counts every piece against the limits."""
    most = min(MAX_CLEAN_BYTES, limits.max_file_bytes)
    pieces = iter(chunks)
    gathered = bytearray()
    for piece in pieces:
        gathered += piece
        if len(gathered) > most:
            return itertools.chain((bytes(gathered),), pieces), METADATA_TOO_LARGE
    data = bytes(gathered)
    del gathered
    results = call_hook(CLEAN_HOOK, name=name, content_type=content_type, data=data)
    result = results[0] if results else None
    cleaned = getattr(result, "cleaned", None)
    if isinstance(cleaned, bytes):
        data, outcome = cleaned, METADATA_REMOVED
    else:
        outcome = METADATA_UNSUPPORTED if result is None else METADATA_UNREADABLE
    return (data[at:at + _PIECE] for at in range(0, len(data), _PIECE)), outcome


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
    metadata_removal: str | None = None,
) -> tuple[Attachment, int]:
    """Encrypt `chunks` into a new blob as they arrive; return the row and the plaintext size.

    Raise AttachmentTooLarge past a limit. With `internal` the file is for guardians only: the
    stream and its metadata are encrypted to the team key, which the reporter never holds. The key
    is checked against `keys`, the acting session's (cases.services.checked_public_key), before
    anything is written: KeyMismatch if the stored one is not theirs. `metadata_removal`: the
    outcome of clean_file, if the reporter asked for it.

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
    size = 0

    def within_limit() -> Iterator[bytes]:
        nonlocal size
        for chunk in chunks:
            size += len(chunk)
            if size > limit:
                if limit == limits.max_file_bytes:
                    raise AttachmentTooLarge(_("Each file can be at most ${limit}.",
                                               mapping={"limit": describe_limit(limits.max_file_bytes)}))
                raise _too_much_for_the_case(limits, reporters)
            yield chunk

    writer = store.writer()
    try:
        stored, header = _encrypt_into(writer, encryptor, within_limit())
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
                            author=author, account_id=account_id, created_on=today, header=header,
                            metadata_removal=metadata_removal)
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
                          sealed_author=sealed_author(item.author, item.account_id),
                          metadata_removal=row.metadata_removal or _removed_on_device(meta))


def _removed_on_device(meta: dict) -> str | None:
    """What the reporter's browser says, in the file's encrypted details, came of removing its
    hidden information there (static/js/hidden-info.js); None if it says nothing we know."""
    outcome = meta.get("metadata_removal")
    return outcome if outcome in METADATA_OUTCOMES else None


def list_attachments(dbsession: Session, case: Case, keys: CaseKeys) -> list[AttachmentInfo]:
    """Every attachment of the case `keys` may see, in order; one whose details fail to verify is
    still listed (verified=False), so the rest of the case stays readable."""
    rows = dbsession.execute(_visible_to(case, keys).order_by(Attachment.id))
    return [_describe(case, keys, row, item) for row, item in rows]


def find_attachment(dbsession: Session, case: Case, keys: CaseKeys,
                    attachment_id: str) -> tuple[AttachmentInfo, Attachment] | None:
    """The attachment's details and row (for read_attachment), if `attachment_id` names one of this case's that
    `keys` may see (an internal file's id is unknown to the reporter). Check `verified` before
    offering it."""
    try:
        wanted = int(attachment_id)
    except (TypeError, ValueError):
        return None
    if not 0 < wanted <= MAX_ID:  # beyond the column it names nothing (and would overflow the database)
        return None
    found = dbsession.execute(_visible_to(case, keys).where(Attachment.id == wanted)).first()
    if found is None:
        return None
    row, item = found
    return _describe(case, keys, row, item), row


def read_attachment(store: BlobStore, case: Case, keys: CaseKeys, attachment: Attachment, *, author: str,
                    internal: bool = False, size: int | None = None,
                    on_cut: Callable[[], None] | None = None) -> Iterator[bytes]:
    """The plaintext of `attachment` (find_attachment's row), chunk by chunk, for a response body.
    `author`: AttachmentInfo.sealed_author;
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
    source = open_blob(store, attachment)
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



def _encrypt_into(writer, encryptor: crypto.StreamEncryptor, pieces: Iterable[bytes]) -> tuple[int, bytes]:
    """Write the stream envelope of `pieces` (the header, each piece pushed, the final chunk) to
    `writer` and commit it, with zeros in place of its first HEADER_BYTES; returns the bytes stored
    and those first bytes, for the row (open_blob). The caller discards the writer on an error."""
    header = encryptor.header[:HEADER_BYTES]
    writer.write(_NO_HEADER + encryptor.header[HEADER_BYTES:])
    stored = len(encryptor.header)
    for piece in pieces:
        out = encryptor.push(piece)
        writer.write(out)
        stored += len(out)
    out = encryptor.finish()
    writer.write(out)
    writer.commit()
    return stored + len(out), header


def reencrypt_internal_files(dbsession: Session, store: BlobStore, txn, case: Case, old: crypto.KeyPair,
                             new: crypto.KeyPair) -> int:
    """Re-encrypt each internal file of the case from the `old` team key to the `new` one (same
    case, stream kind and author), into a new blob: the old blob is deleted once the transaction
    commits, the new one if it aborts. A file that does not open with the old key is left as it
    is (it was unverifiable before). Returns how many were re-encrypted; used when the team key of
    a case built on the client is replaced (whistle.cases.services.replace_client_team_key)."""
    rows = dbsession.execute(
        select(Attachment).join(CaseItem, CaseItem.id == Attachment.meta_item_id)
        .where(Attachment.case_id == case.id, CaseItem.kind == ITEM_INTERNAL_ATTACHMENT_META)
        .order_by(Attachment.id)).scalars().all()
    done = 0
    for row in rows:
        author = sealed_author(row.author, row.account_id)
        encryptor = crypto.StreamEncryptor(new.public, case=case.ref, kind=INTERNAL_STREAM_KIND, author=author)
        writer = store.writer()
        try:
            with open_blob(store, row) as source:
                stored, header = _encrypt_into(writer, encryptor, crypto.decrypt_stream(
                    old, source, case=case.ref, kind=INTERNAL_STREAM_KIND, author=author))
        except (crypto.DecryptionFailed, FileNotFoundError):
            writer.discard()
            continue
        except BaseException:
            writer.discard()
            raise
        old_name, new_name = row.blob_name, writer.name
        txn.addAfterAbortHook(lambda name=new_name: store.delete(name))
        txn.addAfterCommitHook(lambda committed, old_name=old_name, new_name=new_name:
                               store.delete(old_name if committed else new_name))
        row.blob_name, row.stored_bytes, row.header = new_name, stored, header
        done += 1
    return done


# --- files a client encrypts itself and uploads in chunks (docs/attachments.md, docs/crypto.md 7.2) ---
# The server holds no key for these: it checks the shape the stream arithmetic allows, keeps the
# chunks in the blob store's staging area as they arrive (in any order), and at the end makes
# their concatenation the attachment's blob, byte for byte the client's stream envelope.

# The largest plaintext an attachment-meta item of a client's may hold: a name of MAX_NAME_CHARS
# characters of up to 4 bytes each, its type and size, and the JSON around them, with room to spare.
MAX_META_PLAINTEXT_BYTES = 4096
# How long an unfinished upload is kept: it is deleted once the day after the one it began on is
# over (so for one to two days; its day, not its time, is recorded, as for everything of a reporter's).
UNFINISHED_UPLOAD_DAYS = 1
# The most chunks one request may carry: about 1 MiB, read into memory at once.
MAX_RUN_CHUNKS = 16


def _each_file_at_most(limits: Limits) -> Problem:
    return Problem(413, f"Each file can be at most {describe_limit(limits.max_file_bytes)}.")


def _unfinished_bytes(dbsession: Session, case: Case, *, reporters: bool = True) -> int:
    side = PendingUpload.account_id.is_(None) if reporters else PendingUpload.account_id.is_not(None)
    return dbsession.scalar(select(func.coalesce(func.sum(PendingUpload.total_bytes), 0))
                            .where(PendingUpload.case_id == case.id, side)) or 0


def start_upload(dbsession: Session, store: BlobStore, txn, case: Case, *, chunks: int, total: int, limits: Limits,
                 max_unfinished: int, today: date, account_id: int | None = None,
                 internal: bool = False) -> PendingUpload:
    """An upload of `chunks` chunks and `total` bytes for the case, with an empty staged file: the
    reporter's, or with `account_id` a guardian's (device mode; `internal`: for guardians only). A
    Problem, before anything is made, when no file has that shape (422), the file or the case's files
    would be too large (413; the unfinished uploads count against the room of their side: the
    reporter's, or the guardians'), or the case has `max_unfinished` uploads unfinished already (409)."""
    sizes = crypto.stream_plaintext_range(chunks, total)
    if sizes is None:
        message = "No file has a stream of these chunks and bytes (docs/crypto.md 7.2)."
        raise validation_problem({"chunks": message, "bytes": message})
    smallest = sizes[0]
    if smallest > limits.max_file_bytes:
        raise _each_file_at_most(limits)
    reporters = account_id is None
    # Counted with the case row locked (PostgreSQL: a second start waits for the first to commit;
    # SQLite has one writer at a time), so two starts at once cannot both take the last room.
    dbsession.execute(select(Case.id).where(Case.id == case.id).with_for_update())
    unfinished = dbsession.scalar(select(func.count()).select_from(PendingUpload)
                                  .where(PendingUpload.case_id == case.id)) or 0
    if unfinished >= max_unfinished:
        raise Problem(409, f"At most {max_unfinished} files can be on their way at once: finish or cancel one first.")
    case_limit = limits.max_case_bytes if reporters else limits.max_guardian_case_bytes
    room = (case_limit - case_stored_bytes(dbsession, case, reporters=reporters)
            - _unfinished_bytes(dbsession, case, reporters=reporters))
    if smallest > room:
        raise Problem(413, str(_too_much_for_the_case(limits, reporters=reporters)))
    staged = store.stage_new()
    txn.addAfterAbortHook(lambda: store.stage_delete(staged))
    upload = PendingUpload(public_id=crypto.random_token(32), case_id=case.id, chunks=chunks, total_bytes=total,
                           staged_name=staged, started_on=today, account_id=account_id, internal=internal)
    dbsession.add(upload)
    dbsession.flush()
    return upload


def find_upload(dbsession: Session, case: Case, public_id: str, *,
                account_id: int | None = None) -> PendingUpload | None:
    """The upload `public_id` names, if it is one of this case's started by the caller: the
    reporter's (`account_id` None) or that guardian's. Anyone else's is not found."""
    by = PendingUpload.account_id.is_(None) if account_id is None else PendingUpload.account_id == account_id
    return dbsession.scalars(select(PendingUpload).where(PendingUpload.public_id == public_id,
                                                         PendingUpload.case_id == case.id, by)).first()


def received_chunks(dbsession: Session, upload: PendingUpload) -> list[int]:
    return list(dbsession.scalars(select(PendingUploadChunk.chunk_index)
                                  .where(PendingUploadChunk.upload_id == upload.id)
                                  .order_by(PendingUploadChunk.chunk_index)))


def _run_lengths(upload: PendingUpload, index: int) -> list[int]:
    """The lengths of the chunks a run from chunk `index` may have (at most MAX_RUN_CHUNKS, up to
    the last); a Problem (422 naming "index") if the upload has no chunk `index`."""
    if not 0 <= index < upload.chunks:
        raise validation_problem({"index": f"This upload has chunks 0 to {upload.chunks - 1}."})
    return [crypto.stream_chunk_bytes(at, upload.chunks, upload.total_bytes)
            for at in range(index, min(index + MAX_RUN_CHUNKS, upload.chunks))]


def run_bytes_at_most(upload: PendingUpload, index: int) -> int:
    """The most bytes a run of chunks from chunk `index` can have (a Problem, 422 naming "index",
    if the upload has no such chunk): what a request's body is read up to, and no further."""
    return sum(_run_lengths(upload, index))


def _split_run(upload: PendingUpload, index: int, data: bytes) -> list[bytes]:
    """`data` cut into the consecutive chunks from `index` it must be; a Problem (422 naming "body")
    unless its length is that of a whole run of 1 to MAX_RUN_CHUNKS of them."""
    lengths = _run_lengths(upload, index)
    pieces, at = [], 0
    for length in lengths:
        if at >= len(data):
            break
        pieces.append(data[at:at + length])
        at += length
    if not data or at != len(data):
        ends = list(itertools.accumulate(lengths))
        if len(ends) == 1:
            message = f"Chunk {index} of this upload is {ends[0]} bytes, not {len(data)}."
        else:
            message = (f"A run of chunks from chunk {index} of this upload is {ends[0]}, {ends[1]}, … or {ends[-1]} "
                       f"bytes (1 to {len(ends)} whole chunks), not {len(data)}.")
        raise validation_problem({"body": message})
    return pieces


@contextlib.contextmanager
def _staged_file_there() -> Iterator[None]:
    """A staged file that is gone (the blobs moved to another store meanwhile: docs/attachments.md)
    makes its upload one that is no longer here, which the client starts again."""
    try:
        yield
    except FileNotFoundError:
        raise Problem(404, "This upload's chunks are no longer kept: start the upload again.") from None


def put_chunks(dbsession: Session, store: BlobStore, upload: PendingUpload, index: int, data: bytes) -> None:
    """Keep the run of consecutive chunks `data` from chunk `index` (1 to MAX_RUN_CHUNKS of them;
    the upload's shape gives each chunk's length, so the body's length says how many): each written
    at its place in the staged file, and recorded with its digest.

    Chunks received already with the same bytes change nothing (a client that did not hear the answer
    sends them again) but are written again, so a chunk the check at the end found damaged is
    mended by sending it again; with other bytes the whole run is refused (409). A run that is not a
    whole number of chunks, or a chunk 0 that is not a stream envelope's header of version 2, is
    refused (422 naming "body"). Nothing is written or recorded unless the whole run is kept."""
    with _staged_file_there():
        _put_chunks(dbsession, store, upload, index, data)


def _put_chunks(dbsession: Session, store: BlobStore, upload: PendingUpload, index: int, data: bytes) -> None:
    pieces = _split_run(upload, index, data)
    if index == 0 and not crypto.is_authored_stream_header(pieces[0]):
        raise validation_problem({"body": "Chunk 0 is the header of a stream envelope of version 2 "
                                          "(docs/crypto.md 5.3)."})
    digests = {at: crypto.upload_chunk_digest(piece) for at, piece in enumerate(pieces, start=index)}
    received = dict(dbsession.execute(
        select(PendingUploadChunk.chunk_index, PendingUploadChunk.digest)
        .where(PendingUploadChunk.upload_id == upload.id,
               PendingUploadChunk.chunk_index.between(index, index + len(pieces) - 1))).all())

    def same_as_received(at: int, recorded: bytes | None) -> None:
        same = (digests[at] == recorded if recorded is not None
                else store.stage_read(upload.staged_name, crypto.stream_chunk_offset(at),
                                      len(pieces[at - index])) == pieces[at - index])
        if not same:
            raise Problem(409, f"Chunk {at} was received already, with other bytes.")

    for at, recorded in received.items():
        same_as_received(at, recorded)
    new = [at for at in digests if at not in received]
    # The chunks are claimed before they are written: of two requests with one at once, one records it.
    try:
        if new:
            with dbsession.begin_nested():
                dbsession.add_all([PendingUploadChunk(upload_id=upload.id, chunk_index=at, digest=digests[at])
                                   for at in new])
    except IntegrityError:
        # Another request claimed some of them meanwhile: one at a time, and compare with those.
        for at in new:
            try:
                with dbsession.begin_nested():
                    dbsession.add(PendingUploadChunk(upload_id=upload.id, chunk_index=at, digest=digests[at]))
            except IntegrityError:
                same_as_received(at, dbsession.scalar(select(PendingUploadChunk.digest).where(
                    PendingUploadChunk.upload_id == upload.id, PendingUploadChunk.chunk_index == at)))
    # Bytes written here by a request whose transaction then aborts are not recorded, so those chunks
    # are still missing and a later run overwrites them.
    store.stage_write(upload.staged_name, crypto.stream_chunk_offset(index), data)


def _missing(upload: PendingUpload, received: list[int]) -> list[int]:
    return sorted(set(range(upload.chunks)) - set(received))


def _shown(indices: list[int]) -> str:
    return ", ".join(str(index) for index in indices[:20]) + (", …" if len(indices) > 20 else "")


def _damaged(store: BlobStore, upload: PendingUpload, recorded: dict[int, bytes | None]) -> list[int]:
    """The chunks whose bytes in the staged file are not those recorded (read through once, one
    chunk at a time). A chunk recorded without a digest was synced as it was written."""
    lengths = [crypto.stream_chunk_bytes(index, upload.chunks, upload.total_bytes) for index in range(upload.chunks)]
    return [index for index, piece in enumerate(store.stage_pieces(upload.staged_name, lengths))
            if recorded[index] is not None and crypto.upload_chunk_digest(piece) != recorded[index]]


def _put_back(store: BlobStore, staged: str, header: bytes) -> None:
    with contextlib.suppress(FileNotFoundError):  # the upload's staged file went meanwhile: nothing to restore
        store.stage_write(staged, 0, header)


def finish_upload(dbsession: Session, store: BlobStore, txn, case: Case, upload: PendingUpload, *, meta: bytes,
                  limits: Limits, today: date) -> Attachment:
    """The upload, every chunk in, as an ordinary attachment of whoever started it (the reporter, or
    the guardian `upload.account_id`): its blob is the staged file (the client's stream envelope,
    byte for byte), its details the client's attachment-meta item `meta` (version 2, author
    "reporter" or "guardian:<id>"; an internal-file item to the team key for an internal
    upload). A Problem when chunks are missing
    (409, with their indices in "missing"), `meta` is no such item (422 naming "meta"), or the
    case's files would be too large (413). If the transaction aborts, the blob is deleted and the
    upload stays as it was."""
    if not crypto.is_item_of_size(meta, MAX_META_PLAINTEXT_BYTES):
        raise validation_problem({"meta": "Give the file's details as an attachment-meta item of version 2 "
                                          f"(docs/crypto.md 5.2), at most {MAX_META_PLAINTEXT_BYTES} bytes of "
                                          "plaintext."})
    # Locked, so that two finishes at once do not both make an attachment (the later one finds
    # the upload gone); and the case, so the room is measured once per writer.
    dbsession.execute(select(PendingUpload.id).where(PendingUpload.id == upload.id).with_for_update())
    recorded = dict(dbsession.execute(select(PendingUploadChunk.chunk_index, PendingUploadChunk.digest)
                                      .where(PendingUploadChunk.upload_id == upload.id)).all())
    missing = _missing(upload, list(recorded))
    if missing:
        raise Problem(409, f"Chunks missing: {_shown(missing)}.", members={"missing": missing})
    # The chunks were written without syncing: one lost from the disk (a crash before now) is found
    # here, by its digest, and asked for again, before the file is synced and becomes the attachment.
    with _staged_file_there():
        damaged = _damaged(store, upload, recorded)
    if damaged:
        raise Problem(409, f"Chunks to send again (the server lost them): {_shown(damaged)}.",
                      members={"missing": damaged})
    dbsession.execute(select(Case.id).where(Case.id == case.id).with_for_update())
    smallest = crypto.stream_plaintext_range(upload.chunks, upload.total_bytes)
    assert smallest is not None  # checked when the upload began
    reporters = upload.account_id is None
    case_limit = limits.max_case_bytes if reporters else limits.max_guardian_case_bytes
    if smallest[0] > case_limit - case_stored_bytes(dbsession, case, reporters=reporters):
        raise Problem(413, str(_too_much_for_the_case(limits, reporters=reporters)))
    # The header leaves the file before it becomes the blob (for the row, wrapped under the file's
    # shred key), and goes back into the staged file if this fails, so the upload can be finished again.
    staged = upload.staged_name
    header = store.stage_read(staged, 0, HEADER_BYTES)
    store.stage_write(staged, 0, _NO_HEADER)
    txn.addAfterAbortHook(lambda: _put_back(store, staged, header))
    try:
        blob_name = store.stage_publish(upload.staged_name, upload.total_bytes)
    except StagedSizeMismatch:
        raise Problem(409, "The chunks received do not add up to the upload's bytes: send them again.") from None
    txn.addAfterAbortHook(lambda: store.delete(blob_name))

    def tidy(committed: bool) -> None:
        if committed:
            store.stage_delete(staged)
        else:
            store.delete(blob_name)

    txn.addAfterCommitHook(tidy)
    author = "reporter" if reporters else "guardian"
    item = CaseItem(kind=ITEM_INTERNAL_ATTACHMENT_META if upload.internal else ITEM_ATTACHMENT_META, author=author,
                    account_id=upload.account_id, ciphertext=meta, created_on=today)
    case.items.append(item)
    dbsession.flush()
    attachment = Attachment(case_id=case.id, blob_name=blob_name, meta_item_id=item.id,
                            stored_bytes=upload.total_bytes, author=author, account_id=upload.account_id,
                            created_on=today, header=header)
    dbsession.add(attachment)
    _forget(dbsession, upload)
    dbsession.flush()
    return attachment


def _forget(dbsession: Session, upload: PendingUpload) -> None:
    dbsession.execute(delete(PendingUploadChunk).where(PendingUploadChunk.upload_id == upload.id))
    dbsession.delete(upload)


def cancel_upload(dbsession: Session, store: BlobStore, txn, upload: PendingUpload) -> None:
    """Forget the upload; its staged file is deleted once that is committed."""
    staged = upload.staged_name
    _forget(dbsession, upload)
    dbsession.flush()
    txn.addAfterCommitHook(lambda committed: store.stage_delete(staged) if committed else None)


def expire_uploads(dbsession: Session, today: date) -> list[str]:
    """Forget every upload left unfinished since before yesterday; return their staged files'
    names, for the caller to delete once that is committed."""
    expired = list(dbsession.scalars(select(PendingUpload).where(
        PendingUpload.started_on < today - timedelta(days=UNFINISHED_UPLOAD_DAYS))))
    for upload in expired:
        _forget(dbsession, upload)
    dbsession.flush()
    return [upload.staged_name for upload in expired]


def unfinished_uploads_job(store: BlobStore) -> Callable[[TickContext], list[str]]:
    """The tick's "unfinished uploads" job for `store`: uploads in chunks nobody finished are
    deleted, their staged chunks too."""

    def run(ctx: TickContext) -> list[str]:
        with ctx.session() as dbsession:
            staged = expire_uploads(dbsession, ctx.clock.today())
        # Only once the rows are gone: a crash in between leaves a stray file, never a row without one.
        for name in staged:
            store.stage_delete(name)
        return [f"unfinished uploads: {len(staged)} deleted"] if staged else []

    return run


def partial_blobs_job(forget_partial: Callable[[date], int]) -> Callable[[TickContext], list[str]]:
    """The tick's "partial blobs" job, for a store that keeps the blobs being written where it can
    find them again (rows of the database store, `.partial-*` files of the local one): those a node
    began before yesterday and never finished
    (it stopped mid-write) are deleted. Dated by the machine's UTC day, as the store dates them,
    not by the app's clock."""

    def run(_ctx: TickContext) -> list[str]:
        count = forget_partial(datetime.now(UTC).date() - timedelta(days=1))
        return [f"partial blobs: {count} deleted"] if count else []

    return run


def reporter_blob(dbsession: Session, case: Case, attachment_id: str) -> Attachment | None:
    """The attachment `attachment_id` names, if it is one of the case's the reporter may see (its
    details are an attachment-meta item; an internal file's id is unknown to them)."""
    try:
        wanted = int(attachment_id)
    except (TypeError, ValueError):
        return None
    if not 0 < wanted <= MAX_ID:
        return None
    return dbsession.scalars(select(Attachment).join(CaseItem, CaseItem.id == Attachment.meta_item_id)
                             .where(Attachment.case_id == case.id, Attachment.id == wanted,
                                    CaseItem.kind == ITEM_ATTACHMENT_META)).first()


# --- wrapping what was stored before the shred layer existed (docs/operations.md, "shred wraps") ---
# Cases, items and files stored before it have no shred handle: they are read as they are, and the
# tick's "shred wraps" job wraps them, a batch per transaction, until none is left.
SHRED_WRAP_BATCH = 50


def wrap_file(dbsession: Session, store: BlobStore, row: Attachment) -> tuple[str, str] | None:
    """Move a file stored before the shred layer existed into it: a new blob with zeros in place of
    its first HEADER_BYTES, which the row keeps wrapped under the file's new shred key. Returns
    (old blob, new blob): the caller deletes the old one once this is committed, the new one if
    not. None if its blob is gone (the row is only marked done)."""
    writer = store.writer()
    try:
        with store.open(row.blob_name) as source:
            header = source.read(HEADER_BYTES)
            writer.write(_NO_HEADER)
            while piece := source.read(crypto.CHUNK_SIZE):
                writer.write(piece)
        writer.commit()
    except FileNotFoundError:
        writer.discard()
        row.give_shred_handle(dbsession)
        return None
    except BaseException:
        writer.discard()
        raise
    old = row.blob_name
    row.blob_name, row.header = writer.name, header
    return old, writer.name


def shred_wraps_job(store: BlobStore) -> Callable[[TickContext], list[str]]:
    """The tick's "shred wraps" job: every case, item and file stored before the shred layer existed
    is wrapped under its shred key (whistle.cases.services.wrap_case_grants, wrap_item; wrap_file)."""

    def claim(ctx: TickContext, query):
        return query.with_for_update(skip_locked=True) if ctx.uses_row_locks else query

    def run(ctx: TickContext) -> list[str]:
        counts = {"cases": 0, "items": 0, "files": 0}
        # Each query goes on from the last row it looked at, so a row that cannot be wrapped is
        # passed over (and tried again at the next tick), never tried for ever.
        last = 0
        while True:
            with ctx.session() as dbsession:
                cases = list(dbsession.scalars(claim(ctx, select(Case).where(
                    Case.shred_handle.is_(None), Case.id > last).order_by(Case.id).limit(SHRED_WRAP_BATCH))))
                counts["cases"] += sum(wrap_case_grants(dbsession, case) for case in cases)
                last = cases[-1].id if cases else last
            ctx.heartbeat()
            if len(cases) < SHRED_WRAP_BATCH:
                break
        last = 0
        while True:
            with ctx.session() as dbsession:
                items = list(dbsession.scalars(claim(ctx, select(CaseItem).where(
                    CaseItem.shred_handle.is_(None), CaseItem.erased_on.is_(None), CaseItem.id > last)
                    .order_by(CaseItem.id).limit(SHRED_WRAP_BATCH))))
                counts["items"] += sum(wrap_item(item) for item in items)
                last = items[-1].id if items else last
            ctx.heartbeat()
            if len(items) < SHRED_WRAP_BATCH:
                break
        last = 0
        while True:
            blobs = None
            try:
                with ctx.session() as dbsession:
                    row = dbsession.scalars(claim(ctx, select(Attachment).where(
                        Attachment.shred_handle.is_(None), Attachment.id > last)
                        .order_by(Attachment.id).limit(1))).first()
                    if row is None:
                        break
                    last = row.id
                    blobs = wrap_file(dbsession, store, row)
            except BaseException:
                if blobs is not None:
                    store.delete(blobs[1])
                raise
            if blobs is not None:
                store.delete(blobs[0])
                counts["files"] += 1
            ctx.heartbeat()
        return [f"shred wraps: {counts['cases']} cases, {counts['items']} items, {counts['files']} files wrapped"
                ] if any(counts.values()) else []

    return run
