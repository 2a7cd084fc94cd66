"""Shared fixtures, cookiecutter style: one app per run, each test inside a doomed transaction.

The database is SQLite in a temporary directory, or the PostgreSQL server that
WHISTLE_TEST_DATABASE_URL points at (CI runs the suite both ways). The schema is built by the
real Alembic migrations, so they are tested on both engines too.
"""
from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

import pytest
import transaction
from sqlalchemy import text
from webtest import TestApp

from whistle.cli.database import upgrade
from whistle.clock import ManualClock
from whistle.config import make_configurator
from whistle.crypto import SigningKey, public_key_file_text
from whistle.db import get_tm_session, make_engine
from whistle.hooks import hook_caller
from whistle.settings import load_settings

TEST_DATABASE_URL = os.environ.get("WHISTLE_TEST_DATABASE_URL")

# Every test here starts real processes (a server, the `whistle` command, Chromium): each takes seconds.
# Marked by directory, so that a new module there cannot forget it.
SLOW_DIRECTORIES = (Path(__file__).parent / "e2e", Path(__file__).parent / "browser")


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(items):
    for item in items:
        if any(item.path.is_relative_to(directory) for directory in SLOW_DIRECTORIES):
            item.add_marker(pytest.mark.slow)


def org_key_files(keys_dir) -> tuple[str, str]:
    """An organisation key pair in `keys_dir` (made once): (signing key file, public key file)."""
    signing, public = keys_dir / "org_signing_key", keys_dir / "org_public_key"
    if not signing.exists():
        keys_dir.mkdir(parents=True, exist_ok=True)
        key = SigningKey.generate()
        key.write(signing)
        public.write_text(public_key_file_text(key.public_key))
    return str(signing), str(public)


def app_settings(tmp_dir, db_url: str) -> dict:
    """The raw settings of a test app: lowest Argon2 cost, key files created in `tmp_dir`, and an
    organisation key that signs the key directory whenever guardians change (auto_sign)."""
    signing, public = org_key_files(tmp_dir / "keys")
    return {
        "whistle.org.signing_key_file": signing,
        "whistle.org.public_key_file": public,
        "whistle.org.auto_sign": "true",
        "whistle.org.directory_state": str(tmp_dir / "keys" / "directory_state"),
        "whistle.db.url": db_url,
        "whistle.storage.dir": str(tmp_dir / "blobs"),
        # Beside the test's database on SQLite; set, so that PostgreSQL runs have one too.
        "whistle.shred_store.url": f"sqlite:///{tmp_dir / 'shred-keys.sqlite'}",
        "whistle.secrets.lookup_pepper_file": str(tmp_dir / "keys" / "lookup_pepper"),
        "whistle.secrets.session_key_file": str(tmp_dir / "keys" / "session_key"),
        "whistle.secrets.autocreate": "true",
        "whistle.cookies.secure": "false",
        "whistle.kdf.opslimit": "1",
        "whistle.kdf.memlimit": "8192",
        "whistle.kdf.receipt_opslimit": "1",
        "whistle.kdf.receipt_memlimit": "8192",
        # Tests send many requests from one address within minutes: the limits' own tests set
        # them low (tests/functional/test_limits.py); production keeps the defaults.
        "whistle.intake.reports_per_client": "100000",
        "whistle.intake.reports_per_minute": "100000",
        "whistle.intake.surge_reports_per_minute": "100000",
        "whistle.mailbox.receipt_failures_per_client": "100000",
        "whistle.attachments.uploads_per_client": "100000",
        "whistle.attachments.uploads_per_minute": "100000",
    }


def reset_postgres(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def raw_settings(tmp_path_factory):
    tmp_dir = tmp_path_factory.mktemp("whistle")
    if TEST_DATABASE_URL:
        reset_postgres(TEST_DATABASE_URL)
        db_url = TEST_DATABASE_URL
    else:
        db_url = f"sqlite:///{tmp_dir / 'test.sqlite'}"
    upgrade(db_url)
    return app_settings(tmp_dir, db_url)


@pytest.fixture(scope="session")
def settings(raw_settings):
    return load_settings(raw_settings, environ={})


@pytest.fixture(scope="session")
def clock():
    return ManualClock(datetime.now(timezone.utc).replace(microsecond=0))


@pytest.fixture(scope="session")
def app(raw_settings, settings, clock):
    return make_configurator(raw_settings, settings=settings, clock=clock).make_wsgi_app()


@pytest.fixture
def tm():
    manager = transaction.TransactionManager(explicit=True)
    manager.begin()
    manager.doom()  # whatever a test does is thrown away at the end
    yield manager
    manager.abort()


@pytest.fixture
def dbsession(app, tm):
    return get_tm_session(app.registry["dbsession_factory"], tm)


@pytest.fixture
def call_hook(app, dbsession, clock):
    """The app's hook caller for services called without a request: the app's plugins (none by
    default) and its event bus, so core's subscribers run as they do in a request."""
    return hook_caller(app.registry.hooks, app.registry.events, dbsession, clock)


@pytest.fixture
def testapp(app, tm, dbsession):
    return TestApp(
        app,
        extra_environ={"HTTP_HOST": "example.com", "tm.active": True, "tm.manager": tm, "app.dbsession": dbsession},
    )


# --- scheduled work: databases whose data is really committed ---


def _fresh_postgres_database(url: str, name: str) -> str:
    """CREATE DATABASE `name` on the test server (the CI user owns the cluster); its URL."""
    from sqlalchemy.engine import make_url

    engine = make_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def _drop_postgres_database(url: str, name: str) -> None:
    engine = make_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture
def committed_database(tmp_path):
    """new(name) -> raw settings of a fresh, migrated database that code under test commits to
    (the tick and its jobs open their own transactions, so the doomed `dbsession` cannot be
    used). SQLite files under tmp_path, or fresh databases on WHISTLE_TEST_DATABASE_URL's server."""
    made = []

    def new(name: str = "committed", *, sqlite: bool = False) -> dict:
        """`sqlite`: an SQLite file whatever the engine under test, for a test about SQLite's own
        files (what a copy of them holds)."""
        directory = tmp_path / name
        directory.mkdir()
        if TEST_DATABASE_URL and not sqlite:
            database = f"whistle_{name}_{os.getpid()}"
            url = _fresh_postgres_database(TEST_DATABASE_URL, database)
            made.append(database)
        else:
            url = f"sqlite:///{directory / 'whistle.sqlite'}"
        upgrade(url)
        return app_settings(directory, url)

    yield new
    for database in made:
        _drop_postgres_database(TEST_DATABASE_URL, database)
