"""Limits that identify nobody (docs/operations.md, "Limits"): reports, wrong receipts and files,
each per client (its address hashed with an hourly key) and across the service; the surge mark;
the report form's field only programs fill in; and that no address is ever stored."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from types import SimpleNamespace

import pytest
import transaction
from sqlalchemy import func, select
from webtest import TestApp, Upload

from tests.factories import build_client_case, make_live_channel, send_client_case, submit_api
from whistle import crypto
from whistle.cases.models import Attachment, Case
from whistle.config import make_configurator
from whistle.db import Base
from whistle.intake.limits import TooManyReports, admit_disclosure, count_disclosure
from whistle.settings import load_settings
from whistle.throttles import CLIENT_WINDOW, SERVICE_WINDOW, Throttle, forget_ended

pytestmark = pytest.mark.usefixtures("within_one_hour")  # counts of one client stay under one hour's key


ADDRESS = "203.0.113.77"
OTHER = "198.51.100.23"
THIRD = "192.0.2.9"
TEXT = "The night rota on ward 7 is signed for checks nobody did."


@pytest.fixture
def fresh_hour(clock):
    """The clock a minute into the next hour, so the per-process client key (replaced each hour)
    stays the same through the test."""
    now = clock.now()
    clock.set(now.replace(minute=1, second=0, microsecond=0) + timedelta(hours=1))
    return clock


@pytest.fixture
def limited(raw_settings, clock, tm, dbsession, fresh_hour):
    """limited(**settings) -> client(address): a TestApp on an app with these limits, its requests
    coming from `address`, all in the test's transaction."""
    def make(**limits):
        raw = dict(raw_settings, **{key: str(value) for key, value in limits.items()})
        app = make_configurator(raw, settings=load_settings(raw, environ={}), clock=clock).make_wsgi_app()

        def client(address: str) -> TestApp:
            return TestApp(app, extra_environ={"HTTP_HOST": "example.com", "REMOTE_ADDR": address, "tm.active": True,
                                               "tm.manager": tm, "app.dbsession": dbsession})
        return client
    return make


@pytest.fixture
def channel(dbsession, settings, clock):
    return make_live_channel(dbsession, settings, clock, "staff", title="Raise a concern")


def cases(dbsession) -> int:
    return dbsession.scalar(select(func.count()).select_from(Case))


def report_form(testapp, text: str = TEXT):
    form = testapp.get("/report/staff").forms["disclosure-form"]
    form["text"] = text
    form["answers.ongoing"] = "yes"
    return form


# --- reports ---

def test_the_sixth_report_from_one_client_is_refused_and_another_client_still_gets_in(limited, dbsession, channel):
    client = limited(**{"whistle.intake.reports_per_client": 5})
    one, other = client(ADDRESS), client(OTHER)
    for _ in range(5):
        submit_api(one)
    manager = watched(one)
    refused = one.post_json("/api/v1/disclosures", {"channel": "staff", "text": TEXT, "answers": {"ongoing": "yes"}},
                            status=429)
    assert manager.isDoomed()
    assert refused.content_type == "application/problem+json"
    assert refused.json["type"] == "/api/v1/problems/too-many-reports"
    assert 0 < int(refused.headers["Retry-After"]) <= CLIENT_WINDOW.total_seconds()
    assert refused.json["retry_after"] == int(refused.headers["Retry-After"])
    assert cases(dbsession) == 5, "the refused report stored nothing"

    # The form says so in words, with everything typed still there.
    page = report_form(one, "Words I must not lose.").submit(status=429)
    assert page.headers["Retry-After"] == refused.headers["Retry-After"]
    assert page.html.find("textarea", id="text").get_text() == "Words I must not lose."
    summary = page.html.find(class_="error-summary").get_text(" ", strip=True)
    assert "Too many reports have come from here" in summary and "try again in 10 minutes" in summary
    assert cases(dbsession) == 5

    submit_api(other)
    report_form(other).submit(status=303)
    assert cases(dbsession) == 7


def test_a_case_built_on_the_device_is_counted_and_refused_the_same_way(limited, dbsession, settings, clock, channel):
    client = limited(**{"whistle.intake.reports_per_client": 1})
    one = client(ADDRESS)
    send_client_case(one, build_client_case(one, settings, clock))
    refused = send_client_case(one, build_client_case(one, settings, clock), status=429)
    assert refused["type"] == "/api/v1/problems/too-many-reports"
    assert cases(dbsession) == 1
    send_client_case(client(OTHER), build_client_case(one, settings, clock))


