"""The read endpoints run a fixed number of SQL statements: none grows with the number of cases,
items, files or earlier readings (no N+1 query, nothing unbounded on the request path).

Each endpoint is asked twice in a world of N things and twice in one of 10 N (the first asking of
each pair settles what a reading writes once: the day's "case.viewed", marking the case read), and
the second asking's statements are counted, on the app's database and the shred key store alike.
The counts must be equal, and no higher than the ceiling listed here, so that a statement added to
a read endpoint shows up as a failure to look at, with the statements it ran.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from types import SimpleNamespace
from urllib.parse import quote

import pytest
import transaction
from sqlalchemy import event, select
from webtest import TestApp

from tests.factories import Staff, api_login, bearer, html_login, make_channel, make_staff, submit_api
from tests.functional.reporters.helpers import come_back
from whistle import audit
from whistle.cases.models import Case
from whistle.config import make_configurator
from whistle.db import get_tm_session
from whistle.settings import load_settings

N = 2

# The statements of one asking in steady state.
CASE_CEILINGS = {
    "GET /api/v1/cases/{ref}": 15,
    "GET /staff/cases/{ref}": 24,
    "GET /api/v1/cases/{ref}/envelopes": 15,
    "GET /staff/cases/{ref}/envelopes": 13,
}
MAILBOX_CEILINGS = {
    "GET /api/v1/reporter/case": 9,
    "GET /mailbox/case": 10,
}
LIST_CEILINGS = {
    "GET /api/v1/cases": 5,
    "GET /staff/cases": 10,
    "GET /staff/held-cases": 3,
    "GET /api/v1/channels": 7,
    "GET /staff/statistics": 8,
}


@contextmanager
def counted(app) -> Iterator[list[str]]:
    """The SQL statements run inside the block, on the app's database and on the shred key store."""
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(" ".join(statement.split()))

    engines = [app.registry["db_engine"], app.registry["shred_store"].engine]
    for engine in engines:
        event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", count)


def statements_of(testapp, app, path: str, headers: dict | None = None) -> list[str]:
    testapp.get(path, headers=headers or {}, status=200)  # settles what the first asking writes
    with counted(app) as statements:
        testapp.get(path, headers=headers or {}, status=200)
    return statements


def check(counts: dict[str, tuple[list[str], list[str]]], ceilings: dict[str, int]) -> None:
    """Every endpoint ran as many statements at 10 N as at N, and no more than its ceiling."""
    failures = []
    for name, (small, large) in counts.items():
        if len(large) != len(small) or len(large) > ceilings[name]:
            failures.append(f"{name}: {len(small)} statements with N = {N}, {len(large)} with {10 * N} "
                            f"(ceiling {ceilings[name]}); at {10 * N}:\n    " + "\n    ".join(large))
    assert not failures, "\n".join(failures)


@dataclass
class World:
    """A real app on a database of its own that each request commits to, as in production: every
    request has a session of its own, so nothing a test loaded hides a statement."""

    app: object
    testapp: TestApp
    settings: object
    guardian: Staff
    guardian_id: int

    @contextmanager
    def dbsession(self):
        with transaction.manager:
            yield get_tm_session(self.app.registry["dbsession_factory"], transaction.manager)


@pytest.fixture
def world(committed_database, clock):
    raw = committed_database("counts")
    settings = load_settings(raw, environ={})
    app = make_configurator(raw, settings=settings, clock=clock).make_wsgi_app()
    with transaction.manager:
        dbsession = get_tm_session(app.registry["dbsession_factory"], transaction.manager)
        make_channel(dbsession, "staff", title="Raise a concern")
        guardian = make_staff(dbsession, settings, clock, "guardian", channels=["staff"])
        guardian_id = guardian.account.id
        # What signing in needs of the account, kept past the commit that detaches it.
        guardian = replace(guardian, account=SimpleNamespace(id=guardian_id, username=guardian.account.username))
    yield World(app, TestApp(app, extra_environ={"HTTP_HOST": "example.com"}), settings, guardian, guardian_id)
    app.registry["db_engine"].dispose()


