"""The S3 blob store: each blob an object in a bucket of an S3-compatible service (boto3).

A blob is written by a multipart upload, a part of PART_BYTES at a time (memory stays flat
whatever the file's size), and appears under its name only when the upload is completed, so a
crash never leaves a half-written blob visible (the bucket should abort incomplete multipart
uploads after a day: docs/attachments.md). Reading fetches the object as a stream, from any
offset (a ranged GET after a seek).

Staged files (uploads in chunks, written at any offset in any order and rewritten in place) do not
suit objects, which are written once: they live in the database store's staging area
(dbblobs.py), and publishing one copies it, a part at a time, into a new object.

The bucket holds ciphertext only, under random names (docs/threat-model.md).
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, BinaryIO, Self

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from whistle import crypto
from whistle.attachments.blobs import _NAME, BlobStoreUnavailable, StagedSizeMismatch
from whistle.attachments.dbblobs import DatabaseBlobStore
from whistle.settings import ConfigurationError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from whistle.settings import Settings

# A multipart upload's parts (S3 wants at least 5 MiB for every part but the last).
PART_BYTES = 8 << 20
_MISSING = ("NoSuchKey", "404", "NotFound")


class S3BlobStore:
    """Blobs as objects `prefix + name` in `bucket`, through the boto3 S3 `client`; staged files in
    `staging` (a DatabaseBlobStore)."""

    def __init__(self, client: Any, bucket: str, staging: DatabaseBlobStore, *, prefix: str = "") -> None:
        self.client, self.bucket, self.prefix, self.staging = client, bucket, prefix, staging

    @classmethod
    def from_settings(cls, settings: Settings, engine: Engine) -> S3BlobStore:
        if not settings.s3_bucket:
            raise ConfigurationError("whistle.attachments.blob_store = s3 needs whistle.attachments.s3.bucket")
        client = boto3.client(
            "s3",
            endpoint_url=settings.s3_endpoint_url or None,
            region_name=settings.s3_region or None,
            aws_access_key_id=settings.s3_access_key_id or None,
            aws_secret_access_key=settings.s3_secret_access_key or None,
            config=Config(retries={"mode": "standard"}),
        )
        return cls(client, settings.s3_bucket, DatabaseBlobStore.for_engine(engine), prefix=settings.s3_prefix)

    def __repr__(self) -> str:
        return f"S3BlobStore(bucket={self.bucket!r}, prefix={self.prefix!r})"

    def _key(self, name: str) -> str:
        if not _NAME.match(name):
            raise ValueError("bad blob name")
        return self.prefix + name

    def writer(self) -> S3BlobWriter:
        return S3BlobWriter(self, crypto.random_token(24))

    def open(self, name: str) -> BinaryIO:
        reader = S3BlobReader(self, self._key(name))
        reader.seek(0)
        reader._body()  # a missing blob raises FileNotFoundError now, as a missing file would
        return reader  # type: ignore[return-value]

    def delete(self, name: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(name))

    # Staged files: in the database store; a published one is copied into an object.
    def stage_new(self) -> str:
        return self.staging.stage_new()

    def stage_write(self, staged: str, offset: int, data: bytes) -> None:
        self.staging.stage_write(staged, offset, data)

    def stage_read(self, staged: str, offset: int, size: int) -> bytes:
        return self.staging.stage_read(staged, offset, size)

    def stage_pieces(self, staged: str, sizes: Iterable[int]) -> Iterator[bytes]:
        return self.staging.stage_pieces(staged, sizes)

    def stage_publish(self, staged: str, size: int) -> str:
        self.staging.check_staged_whole(staged, size)
        writer = self.writer()
        try:
            remaining = size
            for piece in self.staging.stage_pieces(staged, _part_sizes(size)):
                if not piece or len(piece) > remaining:
                    raise StagedSizeMismatch(staged)
                remaining -= len(piece)
                writer.write(piece)
            writer.commit()
        except BaseException:
            writer.discard()
            raise
        return writer.name

    def stage_delete(self, staged: str) -> None:
        self.staging.stage_delete(staged)

    def names(self) -> Iterator[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix)
        for page in pages:
            for entry in page.get("Contents", []):
                name = entry["Key"][len(self.prefix):]
                if _NAME.match(name):
                    yield name

    def put(self, name: str, source: BinaryIO) -> None:
        writer = S3BlobWriter(self, name)
        self._key(name)
        try:
            while piece := source.read(PART_BYTES):
                writer.write(piece)
            writer.commit()
        except BaseException:
            writer.discard()
            raise

    def check(self) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except (BotoCoreError, ClientError) as error:
            raise BlobStoreUnavailable(type(error).__name__) from error
        self.staging.check()


def _part_sizes(size: int) -> Iterator[int]:
    for start in range(0, size, PART_BYTES):
        yield min(PART_BYTES, size - start)


class S3BlobWriter:
    """A blob written as a multipart upload, a part at a time; a small one in one PUT at commit."""

    def __init__(self, store: S3BlobStore, name: str) -> None:
        self.name = name
        self._store, self._key = store, store._key(name)
        self._buffer = bytearray()
        self._upload_id: str | None = None
        self._parts: list[dict] = []

    def write(self, data: bytes) -> None:
        self._buffer += data
        while len(self._buffer) >= PART_BYTES:
            self._send_part(bytes(self._buffer[:PART_BYTES]))
            del self._buffer[:PART_BYTES]

    def _send_part(self, data: bytes) -> None:
        client, bucket = self._store.client, self._store.bucket
        if self._upload_id is None:
            self._upload_id = client.create_multipart_upload(Bucket=bucket, Key=self._key)["UploadId"]
        number = len(self._parts) + 1
        answer = client.upload_part(Bucket=bucket, Key=self._key, UploadId=self._upload_id, PartNumber=number,
                                    Body=data)
        self._parts.append({"PartNumber": number, "ETag": answer["ETag"]})

    def commit(self) -> None:
        client, bucket = self._store.client, self._store.bucket
        if self._upload_id is None:
            client.put_object(Bucket=bucket, Key=self._key, Body=bytes(self._buffer))
        else:
            if self._buffer:
                self._send_part(bytes(self._buffer))
            client.complete_multipart_upload(Bucket=bucket, Key=self._key, UploadId=self._upload_id,
                                             MultipartUpload={"Parts": self._parts})
            self._upload_id = None
        self._buffer.clear()

    def discard(self) -> None:
        self._buffer.clear()
        if self._upload_id is not None:
            upload_id, self._upload_id = self._upload_id, None
            self._store.client.abort_multipart_upload(Bucket=self._store.bucket, Key=self._key, UploadId=upload_id)


class S3BlobReader:
    """An object read like an open file: a streamed GET from the current offset, started again
    from a new one after a seek."""

    def __init__(self, store: S3BlobStore, key: str) -> None:
        self._store, self._key = store, key
        self._position = 0
        self._stream: Any = None

    def _body(self) -> Any:
        if self._stream is None:
            try:
                answer = self._store.client.get_object(Bucket=self._store.bucket, Key=self._key,
                                                       Range=f"bytes={self._position}-")
            except ClientError as error:
                code = error.response.get("Error", {}).get("Code")
                if code == "InvalidRange":  # at or past the end
                    return None
                if code in _MISSING:
                    raise FileNotFoundError(self._key) from None
                raise
            self._stream = answer["Body"]
        return self._stream

    def read(self, size: int = -1) -> bytes:
        body = self._body()
        if body is None:
            return b""
        if size < 0:
            data = body.read()
        else:  # a read from the network may come short of what was asked before the end
            data = b""
            while len(data) < size and (more := body.read(size - len(data))):
                data += more
        self._position += len(data)
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        if whence != 0:
            raise ValueError("only absolute seeks")
        if offset != self._position or self._stream is None:
            self.close()
            self._position = offset
        return self._position

    def tell(self) -> int:
        return self._position

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()
