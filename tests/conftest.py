"""Shared fixtures, cookiecutter style: one app per run, each test inside a doomed transaction.

The database is SQLite in a temporary directory, or the PostgreSQL server that
WHISTLE_TEST_DATABASE_URL points at (CI runs the suite both ways). The schema is built by the
real Alembic migrations, so they are tested on both engines too.
"""
from __future__ import annotations

import logging
import os
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import transaction
from sqlalchemy import text
from webtest import TestApp

from tests import logcheck
from tests.factories import PASSWORD
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


# --- every log record of the run, checked at its end (tests/logcheck.py) ---
# whistle's loggers (and the plugins', "whistle_*") and waitress's, at DEBUG, written to a file as the
# operator's log would hold them; pytest_sessionfinish fails the run if any holds what a log must not.
LOGGED_BY = ("whistle", "waitress")


class _SuiteLog(logging.FileHandler):
    def __init__(self, path: str) -> None:
        super().__init__(path, encoding="utf-8")
        self.setLevel(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s [%(name)s] %(message)s"))
        self.addFilter(lambda record: record.name.startswith(LOGGED_BY))


def pytest_configure(config):
    handle, path = tempfile.mkstemp(prefix="whistle-suite-log-", suffix=".txt")
    os.close(handle)
    config.whistle_suite_log = _SuiteLog(path)
    logging.getLogger().addHandler(config.whistle_suite_log)
    for name in LOGGED_BY:
        logging.getLogger(name).setLevel(logging.DEBUG)


def pytest_sessionfinish(session):
    handler = getattr(session.config, "whistle_suite_log", None)
    if handler is None:
        return
    logging.getLogger().removeHandler(handler)
    handler.close()
    with open(handler.baseFilename, encoding="utf-8", errors="replace") as log:
        text = log.read()
    # What every test signs in with, and the text factories.submit_api sends unless told otherwise.
    found = logcheck.findings(text, secrets=[("a staff password", PASSWORD),
                                             ("a disclosure's text", "Something is wrong on ward 7.")])
    if not found:
        os.unlink(handler.baseFilename)
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.ensure_newline()
        reporter.write_sep("=", "the log check failed", red=True)
        reporter.write_line(f"The log of this run holds what a log must not ({len(found)} finding(s); the whole log "
                            f"is kept in {handler.baseFilename}). Log types and ids, never values from a request:")
        for finding in found[:20]:
            reporter.write_line(f"  {finding}", red=True)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


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
        # Its checkpoints go beside it, in keys/audit-checkpoints.
        "whistle.audit.key_file": str(tmp_dir / "keys" / "audit_key"),
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


@pytest.fixture
def within_one_hour(clock):
    """The clock moved to just after the next hour begins. A client's hash for the throttles
    changes with the hour (whistle.throttles.client_hash), so a test that counts one client's tries
    must not cross an hour: the shared clock, moved on by earlier tests, might be a minute from one."""
    now = clock.now()
    clock.advance(timedelta(hours=1, seconds=1) - timedelta(minutes=now.minute, seconds=now.second,
                                                            microseconds=now.microsecond))


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