def test_reading_one_case_does_not_grow_with_its_messages_files_and_readings(world, clock):
    testapp, app, guardian = world.testapp, world.app, world.guardian
    submitted = submit_api(testapp, text="The night shift is left with one nurse for 40 beds.")
    ref = submitted["case"]
    with world.dbsession() as dbsession:
        case_id = dbsession.scalar(select(Case.id).where(Case.ref == ref))
    reporter = bearer(testapp.post_json("/api/v1/reporter/session", {"receipt": submitted["receipt"]}).json["token"])
    headers = api_login(testapp, guardian, clock)
    have = 0

    def grow(to: int) -> None:
        nonlocal have
        for n in range(have, to):
            testapp.post_json("/api/v1/reporter/messages", {"text": f"More about it, {n}."}, headers=reporter,
                              status=201)
            testapp.post("/api/v1/reporter/attachments", b"%PDF- rota " + bytes([n]), status=201,
                         headers=dict(reporter, **{"Content-Type": "application/pdf",
                                                   "X-Filename": quote(f"rota-{n}.pdf")}))
            testapp.post_json(f"/api/v1/cases/{ref}/messages", {"text": f"Thank you, {n}."}, headers=headers,
                              status=201)
            testapp.post_json(f"/api/v1/cases/{ref}/notes", {"text": f"Checked the rota, {n}."}, headers=headers,
                              status=201)
            with world.dbsession() as dbsession:
                for _ in range(10):  # readings on earlier days
                    audit.record(dbsession, clock, actor=f"account:{world.guardian_id}", action="case.viewed",
                                 case_id=case_id)
        have = to

    def ask() -> dict[str, list[str]]:
        html_login(testapp, guardian, clock)
        return {name: statements_of(testapp, app, name.split()[1].format(ref=ref), headers)
                for name in CASE_CEILINGS}

    grow(N)
    small = ask()
    grow(10 * N)
    large = ask()
    check({name: (small[name], large[name]) for name in CASE_CEILINGS}, CASE_CEILINGS)


def test_the_reporters_mailbox_does_not_grow_with_its_messages_and_files(world, clock):
    testapp, app, guardian = world.testapp, world.app, world.guardian
    submitted = submit_api(testapp, text="The fire exit on ward 7 is chained shut.")
    ref = submitted["case"]
    reporter = bearer(testapp.post_json("/api/v1/reporter/session", {"receipt": submitted["receipt"]}).json["token"])
    headers = api_login(testapp, guardian, clock)
    have = 0

    def grow(to: int) -> None:
        nonlocal have
        for n in range(have, to):
            testapp.post_json("/api/v1/reporter/messages", {"text": f"More about it, {n}."}, headers=reporter,
                              status=201)
            testapp.post_json(f"/api/v1/cases/{ref}/messages", {"text": f"Thank you, {n}."}, headers=headers,
                              status=201)
            testapp.post(f"/api/v1/cases/{ref}/attachments", b"%PDF- policy " + bytes([n]), status=201,
                         headers=dict(headers, **{"Content-Type": "application/pdf",
                                                  "X-Filename": quote(f"policy-{n}.pdf")}))
        have = to

    come_back(testapp, submitted["receipt"])

    def ask() -> dict[str, list[str]]:
        return {name: statements_of(testapp, app, name.split()[1], reporter if "/api/" in name else None)
                for name in MAILBOX_CEILINGS}

    grow(N)
    small = ask()
    grow(10 * N)
    large = ask()
    check({name: (small[name], large[name]) for name in MAILBOX_CEILINGS}, MAILBOX_CEILINGS)


def test_lists_do_not_grow_with_the_cases_and_channels(world, clock):
    testapp, app, guardian = world.testapp, world.app, world.guardian
    have = 0

    def grow(to: int) -> None:
        nonlocal have
        for n in range(have, to):
            with world.dbsession() as dbsession:  # a channel with a guardian: it may take reports
                make_channel(dbsession, f"channel-{n}", title=f"Channel {n}")
                make_staff(dbsession, world.settings, clock, f"guardian{n}", channels=[f"channel-{n}"])
            ref = submit_api(testapp, text=f"Something is wrong on ward {n}.")["case"]
            reporter = bearer(testapp.post_json("/api/v1/reporter/session",
                                                {"receipt": submit_api(testapp)["receipt"]}).json["token"])
            testapp.post_json("/api/v1/reporter/messages", {"text": "And again."}, headers=reporter, status=201)
            testapp.post_json(f"/api/v1/cases/{ref}/triage", {"add_labels": [f"label-{n}"]}, headers=headers)
        have = to

    headers = api_login(testapp, guardian, clock)

    def ask() -> dict[str, list[str]]:
        html_login(testapp, guardian, clock)
        return {name: statements_of(testapp, app, name.split()[1], headers if "/api/" in name else None)
                for name in LIST_CEILINGS}

    grow(N)
    small = ask()
    grow(10 * N)
    large = ask()
    check({name: (small[name], large[name]) for name in LIST_CEILINGS}, LIST_CEILINGS)
