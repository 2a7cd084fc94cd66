"""Fixtures for the end-to-end tests: a real server in a temporary directory."""
import pytest

from tests.e2e.server import Server


@pytest.fixture
def running_server(tmp_path):
    """pserve on a copy of development.ini, with its database and demo guardian made, serving."""
    server = Server(tmp_path)
    server.start()
    yield server
    server.stop()
