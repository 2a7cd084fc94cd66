"""The fuzz's app: the ordinary test app plus a listener that notes, per request, whether an
exception view answered it (pyramid_tm aborts those transactions in production, which the
tests' shared, doomed transaction cannot show)."""
from __future__ import annotations

import os

import pytest
from pyramid.events import NewResponse

from tests.fuzz.record import RAISED, TALLY, summary
from whistle.config import make_configurator


def _note_raised(event) -> None:
    request = event.request
    request.environ[RAISED] = getattr(request, "exception", None) is not None


@pytest.fixture(scope="session")
def app(raw_settings, settings, clock):
    config = make_configurator(raw_settings, settings=settings, clock=clock)
    config.add_subscriber(_note_raised, NewResponse)
    return config.make_wsgi_app()


def pytest_terminal_summary(terminalreporter):
    if TALLY["requests"]:
        terminalreporter.write_line(summary())


def pytest_sessionfinish(session):
    path = os.environ.get("WHISTLE_TEST_FUZZ_COVERAGE")
    if path:
        from tests.fuzz.test_fuzz import COVERAGE

        with open(path, "w") as out:
            for key, count in sorted(COVERAGE.items()):
                out.write(f"{key} {count}\n")
