"""The operations endpoints (docs/operations.md 10.1): /healthz answers without the database, /readyz
says ready or not and nothing else, /metrics gives counts to the token's holder only, and pages
name the onion address."""
from __future__ import annotations

import logging
import re
from dataclasses import replace

import pytest
from alembic import command
from sqlalchemy import event
from sqlalchemy.engine import Engine
from webtest import TestApp

from tests.factories import make_live_channel, make_staff, submit_api
from whistle import crypto, throttles
from whistle.accounts.services import FREE_FAILURES
from whistle.attachments.blobs import BlobStoreUnavailable
from whistle.cli.database import alembic_config
from whistle.config import make_configurator
from whistle.health import readiness
from whistle.health.readiness import Readiness
from whistle.settings import SPECS, ConfigurationError, load_settings

pytestmark = pytest.mark.usefixtures("within_one_hour")  # counts of one client stay under one hour's key


TOKEN = "m" * 40
ONION = "duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzczad.onion"


@pytest.fixture
def statements():
    """Every SQL statement any engine runs while the test does."""
    seen: list[str] = []

    def note(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(Engine, "before_cursor_execute", note)
    yield seen
    event.remove(Engine, "before_cursor_execute", note)


def test_healthz_answers_from_the_process_alone(testapp, statements):
    response = testapp.get("/healthz")
    assert response.json == {"status": "ok"}
    assert statements == []  # not the database, not a session lookup
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert testapp.head("/healthz").status_int == 200


# --- /readyz ----------------------------------------------------------------------------------------


class BrokenStore:
    def check(self):
        raise BlobStoreUnavailable("/srv/secret-path is not writable")


def test_readyz_is_ready_when_everything_answers(testapp):
    response = testapp.get("/readyz")
    assert response.json == {"status": "ready"}
    assert response.headers["Cache-Control"] == "no-store"


def test_readyz_says_only_not_ready_when_the_blob_store_does_not_answer(app, testapp, monkeypatch, caplog):
    monkeypatch.setattr(app.registry, "blob_store", BrokenStore())
    monkeypatch.setattr(app.registry, "readiness", Readiness.for_registry(app.registry))
    with caplog.at_level(logging.WARNING, logger="whistle.health.readiness"):
        response = testapp.get("/readyz", status=503)
        testapp.get("/readyz", status=503)
    assert response.body == b'{"status": "not ready"}'
    # The reason is in the log, once (a load balancer's polling does not fill it), without the error's text.
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == ["not ready: the blob store does not answer (BlobStoreUnavailable)"]


def test_readyz_is_not_ready_when_a_key_file_cannot_be_read(app, testapp, monkeypatch, tmp_path, caplog):
    gone = tmp_path / "audit_key"
    checks = Readiness(app.registry["db_engine"], [*app.registry.whistle_settings.key_files, gone],
                       lambda: app.registry.blob_store)
    monkeypatch.setattr(app.registry, "readiness", checks)
    with caplog.at_level(logging.WARNING, logger="whistle.health.readiness"):
        assert testapp.get("/readyz", status=503).body == b'{"status": "not ready"}'
    assert f"a key file cannot be read: {gone} (FileNotFoundError)" in caplog.text
    gone.write_text("back again")
    assert testapp.get("/readyz").json == {"status": "ready"}


def test_the_key_files_checked_are_those_the_settings_were_read_from(settings, raw_settings):
    assert {str(path) for path in settings.key_files} == {
        value for key, value in raw_settings.items() if key.endswith("_file") and key.removesuffix("_file") in SPECS}
    assert settings.key_files


def test_readyz_is_not_ready_when_the_database_is_behind_the_migrations(committed_database, clock):
    """A node started on new code before `db upgrade` ran: the load balancer must not send it work."""
    raw = committed_database("behind")
    command.downgrade(alembic_config(raw["whistle.db.url"]), "0021")
    app = make_configurator(raw, settings=load_settings(raw, environ={}), clock=clock).make_wsgi_app()
    try:
        assert TestApp(app).get("/readyz", status=503).json == {"status": "not ready"}
    finally:
        app.registry["db_engine"].dispose()


def test_the_slow_checks_are_cached_a_few_seconds(app):
    calls, moment = [], [100.0]

    class CountingStore:
        def check(self):
            calls.append(1)

    checks = Readiness(app.registry["db_engine"], (), CountingStore, now=lambda: moment[0])
    assert checks.ready() and checks.ready()
    assert len(calls) == 1
    moment[0] += readiness.CACHE_SECONDS
    assert checks.ready()
    assert len(calls) == 2


# --- /metrics ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def metrics_app(raw_settings, settings, clock):
    with_token = replace(settings, metrics_token=TOKEN)
    return TestApp(make_configurator(raw_settings, settings=with_token, clock=clock).make_wsgi_app())


SAMPLE = re.compile(r'^[a-z_]+(\{[a-z_]+="[^"\\\n]*"(,[a-z_]+="[^"\\\n]*")*\})? [0-9.e+-]+$')


def exposition(text: str) -> dict[str, float]:
    """The samples of a Prometheus text exposition (0.0.4), checked line by line: each sample belongs
    to the family its TYPE line names (a histogram's with _bucket, _sum and _count)."""
    samples, types = {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, family, kind = line.split(" ")
            types[family] = kind
            continue
        if line.startswith("# HELP "):
            continue
        assert SAMPLE.match(line), line
        name, value = line.rsplit(" ", 1)
        family = name.split("{")[0]
        base = family.rsplit("_", 1)[0]
        assert family in types or types.get(base) == "histogram", f"{family} has no TYPE line"
        samples[name] = float(value)
    return samples


@pytest.mark.parametrize("authorization", [None, "Bearer ", f"Bearer {TOKEN[:-1]}x", f"Basic {TOKEN}", TOKEN])
def test_metrics_without_the_token_look_like_an_address_that_does_not_exist(metrics_app, authorization):
    headers = {"Authorization": authorization} if authorization is not None else {}
    refused = metrics_app.get("/metrics", headers=headers, status=404)
    nowhere = metrics_app.get("/nowhere", status=404)
    assert refused.body == nowhere.body
    assert "WWW-Authenticate" not in refused.headers


def test_metrics_are_not_there_without_a_token_file(testapp):
    assert testapp.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, status=404)


def test_metrics_count_requests_by_route_and_the_service_by_status(metrics_app, dbsession, settings, clock):
    metrics_app.get("/healthz")
    metrics_app.get("/nowhere/at/all", status=404)
    metrics_app.get("/api/v1/channels")
    response = metrics_app.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.content_type == "text/plain"
    samples = exposition(response.text)
    assert samples['whistle_http_requests_total{route="health",status="2xx"}'] >= 1
    assert samples['whistle_http_requests_total{route="api.channels",status="2xx"}'] >= 1
    assert samples['whistle_http_requests_total{route="none",status="4xx"}'] >= 1
    assert "/nowhere" not in response.text  # a route's name, never a path
    assert samples['whistle_http_request_duration_seconds_count{route="health"}'] >= 1
    assert samples['whistle_http_request_duration_seconds_bucket{route="health",le="+Inf"}'] >= 1
    for status in ("received", "acknowledged", "assessing", "investigating", "feedback_given"):
        assert f'whistle_cases_open{{status="{status}"}}' in samples
    assert 'whistle_notifications{state="pending"}' in samples
    assert samples["whistle_blob_store_up"] == 1
    assert samples["whistle_ready"] == 1
    assert "whistle_kdf_slot_waits_total" in samples and "whistle_kdf_slot_refusals_total" in samples


def test_metrics_count_cases_and_say_nothing_about_one(committed_database, clock):
    raw = committed_database("metrics")
    settings = replace(load_settings(raw, environ={}), metrics_token=TOKEN)
    app = make_configurator(raw, settings=settings, clock=clock).make_wsgi_app()
    try:
        with app.registry["dbsession_factory"]() as dbsession, dbsession.begin():
            make_live_channel(dbsession, settings, clock, "metrics", title="Metrics")
        testapp = TestApp(app)
        submitted = submit_api(testapp, "metrics", text="CONTENT-OF-A-DISCLOSURE in the metrics test")
        text = testapp.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).text
    finally:
        app.registry["db_engine"].dispose()
    assert exposition(text)['whistle_cases_open{status="received"}'] == 1
    for secret in ("CONTENT-OF-A-DISCLOSURE", submitted["receipt"], submitted["case"], "127.0.0.1"):
        assert secret not in text


