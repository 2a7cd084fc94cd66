"""Fixtures for the end-to-end tests: a real server in a temporary directory."""
import os

import pytest

from tests.conftest import TEST_DATABASE_URL, _drop_postgres_database, _fresh_postgres_database
from tests.e2e.server import Server

# Figures the slow end-to-end tests measure (crashes survived, reports read back, a restore's
# contents), printed in the run's summary so that a CI log, which captures print(), shows them.
FIGURES: list[str] = []


@pytest.fixture
def figures():
    """figures(line): keep a line of measured figures for the run's summary."""
    return FIGURES.append


def pytest_terminal_summary(terminalreporter):
    if FIGURES:
        terminalreporter.section("figures measured by the end-to-end tests")
        for line in FIGURES:
            terminalreporter.write_line(line)


@pytest.fixture
def running_server(tmp_path):
    """pserve on a copy of development.ini, with its database and demo guardian made, serving."""
    server = Server(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def engine_under_test(committed_database):
    """new(name) -> the settings that put a Server's database, and its shred key store, on the
    engine under test: fresh PostgreSQL databases when WHISTLE_TEST_DATABASE_URL is set (dropped
    afterwards), SQLite files otherwise."""
    made = []

    def new(name: str) -> dict[str, str]:
        raw = committed_database(name)
        settings = {"whistle.db.url": raw["whistle.db.url"], "whistle.shred_store.url": raw["whistle.shred_store.url"]}
        if TEST_DATABASE_URL:
            # The shred keys in a database of their own on the same server, as production has them.
            shred = f"whistle_{name}_shred_{os.getpid()}"
            settings["whistle.shred_store.url"] = _fresh_postgres_database(TEST_DATABASE_URL, shred)
            made.append(shred)
        return settings

    yield new
    for database in made:
        _drop_postgres_database(TEST_DATABASE_URL, database)
