"""What every blob store does, the same way: local files, database rows and S3 objects.

The S3 store is tested against moto's S3-protocol server on loopback (tests/s3.py): a protocol
test, not a claim about any one provider. The database store runs on the engine under test
(PostgreSQL's tables from the migrations when WHISTLE_TEST_DATABASE_URL is set, its own SQLite
file otherwise)."""
from __future__ import annotations

import hashlib
import io
import uuid

import pytest
import transaction
from sqlalchemy import func, select

from tests.conftest import TEST_DATABASE_URL
from tests.s3 import CREDENTIALS, new_bucket, s3_server
from whistle.attachments.blobs import (
    BlobStoreUnavailable,
    LocalBlobStore,
    StagedSizeMismatch,
    blob_store_of_kind,
    make_blob_store,
)
from whistle.attachments.dbblobs import PIECE_BYTES, DatabaseBlobStore, side_database_url
from whistle.attachments.models import StoredBlobPiece
from whistle.attachments.s3blobs import PART_BYTES, S3BlobStore
from whistle.settings import ConfigurationError, load_settings

KINDS = ("local", "database", "s3")


@pytest.fixture(scope="module")
def s3_endpoint():
    with s3_server() as endpoint:
        yield endpoint


def _database_store(tmp_path) -> DatabaseBlobStore:
    return DatabaseBlobStore(TEST_DATABASE_URL or f"sqlite:///{tmp_path / 'whistle-blobs.sqlite'}")


@pytest.fixture(params=KINDS)
def store(request, tmp_path, settings):
    """A store of each kind, emptied of what the test made (on PostgreSQL the tables are shared)."""
    if request.param == "local":
        made = LocalBlobStore(tmp_path / "blobs")
    elif request.param == "database":
        made = _database_store(tmp_path)
    else:
        import boto3

        endpoint = request.getfixturevalue("s3_endpoint")
        bucket = f"whistle-{uuid.uuid4().hex[:16]}"
        new_bucket(endpoint, bucket)
        made = S3BlobStore(boto3.client("s3", endpoint_url=endpoint, **CREDENTIALS), bucket,
                           _database_store(tmp_path), prefix="blobs/")
    before = set(made.names())
    yield made
    for name in set(made.names()) - before:
        made.delete(name)


def _names(store) -> set[str]:
    return set(store.names())


def test_a_blob_is_invisible_until_committed_and_gone_once_deleted(store):
    writer = store.writer()
    writer.write(b"cipher")
    assert writer.name not in _names(store)
    with pytest.raises(FileNotFoundError):
        store.open(writer.name)
    writer.commit()
    assert writer.name in _names(store)
    with store.open(writer.name) as handle:
        assert handle.read() == b"cipher"
    store.delete(writer.name)
    store.delete(writer.name)  # deleting twice is harmless
    assert writer.name not in _names(store)
    with pytest.raises(FileNotFoundError):
        store.open(writer.name)


def test_a_discarded_writer_leaves_nothing(store):
    writer = store.writer()
    writer.write(b"half" * 1000)
    writer.discard()
    assert writer.name not in _names(store)
    with pytest.raises(FileNotFoundError):
        store.open(writer.name)


def test_names_never_leave_the_store(store):
    for call in (lambda: store.open("../../etc/passwd"), lambda: store.delete("../" + "a" * 30),
                 lambda: store.put("../escape-attempt-0123456789", io.BytesIO(b"x")),
                 lambda: store.stage_write("../" + "a" * 30, 0, b"x"), lambda: store.stage_read("..", 0, 1),
                 lambda: store.stage_publish("a/" + "b" * 30, 1), lambda: store.stage_delete("../../etc/passwd")):
        with pytest.raises(ValueError, match="bad"):
            call()  # "bad blob name" or "bad staged name"


def test_a_large_blob_streams_in_and_out_in_pieces_and_reads_from_any_offset(store):
    data = hashlib.shake_256(b"blob").digest(PART_BYTES + 12_345)  # several pieces, two parts
    writer = store.writer()
    for at in range(0, len(data), 65_553):  # the sizes an encryptor writes, across piece boundaries
        writer.write(data[at:at + 65_553])
    writer.commit()
    with store.open(writer.name) as handle:
        handle.seek(PIECE_BYTES - 10)  # as a blob read with its header from the row is
        assert handle.read(20) == data[PIECE_BYTES - 10:PIECE_BYTES + 10]
        assert handle.read(PART_BYTES - PIECE_BYTES) == data[PIECE_BYTES + 10:PART_BYTES + 10]
        rest = handle.read()
    assert rest == data[PART_BYTES + 10:]
    with store.open(writer.name) as handle:
        assert handle.read(len(data) + 100) == data, "a read past the end stops at it"
        assert handle.read(10) == b""


