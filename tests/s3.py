"""A local S3-protocol server for the S3 blob store's tests: moto's, on loopback, in a thread.

These are protocol tests: they show that whistle speaks S3 as moto understands it (multipart
uploads, ranged reads, listing), not that a given provider behaves the same in every respect."""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

import boto3
from moto.server import ThreadedMotoServer

from whistle.attachments.s3blobs import S3BlobStore

CREDENTIALS = {"aws_access_key_id": "whistle-test", "aws_secret_access_key": "whistle-test-secret",
               "region_name": "eu-west-2"}


@contextlib.contextmanager
def s3_server() -> Iterator[str]:
    """Run the server for the block; yields its endpoint URL."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def new_bucket(endpoint: str, name: str) -> None:
    client = boto3.client("s3", endpoint_url=endpoint, **CREDENTIALS)
    client.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": CREDENTIALS["region_name"]})


def s3_settings(endpoint: str, bucket: str) -> dict:
    """The raw settings that choose the S3 store on this server (the secret key given inline here;
    an installation names a file: whistle.attachments.s3.secret_access_key_file)."""
    return {"whistle.attachments.blob_store": "s3", "whistle.attachments.s3.bucket": bucket,
            "whistle.attachments.s3.endpoint_url": endpoint,
            "whistle.attachments.s3.region": CREDENTIALS["region_name"],
            "whistle.attachments.s3.access_key_id": CREDENTIALS["aws_access_key_id"],
            "whistle.attachments.s3.secret_access_key": CREDENTIALS["aws_secret_access_key"]}


__all__ = ["CREDENTIALS", "S3BlobStore", "new_bucket", "s3_server", "s3_settings"]