def test_a_clients_window_ends_and_it_may_report_again(limited, dbsession, clock, channel):
    one = limited(**{"whistle.intake.reports_per_client": 1})(ADDRESS)
    submit_api(one)
    one.post_json("/api/v1/disclosures", {"channel": "staff", "text": TEXT, "answers": {"ongoing": "yes"}}, status=429)
    clock.advance(CLIENT_WINDOW)
    submit_api(one)
    assert cases(dbsession) == 2


def test_the_service_budget_refuses_every_client_that_has_not_proven_its_work(limited, dbsession, channel):
    client = limited(**{"whistle.intake.reports_per_minute": 2})
    submit_api(client(ADDRESS))
    submit_api(client(OTHER))
    refused = client(THIRD).post_json("/api/v1/disclosures", {"channel": "staff", "text": TEXT,
                                                               "answers": {"ongoing": "yes"}}, status=429)
    assert 0 < refused.json["retry_after"] <= SERVICE_WINDOW.total_seconds()
    page = report_form(client(THIRD)).submit(status=429)
    assert "try again in 1 minute." in page.html.find(class_="error-summary").get_text(" ", strip=True)
    assert cases(dbsession) == 2


def request_from(address: str, dbsession, settings, clock):
    """What admit_disclosure reads of a request (a proof of work has no page of its own yet)."""
    return SimpleNamespace(environ={"REMOTE_ADDR": address}, dbsession=dbsession, whistle_settings=settings,
                           clock=clock)


def test_proven_work_passes_the_service_budget_but_never_the_clients_own(dbsession, settings, fresh_hour, channel):
    # Written first, so the test's transaction has begun on SQLite too: pysqlite begins one only at
    # the first write, and a savepoint released outside a transaction would commit the row.
    dbsession.flush()
    limits = replace(settings, reports_per_minute=1, reports_per_client=2, surge_reports_per_minute=1)
    first = request_from(ADDRESS, dbsession, limits, fresh_hour)
    assert admit_disclosure(first).surge is False
    count_disclosure(first)

    with pytest.raises(TooManyReports):
        admit_disclosure(request_from(OTHER, dbsession, limits, fresh_hour))
    proven = request_from(OTHER, dbsession, limits, fresh_hour)
    assert admit_disclosure(proven, proven=True).surge is True
    count_disclosure(proven)
    again = request_from(OTHER, dbsession, limits, fresh_hour)
    admit_disclosure(again, proven=True)
    count_disclosure(again)
    with pytest.raises(TooManyReports) as refused:
        admit_disclosure(request_from(OTHER, dbsession, limits, fresh_hour), proven=True)
    assert refused.value.retry_after > SERVICE_WINDOW.total_seconds(), "the client's own ten minutes"


def test_proven_reports_never_spend_the_budget_of_reports_without_a_proof(dbsession, settings, fresh_hour, channel):
    # A flood of proven reports (a proof of work is cheap on a GPU) must not shut out the reporters
    # who have no JavaScript and so never have a proof; it still marks a surge.
    dbsession.flush()
    limits = replace(settings, reports_per_minute=2, reports_per_client=100, surge_reports_per_minute=2)
    for _ in range(3):
        proven = request_from(ADDRESS, dbsession, limits, fresh_hour)
        admit_disclosure(proven, proven=True)
        count_disclosure(proven)
    unproven = request_from(OTHER, dbsession, limits, fresh_hour)
    assert admit_disclosure(unproven).surge is True, "the proven reports are past the surge mark"
    count_disclosure(unproven)
    third = request_from(THIRD, dbsession, limits, fresh_hour)
    admit_disclosure(third)
    count_disclosure(third)
    with pytest.raises(TooManyReports):  # the budget of reports without a proof still holds
        admit_disclosure(request_from("192.0.2.77", dbsession, limits, fresh_hour))


def test_cases_that_come_in_past_the_surge_mark_carry_the_day(limited, dbsession, settings, clock, channel):
    client = limited(**{"whistle.intake.surge_reports_per_minute": 2})
    submit_api(client(ADDRESS))
    report_form(client(OTHER)).submit(status=303)
    surged = submit_api(client(THIRD))
    built = send_client_case(client(THIRD), build_client_case(client(THIRD), settings, clock))
    days = dict(dbsession.execute(select(Case.ref, Case.surge_day)).all())
    assert list(days.values()).count(None) == 2, "the two before the mark"
    assert days[surged["case"]] == days[built["case"]] == clock.today()

    clock.advance(SERVICE_WINDOW)
    assert dbsession.scalar(select(Case.surge_day).where(Case.ref == submit_api(client(ADDRESS))["case"])) is None


