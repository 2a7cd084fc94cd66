"""The world schemathesis meets: a committed database per caller (the app's own transactions commit,
as in production), a live channel with its guardian, an admin, and a case with a message each way.

Each caller gets a database of its own, so what one caller's generated requests change (a session
ended, a case withdrawn, an account disabled) is not what the next caller meets.
"""
from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
import transaction
from webtest import TestApp

from tests.conftest import TEST_DATABASE_URL, _drop_postgres_database, _fresh_postgres_database, app_settings
from tests.factories import PASSWORD, make_live_channel, make_staff, sign_directory
from whistle.accounts.services import account_named, private_key_with_password
from whistle.cli.database import upgrade
from whistle.clock import ManualClock
from whistle.config import make_configurator
from whistle.db import get_tm_session
from whistle.openapi.document import build_document
from whistle.reporters.services import login as reporter_login
from whistle.sessions.models import STAFF
from whistle.sessions.services import open_session
from whistle.settings import load_settings

CALLERS = ("anonymous", "reporter", "guardian", "admin")
USERNAMES = {"guardian": "staff.keeper", "admin": "admin"}


@dataclass
class Tally:
    """What the runs did, for the summary at the end (and WHISTLE_TEST_CONFORMANCE_SUMMARY)."""
    requests: dict[str, int] = field(default_factory=dict)
    statuses: dict[int, int] = field(default_factory=dict)
    failures: dict[tuple[str, str, str], str] = field(default_factory=dict)  # (caller, operation, check) -> message


TALLY = Tally()


def counted(app, caller: str):
    """The WSGI app, counting each request and the status it was answered with."""
    def counting_app(environ, start_response):
        TALLY.requests[caller] = TALLY.requests.get(caller, 0) + 1

        def start(status, headers, exc_info=None):
            code = int(status.split(" ", 1)[0])
            TALLY.statuses[code] = TALLY.statuses.get(code, 0) + 1
            return start_response(status, headers, exc_info)
        return app(environ, start)
    return counting_app


@dataclass
class World:
    app: object  # what the generated requests are sent to: the app, counting them
    sessions: object  # the app's session factory
    settings: object
    clock: ManualClock
    case: str
    receipt: str
    caller: str = "anonymous"
    tokens: dict[str, str | None] = field(default_factory=dict)  # one session per operation

    def session(self):
        manager = transaction.TransactionManager(explicit=True)
        manager.begin()
        return manager, get_tm_session(self.sessions, manager)

    def token(self, caller: str) -> str | None:
        """A new session for `caller` (None for anonymous), opened the way the sign-in calls open
        one but without the calls: the generated requests may have paused the account's sign-in
        (wrong passwords, wrong codes) or spent the wrong-receipt budget, and that must not decide
        whether the next operation is tried signed in."""
        if caller == "anonymous":
            return None
        manager, dbsession = self.session()
        if caller == "reporter":
            token = reporter_login(dbsession, self.settings, self.clock, self.receipt).token
        else:
            account = account_named(dbsession, USERNAMES[caller])
            token = open_session(dbsession, self.settings, self.clock, kind=STAFF,
                                 private_key=private_key_with_password(account, PASSWORD), account_id=account.id)
        manager.commit()
        return token


@pytest.fixture(scope="module", params=CALLERS)
def world(request, tmp_path_factory) -> Iterator[World]:
    """The world one caller meets, made once for all the operations walked as that caller."""
    caller = request.param
    directory = tmp_path_factory.mktemp(f"conformance_{caller}")
    database = f"whistle_conformance_{caller}_{os.getpid()}"
    if TEST_DATABASE_URL:
        url = _fresh_postgres_database(TEST_DATABASE_URL, database)
    else:
        url = f"sqlite:///{directory / 'whistle.sqlite'}"
    upgrade(url)
    raw = app_settings(directory, url)
    settings = load_settings(raw, environ={})
    clock = ManualClock(datetime.now(UTC).replace(microsecond=0))
    app = make_configurator(raw, settings=settings, clock=clock).make_wsgi_app()
    seed = World(app=app, sessions=app.registry["dbsession_factory"], settings=settings, clock=clock,
                 case="", receipt="")
    manager, dbsession = seed.session()
    make_live_channel(dbsession, settings, clock, "staff")
    make_staff(dbsession, settings, clock, "admin", admin=True, guardian=False)
    sign_directory(dbsession, settings, clock)
    manager.commit()
    plain = TestApp(app, extra_environ={"HTTP_HOST": "localhost"})
    sent = plain.post_json("/api/v1/disclosures", {"channel": "staff", "text": "Something is wrong on ward 7.",
                                                   "answers": {"ongoing": "yes"}}, status=201).json
    seed.case, seed.receipt = sent["case"], sent["receipt"]
    guardian = {"Authorization": f"Bearer {seed.token('guardian')}"}
    plain.post_json(f"/api/v1/cases/{seed.case}/messages", {"text": "Thank you: who else saw it?"},
                    headers=guardian, status=201)
    reporter = {"Authorization": f"Bearer {seed.token('reporter')}"}
    plain.post_json("/api/v1/reporter/messages", {"text": "The night staff did."}, headers=reporter, status=201)
    assert plain.get("/api/v1/openapi.json").json == json.loads(json.dumps(build_document())), \
        "the walk's document is the one served"
    seed.app, seed.caller = counted(app, caller), caller
    yield seed
    app.registry["db_engine"].dispose()
    if TEST_DATABASE_URL:
        _drop_postgres_database(TEST_DATABASE_URL, database)


def pytest_terminal_summary(terminalreporter):
    if TALLY.requests:
        for line in summary_lines():
            terminalreporter.write_line(line)
    path = os.environ.get("WHISTLE_TEST_CONFORMANCE_SUMMARY")
    if path and TALLY.requests:
        with open(path, "w") as out:
            out.write("\n".join(summary_lines(detailed=True)) + "\n")


def summary_lines(*, detailed: bool = False) -> list[str]:
    by_check: dict[str, int] = {}
    for (_caller, _operation, check) in TALLY.failures:
        by_check[check] = by_check.get(check, 0) + 1
    lines = [
        f"schemathesis: {sum(TALLY.requests.values())} requests "
        f"({', '.join(f'{caller} {count}' for caller, count in TALLY.requests.items())}), "
        f"{sum(count for status, count in TALLY.statuses.items() if status >= 500)} x 5xx, "
        f"{len(TALLY.failures)} failures"
        + (f" ({', '.join(f'{check} {count}' for check, count in sorted(by_check.items()))})" if by_check else ""),
    ]
    if detailed:
        lines.append("statuses: " + ", ".join(f"{status} {count}" for status, count in sorted(TALLY.statuses.items())))
        for (caller, operation, check), message in sorted(TALLY.failures.items()):
            lines.append(f"- {caller:9} {operation}: {check}: {message}")
    return lines