def test_a_staged_file_takes_pieces_in_any_order_is_rewritten_in_place_and_becomes_a_blob(store):
    staged = store.stage_new()
    store.stage_write(staged, 6, b"world")
    store.stage_write(staged, 0, b"hello ")
    assert store.stage_read(staged, 0, 100) == b"hello world"
    assert store.stage_read(staged, 6, 5) == b"world"
    store.stage_write(staged, 1, b"ELL")  # inside one piece: its head and tail stay
    store.stage_write(staged, 4, b"O W")  # across two
    assert store.stage_read(staged, 0, 100) == b"hELLO World"
    assert list(store.stage_pieces(staged, [4, 4, 4, 4])) == [b"hELL", b"O Wo", b"rld", b""]
    with pytest.raises(StagedSizeMismatch):
        store.stage_publish(staged, 12)
    name = store.stage_publish(staged, 11)
    assert name != staged and name in _names(store)
    assert staged not in _names(store), "a staged file is not a blob"
    store.stage_write(staged, 0, b"H")  # the header put back after a finish that failed
    store.stage_delete(staged)
    with pytest.raises(FileNotFoundError):
        store.stage_read(staged, 0, 1)
    with store.open(name) as handle:
        assert handle.read() in (b"hELLO World", b"HELLO World"), "the blob outlives its staged name"


def test_a_staged_file_with_a_gap_is_not_published(store):
    staged = store.stage_new()
    store.stage_write(staged, 5, b"tail")
    assert store.stage_read(staged, 0, 9) == bytes(5) + b"tail", "unwritten bytes read as zeros"
    with pytest.raises(StagedSizeMismatch):
        store.stage_publish(staged, 4)
    store.stage_delete(staged)


def test_a_large_staged_file_becomes_a_blob_whole(store):
    data = hashlib.shake_256(b"staged").digest(PART_BYTES + 1_048_848 + 7)  # two parts when copied to S3
    staged = store.stage_new()
    runs = list(range(0, len(data), 1_048_848))  # runs of 16 chunks, as the chunked upload sends them
    for at in reversed(runs):
        store.stage_write(staged, at, data[at:at + 1_048_848])
    name = store.stage_publish(staged, len(data))
    store.stage_delete(staged)
    with store.open(name) as handle:
        assert hashlib.sha256(handle.read()).digest() == hashlib.sha256(data).digest()


def test_names_lists_published_blobs_only_and_put_writes_and_replaces_under_a_given_name(store):
    writer = store.writer()
    writer.write(b"cipher")
    writer.commit()
    half = store.writer()
    half.write(b"half")  # a writer in progress is not a blob
    staged = store.stage_new()
    store.stage_write(staged, 0, b"staged")
    store.put("restored-blob-name-0123456789", io.BytesIO(b"x" * 3_000_000))
    assert {writer.name, "restored-blob-name-0123456789"} <= _names(store)
    assert half.name not in _names(store) and staged not in _names(store)
    with store.open("restored-blob-name-0123456789") as handle:
        assert handle.read() == b"x" * 3_000_000
    store.put("restored-blob-name-0123456789", io.BytesIO(b"y" * 10))
    with store.open("restored-blob-name-0123456789") as handle:
        assert handle.read() == b"y" * 10
    half.discard()
    store.stage_delete(staged)


def test_check_passes_on_a_working_store(store):
    store.check()


def test_check_says_when_a_store_cannot_be_used(tmp_path, s3_endpoint):
    import boto3

    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(BlobStoreUnavailable):
        DatabaseBlobStore(f"sqlite:///{tmp_path / 'file' / 'blobs.sqlite'}").check()
    missing_bucket = S3BlobStore(boto3.client("s3", endpoint_url=s3_endpoint, **CREDENTIALS), "no-such-bucket",
                                 _database_store(tmp_path))
    with pytest.raises(BlobStoreUnavailable):
        missing_bucket.check()


def test_an_aborted_transaction_deletes_the_stored_blob(store, dbsession, settings, clock):
    from tests.factories import make_channel
    from whistle import crypto
    from whistle.attachments.services import Limits, store_attachment
    from whistle.cases.services import open_case

    manager = transaction.TransactionManager(explicit=True)
    txn = manager.begin()
    channel = make_channel(dbsession)
    reporter = crypto.derive_reporter_keys(crypto.new_receipt(), settings.lookup_pepper, settings.receipt_kdf)
    case, keys = open_case(dbsession, channel=channel, reporter=reporter, guardians=[], today=clock.today(),
                           server_key=settings.session_key)
    dbsession.flush()
    before = _names(store)
    row, _ = store_attachment(dbsession, store, txn, case, keys, name="a.txt", content_type="text/plain",
                              chunks=[b"data"], limits=Limits(100, 100, 100), author="reporter", today=clock.today())
    assert _names(store) - before == {row.blob_name}
    manager.abort()
    assert _names(store) == before


