"""Files in chunks (docs/crypto.md 7.2): encrypted here as a stream, uploaded in runs of up to 16
chunks per request, four runs on their way at once (a run that fails is sent again, after asking the
server which chunks it has; chunks the server names as lost when the upload is finished are sent
again from the ciphertext kept in a temporary file), and downloaded by decrypting chunk by chunk into
a temporary file that becomes the file only once the final chunk has been read."""
from __future__ import annotations

import json
import mimetypes
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
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
RUN_CHUNKS = 16  # the most chunks one request carries (the server's limit too)
WINDOW = 4  # runs on their way at once


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


def runs_of(chunks: Iterable[bytes], most: int = RUN_CHUNKS) -> Iterator[tuple[int, int, bytes]]:
    """(first chunk, how many, their bytes) for consecutive runs of up to `most` chunks."""
    first, parts = 0, []
    for chunk in chunks:
        parts.append(chunk)
        if len(parts) == most:
            yield first, len(parts), b"".join(parts)
            first, parts = first + len(parts), []
    if parts:
        yield first, len(parts), b"".join(parts)


@dataclass(frozen=True)
class _Run:
    first: int
    count: int
    at: int  # where its bytes are in the kept ciphertext
    size: int


def upload(api: Api, opened: Opened, file: Path, *, say: Callable[[str], None] = lambda _: None,
           pause: Callable[[float], None] = time.sleep) -> Uploaded:
    """Encrypt and upload `file` to the case, in runs of chunks, and add its name, size and type."""
    size = file.stat().st_size
    count = chunk_count(size)
    started = api.call("POST", path("reporter", "uploads"), {"chunks": count, "bytes": ciphertext_size(size)})
    upload_id = started["id"]
    try:
        # The ciphertext is kept (never the plaintext) until the server has checked the whole file.
        with file.open("rb") as source, tempfile.TemporaryFile() as kept, ThreadPoolExecutor(WINDOW) as pool:
            runs: list[_Run] = []
            pending: set[Future[None]] = set()
            for first, how_many, body in runs_of(encrypted_chunks(source, size, opened.case_keys.public,
                                                                  case=opened.ref)):
                runs.append(_Run(first, how_many, kept.tell(), len(body)))
                kept.write(body)
                pending.add(pool.submit(_put_run, api, upload_id, first, how_many, body, pause))
                if len(pending) >= WINDOW:
                    finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for future in finished:
                        future.result()
                if count > 64 and first // RUN_CHUNKS % 4 == 0 and first:
                    say(f"  {file.name}: {first} of {count} parts sent")
            for future in pending:
                future.result()
            content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
            meta = {"name": shown_name(file), "size": size, "type": content_type}
            item = crypto.encrypt_item(opened.case_keys.public, json.dumps(meta, ensure_ascii=False).encode("utf-8"),
                                       case=opened.ref, kind="attachment-meta", author=AUTHOR)
            done = _finish(api, upload_id, b64(item), runs, kept, pause)
    except BaseException:
        _abandon(api, upload_id)
        raise
    return Uploaded(done["id"], shown_name(file), size)


def _finish(api: Api, upload_id: str, meta: str, runs: list[_Run], kept: BinaryIO,
            pause: Callable[[float], None]) -> Any:
    """Finish the upload; if the server names chunks it lost (409 with "missing"), send the runs that
    hold them again, from the kept ciphertext, and finish again."""
    for attempt in range(RETRIES + 1):
        try:
            return api.call("POST", path("reporter", "uploads", upload_id, "done"), {"meta": meta})
        except ApiError as error:
            missing = error.problem.get("missing") if error.status == 409 else None
            again = [run for run in runs if isinstance(missing, list)
                     and any(run.first <= index < run.first + run.count for index in missing)]
            if not again or attempt == RETRIES:
                raise
        for run in again:
            kept.seek(run.at)
            _put_run(api, upload_id, run.first, run.count, kept.read(run.size), pause)
    raise AssertionError("unreachable")  # the last attempt returns or raises


def shown_name(file: Path) -> str:
    """The name the people handling the report see: the file's own name, without control characters."""
    return "".join(ch for ch in file.name if ch.isprintable()).strip() or "attachment"


def _put_run(api: Api, upload_id: str, first: int, count: int, body: bytes, pause: Callable[[float], None]) -> None:
    """Send a run of chunks until the server has them: after a failure, ask which chunks it holds (the
    failure may have been the answer, not the run), and send the run again unless it holds them all."""
    where = path("reporter", "uploads", upload_id, first)
    for attempt in range(RETRIES + 1):
        try:
            api.put_bytes(where, body)
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
            if set(range(first, first + count)) <= set(status.get("received", [])):
                return
        except (ApiError, *TRANSPORT_ERRORS):
            pass  # the next attempt sends the run again anyway


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
        if entry is not None and entry.erased is not None:
            continue  # erased: shown as such, never offered
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