def test_refusals_are_counted_by_limit(dbsession, clock):
    before = throttles.refusal_counts()
    budgets = [throttles.Budget("reports:abcdef", 0, throttles.CLIENT_WINDOW),
               throttles.Budget("reports", 5, throttles.SERVICE_WINDOW)]
    with pytest.raises(throttles.BudgetSpent):
        throttles.check(dbsession, clock, budgets)
    after = throttles.refusal_counts()
    assert after["reports per client"] == before.get("reports per client", 0) + 1
    assert after.get("reports", 0) == before.get("reports", 0)  # the service's budget had room


def test_a_paused_sign_in_is_counted_by_its_limit(testapp, dbsession, settings, clock):
    make_staff(dbsession, settings, clock, "counted.guardian")
    attacker = {"REMOTE_ADDR": "203.0.113.66"}
    before = throttles.refusal_counts().get("sign-in pause", 0)
    body = {"username": "counted.guardian", "password": "a wrong password", "otp": "000000"}
    statuses = [testapp.post_json("/api/v1/staff/session", body, extra_environ=attacker, status=[401, 429]).status_int
                for _ in range(FREE_FAILURES + 2)]
    assert statuses == [401] * FREE_FAILURES + [429] * 2
    assert throttles.refusal_counts()["sign-in pause"] == before + 2