def test_the_database_store_keeps_ciphertext_pieces_only_as_rows(tmp_path):
    store = DatabaseBlobStore(f"sqlite:///{tmp_path / 'whistle-blobs.sqlite'}")
    writer = store.writer()
    writer.write(b"z" * (PIECE_BYTES + 1))
    writer.commit()
    with store.engine.connect() as conn:
        sizes = list(conn.scalars(select(StoredBlobPiece.size).order_by(StoredBlobPiece.offset)))
    assert sizes == [PIECE_BYTES, 1], "one piece at a time, never the whole blob in one row"
    staged = store.stage_new()
    store.stage_write(staged, 106, b"r" * 1_048_848)  # a run of 16 chunks
    with store.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(StoredBlobPiece)) == 3, "a run is one row"
    store.stage_delete(staged)
    store.delete(writer.name)
    with store.engine.connect() as conn:
        assert list(conn.scalars(select(StoredBlobPiece.size))) == [], "a blob's pieces go with its last name"


def test_make_blob_store_builds_the_store_the_settings_choose(raw_settings, tmp_path, s3_endpoint):
    from whistle.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'whistle.sqlite'}")

    def built(**more):
        return make_blob_store(load_settings({**raw_settings, **more}, environ={}), engine)

    assert isinstance(built(), LocalBlobStore), "local is the default"
    assert isinstance(built(**{"whistle.attachments.blob_store": "whistle.attachments.blobs.LocalBlobStore"}),
                      LocalBlobStore), "a dotted class name still works"
    database = built(**{"whistle.attachments.blob_store": "database"})
    assert isinstance(database, DatabaseBlobStore)
    assert str(database.engine.url) == side_database_url(str(engine.url))
    assert str(database.engine.url).endswith("whistle-blobs.sqlite"), "SQLite: a file of its own beside the database"
    secret = tmp_path / "s3-secret"
    secret.write_text(CREDENTIALS["aws_secret_access_key"] + "\n")
    s3 = built(**{"whistle.attachments.blob_store": "s3", "whistle.attachments.s3.bucket": "whistle-settings",
                  "whistle.attachments.s3.endpoint_url": s3_endpoint,
                  "whistle.attachments.s3.region": CREDENTIALS["region_name"],
                  "whistle.attachments.s3.access_key_id": CREDENTIALS["aws_access_key_id"],
                  "whistle.attachments.s3.secret_access_key_file": str(secret)})
    assert isinstance(s3, S3BlobStore)
    new_bucket(s3_endpoint, "whistle-settings")
    s3.check()
    with pytest.raises(ConfigurationError, match=r"whistle\.attachments\.s3\.bucket"):
        built(**{"whistle.attachments.blob_store": "s3"})
    with pytest.raises(ConfigurationError, match=r"whistle\.attachments\.blob_store"):
        built(**{"whistle.attachments.blob_store": "postgres"})
    assert isinstance(blob_store_of_kind("database", load_settings(raw_settings, environ={}), engine),
                      DatabaseBlobStore)


def test_the_tick_deletes_database_blobs_a_node_began_before_yesterday_and_never_finished(tmp_path):
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    from whistle.attachments.models import StoredBlobName
    from whistle.attachments.services import partial_blobs_job

    store = DatabaseBlobStore(f"sqlite:///{tmp_path / 'whistle-blobs.sqlite'}")
    abandoned, writing = store.writer(), store.writer()
    abandoned.write(b"a" * (PIECE_BYTES + 5))  # one piece flushed, as a node that stopped mid-write left it
    writing.write(b"w" * (PIECE_BYTES + 5))
    with store.engine.begin() as conn:
        conn.execute(update(StoredBlobName).where(StoredBlobName.name == abandoned.name)
                     .values(started_on=datetime.now(UTC).date() - timedelta(days=2)))
    assert partial_blobs_job(store.forget_partial)(None) == ["partial blobs: 1 deleted"]
    with store.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(StoredBlobPiece)) == 1, "the abandoned one's pieces went"
    writing.commit()
    with store.open(writing.name) as handle:
        assert handle.read() == b"w" * (PIECE_BYTES + 5), "a writer of today is left alone"
    assert partial_blobs_job(store.forget_partial)(None) == []