# --- the field only programs fill in ---

def test_a_form_with_the_hidden_field_filled_is_refused_and_nothing_of_it_kept(testapp, dbsession, channel):
    page = testapp.get("/report/staff")
    trap = page.html.find("input", attrs={"name": "website"})
    assert trap["tabindex"] == "-1" and trap.find_parent(class_="leave-empty")["aria-hidden"] == "true"
    assert page.html.find("label", attrs={"for": "website"}).get_text(strip=True) == "Leave this empty"

    form = report_form(testapp, "Words a program sent.")
    form["website"] = "http://spam.example/buy-now"
    refused = form.submit(status=400)
    assert cases(dbsession) == 0
    assert refused.html.find("textarea", id="text").get_text() == "Words a program sent."
    assert "spam.example" not in refused.text, "the field is not shown back"
    assert "Nothing was sent yet" in refused.html.find(class_="error-summary").get_text()

    # A person whose browser filled it in just sends again: the form came back with it empty.
    refused.forms["disclosure-form"].submit(status=303)
    assert cases(dbsession) == 1


def watched(app_client: TestApp) -> transaction.TransactionManager:
    """A transaction manager of the client's own, to see whether its next request dooms the
    transaction (the test's own is doomed from the start): what a doomed request wrote is thrown away."""
    manager = transaction.TransactionManager(explicit=True)
    manager.begin()
    app_client.extra_environ["tm.manager"] = manager
    return manager


def test_the_hidden_field_filled_after_the_files_throws_the_case_away(testapp, channel):
    form = report_form(testapp)
    fields = [(name, value) for name, value in form.submit_fields() if name != "website"]
    body = [*fields, ("attachments", Upload("rota.txt", b"the rota", "text/plain")), ("website", "spam")]
    manager = watched(testapp)
    refused = testapp.post("/report/staff", body, status=400)
    assert manager.isDoomed(), "the case opened at the file is thrown away"
    assert "spam" not in refused.html.find("form", id="disclosure-form").decode()


# --- wrong receipts ---

def test_a_client_with_too_many_wrong_receipts_is_refused_and_another_still_gets_in(limited, dbsession, channel):
    client = limited(**{"whistle.mailbox.receipt_failures_per_client": 3})
    one, other = client(ADDRESS), client(OTHER)
    receipt = submit_api(other)["receipt"]
    for wrong in ("AAAA-BBBB-CCCC-DDDD-EEEE", "not a receipt", "2222-3333-4444-5555-6666"):
        one.post_json("/api/v1/reporter/session", {"receipt": wrong}, status=401)
    refused = one.post_json("/api/v1/reporter/session", {"receipt": receipt}, status=429)
    assert refused.json["type"] == "/api/v1/problems/too-many-receipt-tries"
    assert int(refused.headers["Retry-After"]) == refused.json["retry_after"]

    form = one.get("/mailbox").forms[0]
    form["receipt"] = receipt
    page = form.submit(status=429)
    assert "try again in 10 minutes" in page.text and "Retry-After" in page.headers

    other.post_json("/api/v1/reporter/session", {"receipt": receipt}, status=200)
    form = other.get("/mailbox").forms[0]
    form["receipt"] = receipt
    form.submit(status=303)


def test_a_right_receipt_does_not_count_against_the_client(limited, channel):
    client = limited(**{"whistle.mailbox.receipt_failures_per_client": 1})
    one = client(ADDRESS)
    receipt = submit_api(one)["receipt"]
    for _ in range(3):
        one.post_json("/api/v1/reporter/session", {"receipt": receipt}, status=200)


# --- files ---

def file_headers(token: dict, name: str = "a.txt") -> dict:
    return dict(token, **{"Content-Type": "application/octet-stream", "X-Filename": name})


