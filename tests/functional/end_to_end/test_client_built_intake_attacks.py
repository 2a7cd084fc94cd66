"""POST /api/v1/disclosures "e2e/1" as an anonymous client on the network attacks it: bad input gets
a problem naming the field (never a 500), and whether a lookup value finds a case is learnt no
faster than the wrong-receipt budget allows."""
from __future__ import annotations

import copy

from sqlalchemy import func, select

from tests.factories import build_client_case, send_client_case
from whistle.cases.models import Case
from whistle.reporters import services
from whistle.throttles import Throttle


def test_an_item_kind_that_is_not_text_is_a_problem_naming_it_not_a_500(testapp, dbsession, settings, clock, team):
    """whistle/intake/e2e.py _items: Counter(item.get("kind") ...) hashes the kind after the
    per-item check has only reported it, so a list or object kind raises TypeError."""
    built = build_client_case(testapp, settings, clock)
    body = copy.deepcopy(built.body)
    body["items"].append({"kind": ["disclosure"], "ciphertext": body["items"][0]["ciphertext"]})
    refused = testapp.post_json("/api/v1/disclosures", body, expect_errors=True)
    assert refused.status_int == 422, refused.status
    assert "items.1.kind" in [error["field"] for error in refused.json["errors"]]


def test_a_taken_receipt_answer_is_counted_in_the_wrong_receipt_budget(testapp, dbsession, settings, clock, team):
    """The contract (e2e-api.md, Sessions): whether a lookup value finds a case is answered only
    within the one global budget. POST /api/v1/disclosures answers "receipt-taken" for any lookup
    value that finds a case, uncounted and past the budget too (whistle/intake/e2e.py
    submit_client_built, ReceiptTaken): an oracle outside the budget."""
    first = build_client_case(testapp, settings, clock)
    send_client_case(testapp, first)
    probe = build_client_case(testapp, settings, clock, receipt=first.receipt)
    dbsession.merge(Throttle(key=services.RECEIPT_THROTTLE, window_start=clock.now(),
                             count=settings.receipt_failures_per_minute))
    dbsession.flush()
    cases = dbsession.scalar(select(func.count()).select_from(Case))
    answer = testapp.post_json("/api/v1/disclosures", probe.body, expect_errors=True)
    assert dbsession.scalar(select(func.count()).select_from(Case)) == cases
    assert answer.json.get("type") != "/api/v1/problems/receipt-taken" or \
        dbsession.get(Throttle, services.RECEIPT_THROTTLE).count > settings.receipt_failures_per_minute, (
        "past the budget, a lookup value that finds a case was told apart from one that does not, uncounted")
