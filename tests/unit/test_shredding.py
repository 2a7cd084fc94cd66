"""The shred key store: keys made, found and destroyed, each committed in the store's own database."""
from __future__ import annotations

import sqlite3

import pytest
import transaction

from whistle.db import get_tm_session, make_engine, make_session_factory
from whistle.settings import load_settings
from whistle.shredding import ShredStore, ShredStoreMissing, default_store_url, open_shred_store, shred_store_of


@pytest.fixture
def store(tmp_path):
    store = ShredStore(f"sqlite:///{tmp_path / 'keys' / 'shred-keys.sqlite'}")
    yield store
    store.dispose()


def test_a_new_key_is_a_random_handle_and_key_found_again(store):
    handle, key = store.new_key()
    other_handle, other_key = store.new_key()
    assert len(handle) == 16 and len(key) == 32
    assert handle != other_handle and key != other_key
    assert store.keys([handle, other_handle, None, b"\0" * 16]) == {handle: key, other_handle: other_key}


def test_a_destroyed_key_is_gone_and_destroying_again_is_harmless(store):
    handle, _ = store.new_key()
    kept, kept_key = store.new_key()
    store.destroy([handle])
    store.destroy([handle, None])
    assert store.keys([handle, kept]) == {kept: kept_key}


def test_a_destroyed_key_leaves_no_bytes_in_the_store_file(store, tmp_path):
    handle, key = store.new_key()
    store.destroy([handle])
    store.dispose()  # close every connection, as a copy taken from disk would see it
    directory = tmp_path / "keys"
    on_disk = b"".join(path.read_bytes() for path in directory.iterdir() if path.is_file())
    assert key not in on_disk and handle not in on_disk


def test_keys_are_committed_at_once_whatever_the_main_transaction_does(store, tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'main.sqlite'}")
    manager = transaction.TransactionManager(explicit=True)
    manager.begin()
    dbsession = get_tm_session(make_session_factory(engine, store), manager)
    handle, key = shred_store_of(dbsession).new_key()
    doomed, _ = shred_store_of(dbsession).new_key()
    shred_store_of(dbsession).destroy([doomed])
    manager.abort()
    engine.dispose()
    assert ShredStore(store.url).keys([handle, doomed]) == {handle: key}


def test_the_store_holds_one_table_of_handles_and_keys(store, tmp_path):
    store.new_key()
    with sqlite3.connect(tmp_path / "keys" / "shred-keys.sqlite") as connection:
        tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        columns = [row[1] for row in connection.execute("PRAGMA table_info(shred_keys)")]
    assert tables == ["shred_keys"] and columns == ["handle", "key"]
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA secure_delete").scalar() == 1


def test_a_session_made_without_a_store_says_so(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'main.sqlite'}")
    with make_session_factory(engine)() as dbsession, pytest.raises(ShredStoreMissing):
        shred_store_of(dbsession)
    engine.dispose()


def test_the_store_defaults_to_a_file_beside_the_sqlite_database_and_must_be_set_for_postgresql():
    assert default_store_url("sqlite:////srv/whistle/var/whistle.sqlite") == "sqlite:////srv/whistle/var/shred-keys.sqlite"
    assert default_store_url("postgresql+psycopg://whistle@/whistle") == ""
    with pytest.raises(ValueError, match=r"whistle\.shred_store\.url"):
        open_shred_store("")


def test_the_setting_names_the_store(tmp_path):
    raw = {"whistle.db.url": "sqlite:////srv/var/whistle.sqlite", "whistle.storage.dir": "/srv/var/blobs",
           "whistle.secrets.lookup_pepper": "A" * 43 + "=", "whistle.secrets.session_key": "A" * 43 + "=",
           "whistle.audit.key": "A" * 43 + "=", "whistle.audit.checkpoint_file": "/srv/var/audit-checkpoints"}
    assert load_settings(raw, environ={}).shred_store_url == "sqlite:////srv/var/shred-keys.sqlite"
    elsewhere = {**raw, "whistle.shred_store.url": "postgresql+psycopg://whistle@/whistle_shred"}
    assert load_settings(elsewhere, environ={}).shred_store_url == "postgresql+psycopg://whistle@/whistle_shred"


def test_the_main_database_deletes_securely_too(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'main.sqlite'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA secure_delete").scalar() == 1
    engine.dispose()
