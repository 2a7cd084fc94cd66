"""The lifecycle: allowed moves change the case and its deadlines; forbidden ones are 409 and change nothing."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.factories import api_login, html_login
from tests.functional.workspace.conftest import events, last_event
from whistle.deadlines import add_months
from whistle.cases.lifecycle import ALLOWED, STATUSES
from whistle.cases.models import ITEM_OUTCOME, ITEM_REASON, Case, CaseItem

OUTCOME = {"substantiated": "partly", "changes": ["staffing", "training"], "learned": "Rotas need a second check."}


def move(testapp, headers, ref, to, status=200, **extra):
    return testapp.post_json(f"/api/v1/cases/{ref}/transitions", {"to": to, **extra}, headers=headers, status=status)


def test_every_status_is_in_the_table_and_closed_only_reopens_to_assessing():
    assert set(ALLOWED) == set(STATUSES)
    assert ALLOWED["closed"] == {"assessing"}
    assert "closed" not in ALLOWED["received"], "a case is acknowledged before it can close"


def test_acknowledging_sets_the_date_and_recomputes_feedback_due(testapp, dbsession, guardian, submitted, clock):
    ref = submitted["case"]
    case = dbsession.scalars(select(Case).where(Case.ref == ref)).one()
    assert case.feedback_due == add_months(case.opened_on + timedelta(days=7), 3)
    clock.advance(timedelta(days=2))
    headers = api_login(testapp, guardian, clock)
    body = move(testapp, headers, ref, "acknowledged").json
    today = clock.today()
    assert body["status"] == "acknowledged" and body["acknowledged"] == today.isoformat()
    assert body["feedback_due"] == add_months(today, 3).isoformat()
    assert body["next_deadline"]["kind"] == "feedback"
    assert (last_event(dbsession).action, last_event(dbsession).detail) == (
        "case.acknowledged", {"from": "received", "to": "acknowledged"})


def test_the_whole_path_to_closed_and_back(testapp, dbsession, headers, submitted, clock):
    ref = submitted["case"]
    for to in ("acknowledged", "assessing", "investigating", "feedback_given"):
        assert move(testapp, headers, ref, to).json["status"] == to
    case = dbsession.scalars(select(Case).where(Case.ref == ref)).one()
    assert case.feedback_given_on == clock.today()
    closed = move(testapp, headers, ref, "closed", **OUTCOME).json
    assert closed["status"] == "closed" and closed["closed"] == clock.today().isoformat()
    dbsession.refresh(case)
    assert (case.substantiated, case.changes) == ("partly", ["staffing", "training"])
    outcome = dbsession.scalars(select(CaseItem).where(CaseItem.case_id == case.id, CaseItem.kind == ITEM_OUTCOME)).one()
    assert b"Rotas" not in outcome.ciphertext, "the learning is encrypted"
    closing = last_event(dbsession)
    assert closing.action == "case.closed" and "Rotas" not in str(closing.detail)
    # Reopening needs a reason, which is stored encrypted and never in the audit log.
    assert move(testapp, headers, ref, "assessing", status=422).json["errors"][0]["field"] == "reason"
    reopened = move(testapp, headers, ref, "assessing", reason="New evidence from the night staff.").json
    assert reopened["status"] == "assessing" and reopened["closed"] is None
    assert last_event(dbsession).action == "case.reopened"
    assert "New evidence" not in str(last_event(dbsession).detail)
    reason = dbsession.scalars(select(CaseItem).where(CaseItem.case_id == case.id, CaseItem.kind == ITEM_REASON)).one()
    assert b"New evidence" not in reason.ciphertext
    shown = testapp.get(f"/api/v1/cases/{ref}", headers=headers).json
    assert [r["kind"] for r in shown["records"]] == ["outcome", "reason"]
    assert shown["records"][0]["learned"] == "Rotas need a second check."
    assert shown["records"][1]["text"] == "New evidence from the night staff."


def test_a_forbidden_move_is_409_and_changes_nothing(testapp, dbsession, headers, submitted):
    ref = submitted["case"]
    before = len(events(dbsession))
    response = move(testapp, headers, ref, "investigating", status=409)
    assert response.content_type == "application/problem+json"
    assert response.json["type"] == "/api/v1/problems/transition"
    assert "received" in response.json["detail"]
    case = dbsession.scalars(select(Case).where(Case.ref == ref)).one()
    dbsession.refresh(case)
    assert case.status == "received" and case.acknowledged_on is None
    assert len(events(dbsession)) == before


def test_closing_needs_the_whole_outcome(testapp, dbsession, headers, submitted):
    ref = submitted["case"]
    move(testapp, headers, ref, "acknowledged")
    response = move(testapp, headers, ref, "closed", substantiated="maybe", changes=[], status=422)
    assert {e["field"] for e in response.json["errors"]} == {"substantiated", "changes", "learned"}
    assert testapp.get(f"/api/v1/cases/{ref}", headers=headers).json["status"] == "acknowledged"


def test_unknown_status_and_members_are_named(testapp, headers, submitted):
    ref = submitted["case"]
    assert move(testapp, headers, ref, "done", status=422).json["errors"][0]["field"] == "to"
    response = testapp.post_json(f"/api/v1/cases/{ref}/transitions", {"to": "acknowledged", "why": "x"},
                                 headers=headers, status=422)
    assert response.json["errors"] == [{"field": "why", "message": "Unknown member."}]


def test_moves_through_the_html_page(testapp, dbsession, guardian, submitted, clock):
    ref = submitted["case"]
    html_login(testapp, guardian, clock)
    page = testapp.get(f"/staff/cases/{ref}")
    page = page.forms["move-acknowledged"].submit().follow()
    assert "Acknowledged" in page.text
    page = page.forms["move-assessing"].submit().follow()
    close = page.forms["move-closed"]
    close["learned"] = "Handover notes were missing."
    refused = close.submit(status=422)
    assert "Handover notes were missing." in refused.text, "what was typed is kept"
    assert "substantiated" in refused.text and "field-error" in refused.text
    close = refused.forms["move-closed"]
    close["substantiated"] = "yes"
    close["changes"] = ["process"]
    close["learned"] = "Handover notes were missing."
    page = close.submit().follow()
    assert "Closed" in page.text and "Handover notes were missing." in page.text


def test_a_forbidden_html_move_is_409_and_changes_nothing(testapp, dbsession, guardian, submitted, clock):
    ref = submitted["case"]
    html_login(testapp, guardian, clock)
    page = testapp.get(f"/staff/cases/{ref}")
    token = page.forms["reply-form"]["csrf_token"].value
    refused = testapp.post(f"/staff/cases/{ref}/transitions", {"to": "closed", "csrf_token": token}, status=409)
    assert "This case is received now, so it cannot be moved to closed" in refused.text
    case = dbsession.scalars(select(Case).where(Case.ref == ref)).one()
    dbsession.refresh(case)
    assert case.status == "received"
