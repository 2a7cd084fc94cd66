"""Files in chunks (docs/crypto.md 7.2): encrypted here as a stream, uploaded one chunk at a time
(a chunk that fails is sent again, after asking the server which chunks it has), and downloaded by
decrypting chunk by chunk into a temporary file that becomes the file only once the final chunk
has been read."""
from __future__ import annotations

import json
import mimetypes
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from whistle import crypto

from .api import TRANSPORT_ERRORS, Api, ApiError, path
from .mailbox import Opened, entries
from .report import AUTHOR, b64

HEADER_BYTES = 106
CHUNK_OVERHEAD = 17
RETRIES = 5


class FileChanged(Exception):
    """The file changed size while it was being read: what was encrypted is not what was counted."""


def chunk_count(size: int) -> int:
    return 2 + size // crypto.CHUNK_SIZE


def ciphertext_size(size: int) -> int:
    full, rest = divmod(size, crypto.CHUNK_SIZE)
    return HEADER_BYTES + (crypto.CHUNK_SIZE + CHUNK_OVERHEAD) * full + 256 * (rest // 256 + 1) + CHUNK_OVERHEAD


def encrypted_chunks(source: BinaryIO, size: int, public_key: bytes, *, case: str) -> Iterator[bytes]:
    """The upload chunks of the file: the 106-byte header, one chunk per 64 KiB, the final chunk.
    FileChanged if the file turns out not to be `size` bytes (the count was announced already)."""
    encryptor = crypto.StreamEncryptor(public_key, case=case, author=AUTHOR)
    yield encryptor.header
    read = 0
    while True:
        block = _read_exact(source, crypto.CHUNK_SIZE)
        read += len(block)
        if read > size:
            raise FileChanged
        if len(block) < crypto.CHUNK_SIZE:
            if read != size or source.read(1):
                raise FileChanged
            encryptor.push(block)  # less than a chunk: it waits for finish(), the final chunk
            yield encryptor.finish()
            return
        yield encryptor.push(block)


def _read_exact(source: BinaryIO, size: int) -> bytes:
    parts, remaining = [], size
    while remaining and (part := source.read(remaining)):
        parts.append(part)
        remaining -= len(part)
    return b"".join(parts)


@dataclass(frozen=True)
class Uploaded:
    id: int
    name: str
    size: int


def upload(api: Api, opened: Opened, file: Path, *, say: Callable[[str], None] = lambda _: None,
           pause: Callable[[float], None] = time.sleep) -> Uploaded:
    """Encrypt and upload `file` to the case, chunk by chunk, and add its name, size and type."""
    size = file.stat().st_size
    count = chunk_count(size)
    started = api.call("POST", path("reporter", "uploads"), {"chunks": count, "bytes": ciphertext_size(size)})
    upload_id = started["id"]
    try:
        with file.open("rb") as source:
            for index, chunk in enumerate(encrypted_chunks(source, size, opened.case_keys.public, case=opened.ref)):
                _put_chunk(api, upload_id, index, chunk, pause)
                if count > 4 and index % 64 == 0 and index:
                    say(f"  {file.name}: {index} of {count} parts sent")
        content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        meta = {"name": shown_name(file), "size": size, "type": content_type}
        item = crypto.encrypt_item(opened.case_keys.public, json.dumps(meta, ensure_ascii=False).encode("utf-8"),
                                   case=opened.ref, kind="attachment-meta", author=AUTHOR)
        done = api.call("POST", path("reporter", "uploads", upload_id, "done"), {"meta": b64(item)})
    except BaseException:
        _abandon(api, upload_id)
        raise
    return Uploaded(done["id"], shown_name(file), size)


def shown_name(file: Path) -> str:
    """The name the people handling the report see: the file's own name, without control characters."""
    return "".join(ch for ch in file.name if ch.isprintable()).strip() or "attachment"


def _put_chunk(api: Api, upload_id: str, index: int, chunk: bytes, pause: Callable[[float], None]) -> None:
    """Send one chunk until the server has it: after a failure, ask which chunks it holds (the
    failure may have been the answer, not the chunk), and send it again if it is not among them."""
    where = path("reporter", "uploads", upload_id, index)
    for attempt in range(RETRIES + 1):
        try:
            api.put_bytes(where, chunk)
            return
        except ApiError as error:
            if error.status < 500 and error.status not in (408, 429):
                raise
            failure: Exception = error
        except TRANSPORT_ERRORS as error:
            failure = error
        if attempt == RETRIES:
            raise failure
        pause(min(2 ** attempt, 30))
        try:
            status = api.call("GET", path("reporter", "uploads", upload_id))
            if index in status.get("received", []):
                return
        except (ApiError, *TRANSPORT_ERRORS):
            pass  # the next attempt sends the chunk again anyway


def _abandon(api: Api, upload_id: str) -> None:
    try:
        api.call("DELETE", path("reporter", "uploads", upload_id))
    except (ApiError, *TRANSPORT_ERRORS):
        pass  # the server deletes an unfinished upload after a day anyway


@dataclass(frozen=True)
class Listed:
    id: int
    name: str | None  # None: its name and size did not verify
    size: int | None
    author: str | None
    meta: dict[str, Any] | None


def attachments(opened: Opened) -> list[Listed]:
    metas = {entry.id: entry for entry in entries(opened) if entry.kind == "attachment-meta"}
    found = []
    for row in opened.envelopes.get("attachments", []):
        entry = metas.get(row.get("meta_item"))
        meta = entry.value if entry and isinstance(entry.value, dict) else None
        found.append(Listed(row["id"], meta.get("name") if meta else None, meta.get("size") if meta else None,
                            entry.author if entry else row.get("author"), meta))
    return found


def download(api: Api, opened: Opened, attachment_id: int, out: Path) -> Listed:
    """Decrypt attachment `attachment_id` into `out`: written to a temporary file beside it, renamed
    to `out` only once the final chunk has been read and the size matches the file's meta item."""
    listed = next((a for a in attachments(opened) if a.id == attachment_id), None)
    if listed is None:
        raise LookupError(f"this case has no file {attachment_id}")
    if listed.meta is None or not isinstance(listed.size, int):
        raise crypto.DecryptionFailed("the file's name and size do not verify")
    size = listed.size
    descriptor, temporary = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".part")
    try:
        written = 0
        with os.fdopen(descriptor, "wb") as handle, \
                api.stream(path("reporter", "attachments", attachment_id, "blob")) as response:
            for plaintext in crypto.decrypt_stream(opened.case_keys, response, case=opened.ref,
                                                   author=listed.author or ""):
                written += len(plaintext)
                if written > size:  # a forged stream could run on until the disk is full
                    raise crypto.DecryptionFailed("the file is longer than its name and size say")
                handle.write(plaintext)
            handle.flush()
            os.fsync(handle.fileno())
        if written != size:
            raise crypto.DecryptionFailed("the file is not the size its name and size say")
        os.replace(temporary, out)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return listed