def test_files_per_client_and_across_the_service(limited, dbsession, channel):
    client = limited(**{"whistle.attachments.uploads_per_client": 2, "whistle.attachments.uploads_per_minute": 3})
    one, other, third = client(ADDRESS), client(OTHER), client(THIRD)
    receipt = submit_api(one)["receipt"]
    token = {"Authorization": "Bearer " + one.post_json("/api/v1/reporter/session", {"receipt": receipt}).json["token"]}
    shape = {"chunks": crypto.stream_chunk_count(300), "bytes": crypto.stream_ciphertext_size(300)}
    one.post("/api/v1/reporter/attachments", b"first", headers=file_headers(token), status=201)
    one.post_json("/api/v1/reporter/uploads", shape, headers=token, status=201)
    manager = watched(one)
    refused = one.post("/api/v1/reporter/attachments", b"third", headers=file_headers(token), status=429)
    assert manager.isDoomed()
    assert refused.json["type"] == "/api/v1/problems/too-many-uploads" and "Retry-After" in refused.headers
    started = one.post_json("/api/v1/reporter/uploads", shape, headers=token, status=429)
    assert started.json["type"] == "/api/v1/problems/too-many-uploads"
    assert dbsession.scalar(select(func.count()).select_from(Attachment)) == 1

    # Another client (the same report, from another address) has its own budget, up to the service's.
    other.post("/api/v1/reporter/attachments", b"fourth", headers=file_headers(token), status=201)
    third.post("/api/v1/reporter/attachments", b"fifth", headers=file_headers(token), status=429)
    assert dbsession.scalar(select(func.count()).select_from(Attachment)) == 2


def test_the_mailbox_form_keeps_the_message_when_files_are_refused(limited, dbsession, channel):
    client = limited(**{"whistle.attachments.uploads_per_client": 1})
    one = client(ADDRESS)
    form = one.get("/mailbox").forms[0]
    form["receipt"] = submit_api(one)["receipt"]
    page = form.submit(status=303).follow()
    form = page.forms["message-form"]
    form["text"] = "Here are both rotas."
    form["files"] = [Upload("one.txt", b"one", "text/plain"), Upload("two.txt", b"two", "text/plain")]
    manager = watched(one)
    refused = form.submit(status=429)
    assert manager.isDoomed(), "nothing of the post is kept"
    assert refused.html.find("textarea", id="text").get_text() == "Here are both rotas."
    said = refused.html.find(id="error-files").get_text()
    assert said.startswith("Too many files have been sent from here") and "send it again in 10 minutes" in said
    assert "Retry-After" in refused.headers

    form = refused.forms["message-form"]
    form["files"] = [Upload("one.txt", b"one", "text/plain")]
    form.submit(status=303)


# --- nothing that identifies anyone, and nothing left behind ---

def test_no_address_is_stored_anywhere(limited, dbsession, settings, clock, channel):
    client = limited(**{"whistle.intake.reports_per_client": 2, "whistle.mailbox.receipt_failures_per_client": 1})
    one = client(ADDRESS)
    receipt = submit_api(one)["receipt"]
    report_form(one).submit(status=303)
    one.post_json("/api/v1/disclosures", {"channel": "staff", "text": TEXT, "answers": {"ongoing": "yes"}}, status=429)
    one.post_json("/api/v1/reporter/session", {"receipt": "AAAA-BBBB-CCCC-DDDD-EEEE"}, status=401)
    one.post_json("/api/v1/reporter/session", {"receipt": receipt}, status=429)
    dbsession.flush()

    keys = dbsession.scalars(select(Throttle.key)).all()
    assert any(key.startswith("reports:") for key in keys) and any(key.startswith("receipts:") for key in keys)
    for table in Base.metadata.sorted_tables:
        for row in dbsession.execute(select(table)).all():
            for value in row:
                text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
                assert ADDRESS not in text, f"the address is in {table.name}"


def test_ended_windows_are_forgotten(limited, dbsession, clock, channel):
    client = limited()
    submit_api(client(ADDRESS))
    submit_api(client(OTHER))
    dbsession.flush()

    def kept() -> list[str]:
        return sorted(key.split(":")[0] + (":client" if ":" in key else "")
                      for key in dbsession.scalars(select(Throttle.key)).all() if key.startswith("reports"))

    assert kept() == ["reports", "reports:client", "reports:client"]
    assert forget_ended(dbsession, clock) == 0
    clock.advance(SERVICE_WINDOW)
    assert forget_ended(dbsession, clock) == 1
    assert kept() == ["reports:client", "reports:client"]
    clock.advance(CLIENT_WINDOW - SERVICE_WINDOW)
    assert forget_ended(dbsession, clock) == 2
    assert kept() == []
