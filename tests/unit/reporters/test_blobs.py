"""The local blob store: atomic writes, random names, deletion when the transaction aborts."""
from __future__ import annotations

import io
import os
import time
from datetime import UTC, datetime, timedelta

import pytest
import transaction

from whistle.attachments.blobs import STAGING, BlobStoreUnavailable, LocalBlobStore, StagedSizeMismatch


def test_write_commit_open_delete(tmp_path):
    store = LocalBlobStore(tmp_path / "blobs")
    writer = store.writer()
    writer.write(b"cipher")
    assert not (tmp_path / "blobs" / writer.name).exists(), "invisible until committed"
    writer.commit()
    with store.open(writer.name) as handle:
        assert handle.read() == b"cipher"
    store.delete(writer.name)
    assert list((tmp_path / "blobs").iterdir()) == []


def test_discard_leaves_nothing(tmp_path):
    store = LocalBlobStore(tmp_path)
    writer = store.writer()
    writer.write(b"half")
    writer.discard()
    assert list(tmp_path.iterdir()) == []


def test_names_cannot_escape_the_directory(tmp_path):
    with pytest.raises(ValueError):
        LocalBlobStore(tmp_path).open("../../etc/passwd")


def test_an_aborted_transaction_deletes_the_stored_blob(tmp_path, dbsession, settings, clock):
    from tests.factories import make_channel
    from whistle import crypto
    from whistle.attachments.services import Limits, store_attachment
    from whistle.cases.services import open_case

    store = LocalBlobStore(tmp_path)
    manager = transaction.TransactionManager(explicit=True)
    txn = manager.begin()
    channel = make_channel(dbsession)
    reporter = crypto.derive_reporter_keys(crypto.new_receipt(), settings.lookup_pepper, settings.receipt_kdf)
    case, keys = open_case(dbsession, channel=channel, reporter=reporter, guardians=[], today=clock.today(),
                           server_key=settings.session_key)
    dbsession.flush()
    store_attachment(dbsession, store, txn, case, keys, name="a.txt", content_type="text/plain", chunks=[b"data"],
                     limits=Limits(100, 100, 100), author="reporter", today=clock.today())
    assert len(list(tmp_path.iterdir())) == 1
    manager.abort()
    assert list(tmp_path.iterdir()) == []


def test_a_staged_file_takes_pieces_in_any_order_and_becomes_a_blob_by_link(tmp_path):
    store = LocalBlobStore(tmp_path)
    staged = store.stage_new()
    store.stage_write(staged, 6, b"world")
    store.stage_write(staged, 0, b"hello ")
    assert store.stage_read(staged, 0, 100) == b"hello world"
    assert store.stage_read(staged, 6, 5) == b"world"
    with pytest.raises(StagedSizeMismatch):
        store.stage_publish(staged, 12)
    name = store.stage_publish(staged, 11)
    assert name != staged
    store.stage_delete(staged)
    with store.open(name) as handle:
        assert handle.read() == b"hello world", "the blob outlives its staged name"
    assert {path.name for path in tmp_path.iterdir()} == {name, STAGING}
    assert list((tmp_path / STAGING).iterdir()) == []


def test_staged_names_cannot_escape_the_staging_area(tmp_path):
    store = LocalBlobStore(tmp_path)
    for call in (lambda: store.stage_write("../" + "a" * 30, 0, b"x"), lambda: store.stage_read("..", 0, 1),
                 lambda: store.stage_publish("a/" + "b" * 30, 1), lambda: store.stage_delete("../../etc/passwd")):
        with pytest.raises(ValueError):
            call()


def test_names_lists_published_blobs_only_and_put_writes_under_the_given_name(tmp_path):
    store = LocalBlobStore(tmp_path / "blobs")
    assert list(store.names()) == [], "a store whose directory does not exist yet is empty"
    writer = store.writer()
    writer.write(b"cipher")
    writer.commit()
    half = store.writer()
    half.write(b"half")  # a writer in progress is not a blob
    staged = store.stage_new()
    store.stage_write(staged, 0, b"staged")
    store.put("restored-blob-name-0123456789", io.BytesIO(b"x" * 3_000_000))
    assert sorted(store.names()) == sorted([writer.name, "restored-blob-name-0123456789"])
    with store.open("restored-blob-name-0123456789") as handle:
        assert handle.read() == b"x" * 3_000_000
    with pytest.raises(ValueError):
        store.put("../escape-attempt-0123456789", io.BytesIO(b"x"))


def test_check_says_when_the_directory_cannot_be_used(tmp_path):
    LocalBlobStore(tmp_path / "blobs").check()
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(BlobStoreUnavailable):
        LocalBlobStore(tmp_path / "file" / "blobs").check()


def test_a_blob_left_half_written_is_deleted_after_a_day_and_a_finished_one_never(tmp_path):
    store = LocalBlobStore(tmp_path)
    old, recent = store.writer(), store.writer()
    old.write(b"half")
    recent.write(b"half")
    done = store.writer()
    done.write(b"whole")
    done.commit()
    two_days_ago = time.time() - 2 * 86400
    os.utime(tmp_path / f".partial-{old.name}", (two_days_ago, two_days_ago))
    os.utime(tmp_path / done.name, (two_days_ago, two_days_ago))
    assert store.forget_partial(datetime.now(UTC).date() - timedelta(days=1)) == 1
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted([f".partial-{recent.name}", done.name])