def test_argon2id_slots_waited_for_and_refused_are_counted():
    before_bounds, before = crypto.argon2id_bounds(), crypto.argon2id_counts()
    crypto.bound_argon2id(1, 0.01)
    try:
        with crypto.kdf_slot(), pytest.raises(crypto.KdfBusy), crypto.kdf_slot():
            pass
    finally:
        crypto.bound_argon2id(before_bounds.concurrency, before_bounds.wait)
    after = crypto.argon2id_counts()
    assert (after.waits, after.refusals) == (before.waits + 1, before.refusals + 1)


def test_the_metrics_token_is_long_enough(raw_settings, tmp_path):
    short = tmp_path / "metrics_token"
    short.write_text("too short\n")
    with pytest.raises(ConfigurationError, match=r"whistle\.metrics\.token"):
        load_settings({**raw_settings, "whistle.metrics.token_file": str(short)}, environ={})
    short.write_text(TOKEN + "\n")
    assert load_settings({**raw_settings, "whistle.metrics.token_file": str(short)}, environ={}).metrics_token == TOKEN


# --- Onion-Location ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def onion_app(raw_settings, settings, clock):
    with_onion = replace(settings, onion_address=ONION)
    return TestApp(make_configurator(raw_settings, settings=with_onion, clock=clock).make_wsgi_app(),
                   extra_environ={"HTTP_HOST": "speakup.example.org"})


def test_pages_name_the_same_page_at_the_onion_address(onion_app):
    assert onion_app.get("/").headers["Onion-Location"] == f"http://{ONION}/"
    page = onion_app.get("/staff/login?next=a b&x=%C3%A9", status="*")
    assert page.headers["Onion-Location"] == f"http://{ONION}/staff/login?next=a%20b&x=%C3%A9"
    assert onion_app.get("/nowhere", status=404).headers["Onion-Location"] == f"http://{ONION}/nowhere"


def test_no_onion_location_on_the_api_or_over_the_onion_service(onion_app):
    assert "Onion-Location" not in onion_app.get("/api/v1/channels").headers
    assert "Onion-Location" not in onion_app.get("/api/v1/nowhere", status=404).headers
    assert "Onion-Location" not in onion_app.get("/healthz").headers
    assert "Onion-Location" not in onion_app.get("/", extra_environ={"HTTP_HOST": ONION}).headers
    assert "Onion-Location" not in onion_app.get("/", extra_environ={"HTTP_HOST": ONION.upper() + ":80"}).headers


def test_no_onion_location_without_an_onion_address(testapp):
    assert "Onion-Location" not in testapp.get("/").headers


TOR_PROJECT = "2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion"


@pytest.mark.parametrize("address", [ONION, ONION.upper(), TOR_PROJECT])
def test_a_v3_onion_address_is_taken(raw_settings, address):
    settings = load_settings({**raw_settings, "whistle.onion.address": address}, environ={})
    assert settings.onion_address == address.lower()


@pytest.mark.parametrize("address", [
    "duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzczae.onion",  # one letter off: the checksum
    f"http://{ONION}/", "3g2upl4pq6kufc4m.onion", "example.org", ONION.removesuffix(".onion")])
def test_anything_else_is_refused_at_start_up(raw_settings, address):
    with pytest.raises(ConfigurationError, match=r"'whistle\.onion\.address': (expected a|not a) v3 onion address"):
        load_settings({**raw_settings, "whistle.onion.address": address}, environ={})
