"""Proof of work on the report form (docs/crypto.md 6.15): the challenge the API hands out, a proof
spent once, and a proven report let past the service-wide budget in a flood."""
from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.factories import make_live_channel
from whistle import crypto
from whistle.clock import ManualClock
from whistle.intake import work
from whistle.intake.models import SpentChallenge


def _solved(testapp) -> dict:
    answer = testapp.get("/api/v1/disclosures/challenge", status=200).json
    return {"challenge": answer["challenge"], "solution": crypto.solve(answer["challenge"], answer["bits"])}


def test_the_api_hands_out_challenges_of_the_configured_difficulty(testapp, settings):
    answer = testapp.get("/api/v1/disclosures/challenge", status=200).json
    assert answer["bits"] == settings.proof_of_work_bits
    assert answer["expires_in"] == int(settings.proof_of_work_lifetime.total_seconds())
    assert crypto.check_proof(answer["challenge"], crypto.solve(answer["challenge"], answer["bits"]),
                              crypto.work_key(settings.session_key), bits=answer["bits"],
                              now=int(answer["challenge"].split(".")[2]), lifetime=answer["expires_in"])


def test_a_proof_is_spent_once(testapp, dbsession, settings, clock):
    proof = _solved(testapp)
    assert work.spend_proof(dbsession, settings, clock, proof)
    assert not work.spend_proof(dbsession, settings, clock, proof)  # reused
    assert not work.spend_proof(dbsession, settings, clock, dict(proof))
    fresh = _solved(testapp)
    assert work.spend_proof(dbsession, settings, clock, fresh)
    assert dbsession.scalar(select(func.count()).select_from(SpentChallenge)) == 2


def test_wrong_expired_and_malformed_proofs_are_no_proof(testapp, dbsession, settings, clock):
    proof = _solved(testapp)
    wrong = {**proof, "solution": next(n for n in range(10**6) if not crypto.solves(proof["challenge"], n,
                                                                                     settings.proof_of_work_bits))}
    for garbage in (None, "x", [], {}, wrong, {"challenge": proof["challenge"]}, {**proof, "solution": "1"}):
        assert not work.spend_proof(dbsession, settings, clock, garbage)
    later = ManualClock(clock.now() + settings.proof_of_work_lifetime + timedelta(seconds=1))
    assert not work.spend_proof(dbsession, settings, later, proof)
    assert dbsession.scalar(select(func.count()).select_from(SpentChallenge)) == 0


def test_spent_challenges_are_forgotten_once_expired(testapp, dbsession, settings, clock):
    assert work.spend_proof(dbsession, settings, clock, _solved(testapp))
    row = dbsession.scalars(select(SpentChallenge)).one()
    # Kept to a midnight (a finer time would say when the form was opened), after the challenge expires.
    assert (row.expires_at.hour, row.expires_at.minute, row.expires_at.second) == (0, 0, 0)
    later = ManualClock(clock.now() + settings.proof_of_work_lifetime + timedelta(days=2))
    challenge = crypto.new_challenge(crypto.work_key(settings.session_key), bits=settings.proof_of_work_bits,
                                     issued=int(later.now().timestamp()))
    assert work.spend_proof(dbsession, settings, later,
                            {"challenge": challenge, "solution": crypto.solve(challenge, settings.proof_of_work_bits)})
    assert len(dbsession.scalars(select(SpentChallenge)).all()) == 1


def test_with_proof_of_work_off_there_is_no_challenge_and_no_proof(testapp, dbsession, settings, clock):
    proof = _solved(testapp)
    off = dataclasses.replace(settings, proof_of_work=False)
    assert work.new_challenge(off, clock) is None
    assert not work.spend_proof(dbsession, off, clock, proof)


@pytest.fixture
def proof_of_work_off(app, settings):
    app.registry.whistle_settings = dataclasses.replace(settings, proof_of_work=False)
    yield
    app.registry.whistle_settings = settings


def test_with_proof_of_work_off_the_api_says_so(testapp, proof_of_work_off):
    problem = testapp.get("/api/v1/disclosures/challenge", status=404).json
    assert problem["type"] == "/api/v1/problems/proof-of-work-off"


@pytest.fixture
def flooded(app, settings):
    """A service whose budget across the whole service is one report a minute, with room per client."""
    app.registry.whistle_settings = dataclasses.replace(settings, reports_per_minute=1, surge_reports_per_minute=1,
                                                        reports_per_client=50)
    yield
    app.registry.whistle_settings = settings


def _send(testapp, status: int, **extra):
    body = {"channel": "staff", "text": "Something is wrong on ward 7.", "answers": {"ongoing": "yes"}, **extra}
    return testapp.post_json("/api/v1/disclosures", body, status=status)


def test_a_proven_report_gets_past_the_spent_service_budget_once(testapp, dbsession, settings, clock, flooded):
    make_live_channel(dbsession, settings, clock, "staff", title="Raise a concern")
    _send(testapp, 201)
    refused = _send(testapp, 429)
    assert refused.headers["Retry-After"]
    proof = _solved(testapp)
    _send(testapp, 201, proof=proof)
    _send(testapp, 429, proof=proof)  # used already: no proof
    wrong = {**proof, "solution": proof["solution"] + 1}
    _send(testapp, 429, proof=wrong)
    _send(testapp, 429, proof="not a proof")  # never an error for the reporter: just no proof
    _send(testapp, 201, proof=_solved(testapp))
