"""POST /api/v1/reporter/session with a lookup value (an end-to-end session without a key) or a
receipt of version 2 (derived on the server: the no-JavaScript way into a case a browser built)."""
from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.factories import b64, bearer, make_live_channel
from tests.functional.reporters.helpers import come_back
from whistle import crypto
from whistle.cases.models import ITEM_DISCLOSURE
from whistle.cases.services import add_item, open_case
from whistle.reporters import services
from whistle.sessions.models import REPORTER, REPORTER_E2E, LoginSession
from whistle.throttles import Throttle


@pytest.fixture
def v2_case(dbsession, settings, clock):
    """A case whose reporter holds a version 2 receipt, as a browser makes one: (receipt, lookup value, case)."""
    channel = make_live_channel(dbsession, settings, clock)
    receipt = crypto.new_receipt_v2()
    client = crypto.derive_reporter_keys_v2(receipt, crypto.receipt_salt_v2(settings.lookup_pepper),
                                            settings.receipt_kdf)
    reporter = crypto.ReporterKeys(lookup_id=crypto.lookup_id(client.lookup_value, settings.lookup_pepper),
                                   keypair=client.keypair)
    case, keys = open_case(dbsession, channel=channel, reporter=reporter, guardians=[], today=clock.today(),
                           server_key=settings.session_key)
    add_item(case, keys, kind=ITEM_DISCLOSURE, author="reporter", plaintext=b"The fire door is chained.",
             today=clock.today())
    dbsession.flush()
    return receipt, client.lookup_value, case


def sessions(dbsession, kind: str) -> int:
    return dbsession.scalar(select(func.count()).select_from(LoginSession).where(LoginSession.kind == kind))


def test_a_lookup_value_opens_a_session_without_a_key(testapp, dbsession, v2_case):
    _, lookup_value, case = v2_case
    answer = testapp.post_json("/api/v1/reporter/session", {"lookup_value": b64(lookup_value)}, status=200).json
    assert set(answer) == {"token", "expires_in", "holds_key"} and answer["holds_key"] is False
    row = dbsession.scalars(select(LoginSession).where(LoginSession.kind == REPORTER_E2E)).one()
    assert row.case_id == case.id
    assert crypto.unwrap_for_session(row.wrapped_key, answer["token"], testapp.app.registry.whistle_settings
                                     .session_key) == bytes(32), "the wrap holds no key"


def test_an_end_to_end_session_is_refused_the_plaintext_calls_and_can_leave(testapp, dbsession, v2_case):
    _, lookup_value, _ = v2_case
    headers = bearer(testapp.post_json("/api/v1/reporter/session", {"lookup_value": b64(lookup_value)}).json["token"])
    for method, path, body in [("get", "/api/v1/reporter/case", None),
                               ("post_json", "/api/v1/reporter/messages", {"text": "Hello"}),
                               ("post", "/api/v1/reporter/attachments", b"bytes"),
                               ("get", "/api/v1/reporter/attachments/1", None)]:
        call = getattr(testapp, method)
        refused = (call(path, headers=headers, status=403) if body is None
                   else call(path, body, headers=dict(headers, **{"X-Filename": "a.txt"}), status=403))
        assert "holds no key: use the envelopes API" in refused.json["detail"], path
    testapp.delete("/api/v1/reporter/session", headers=headers, status=204)
    assert sessions(dbsession, REPORTER_E2E) == 0
    testapp.get("/api/v1/reporter/case", headers=headers, status=401)


def test_unknown_and_malformed_lookup_values_get_the_wrong_receipt_answer_and_count(testapp, dbsession, v2_case):
    _, lookup_value, _ = v2_case
    wrong = testapp.post_json("/api/v1/reporter/session", {"lookup_value": b64(bytes(32))}, status=401)
    short = testapp.post_json("/api/v1/reporter/session", {"lookup_value": b64(lookup_value[:31])}, status=401)
    not_base64 = testapp.post_json("/api/v1/reporter/session", {"lookup_value": "not base64!"}, status=401)
    unknown_receipt = testapp.post_json("/api/v1/reporter/session", {"receipt": "0000-0000-0000-0000-0000"},
                                        status=401)
    assert wrong.json == short.json == not_base64.json == unknown_receipt.json
    assert dbsession.get(Throttle, services.RECEIPT_THROTTLE).count == 4, "one budget for receipts and values"
    assert sessions(dbsession, REPORTER_E2E) == 0
    for body in ({"lookup_value": 5}, {"receipt": "x", "lookup_value": b64(lookup_value)}, {}):
        testapp.post_json("/api/v1/reporter/session", body, status=422)


def test_past_the_budget_lookup_values_take_the_slow_lane(testapp, dbsession, settings, v2_case, clock, monkeypatch):
    _, lookup_value, _ = v2_case
    for _ in range(settings.receipt_failures_per_minute):
        testapp.post_json("/api/v1/reporter/session", {"lookup_value": b64(bytes(32))}, status=401)
    assert services.over_budget(dbsession, settings, clock)
    monkeypatch.setattr(services, "LOOKUP_VALUE_TURN", timedelta(milliseconds=1))
    testapp.post_json("/api/v1/reporter/session", {"lookup_value": b64(lookup_value)}, status=200)
    monkeypatch.setattr(services, "SLOW_LANE_WAIT", timedelta(milliseconds=50))
    with services.SLOW_LANE:
        refused = testapp.post_json("/api/v1/reporter/session", {"lookup_value": b64(lookup_value)}, status=429)
    assert refused.headers["Retry-After"] == "60"


def test_a_version_2_receipt_opens_a_session_with_the_key_through_the_api(testapp, dbsession, v2_case):
    receipt, _, case = v2_case
    answer = testapp.post_json("/api/v1/reporter/session", {"receipt": receipt.lower().replace("-", " ")}).json
    assert answer["holds_key"] is True
    mailbox = testapp.get("/api/v1/reporter/case", headers=bearer(answer["token"])).json
    assert mailbox["case"] == case.ref and mailbox["text"] == "The fire door is chained."
    wrong = receipt[:-1] + ("0" if receipt[-1] != "0" else "1")
    testapp.post_json("/api/v1/reporter/session", {"receipt": wrong}, status=401)


def test_a_version_2_receipt_opens_the_case_without_javascript(testapp, dbsession, v2_case):
    receipt, _, _ = v2_case
    page = come_back(testapp, receipt)
    assert "The fire door is chained." in page.text
    assert sessions(dbsession, REPORTER) == 1


def test_a_lookup_value_is_base64_with_padding_only(testapp, v2_case):
    _, lookup_value, _ = v2_case
    urlsafe = base64.urlsafe_b64encode(lookup_value).decode().rstrip("=")
    testapp.post_json("/api/v1/reporter/session", {"lookup_value": urlsafe}, status=401)
