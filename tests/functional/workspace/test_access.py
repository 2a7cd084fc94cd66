"""Who may read and act on a case: granted guardians only; grants, transfers and stepping aside."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.factories import api_login, html_login, make_staff
from tests.functional.workspace.conftest import last_event
from whistle.cases.models import Case, CaseGrant

ACTIONS = [("messages", {"text": "x"}), ("notes", {"text": "x"}), ("transitions", {"to": "acknowledged"}),
           ("triage", {"priority": "high"}), ("grants", {"guardian": "colleague"}),
           ("transfer", {"guardian": "colleague"}), ("conflict", {})]


@pytest.mark.parametrize(("action", "body"), ACTIONS)
def test_someone_not_granted_gets_404_for_every_action(testapp, dbsession, colleague, admin, submitted, clock, action, body):
    ref = submitted["case"]
    for outsider in (colleague, admin):
        headers = api_login(testapp, outsider, clock)
        hidden = testapp.post_json(f"/api/v1/cases/{ref}/{action}", body, headers=headers, status=404)
        missing = testapp.post_json(f"/api/v1/cases/AAAAA-AAAAA/{action}", body, headers=headers, status=404)
        assert hidden.json == missing.json
    case = dbsession.scalars(select(Case).where(Case.ref == ref)).one()
    dbsession.refresh(case)
    assert case.status == "received" and case.priority == "normal"


def test_an_admin_gets_404_on_case_pages(testapp, admin, submitted, clock):
    ref = submitted["case"]
    home = html_login(testapp, admin, clock)
    assert home.request.path == "/admin", "an admin who is not a guardian lands in the admin area"
    assert testapp.get(f"/staff/cases/{ref}", status=404)
    assert testapp.get("/staff/cases", status=403)


def test_an_admin_with_a_grant_but_no_guardian_role_reads_nothing(testapp, dbsession, guardian, headers, submitted, clock):
    ref = submitted["case"]
    guardian.account.is_guardian, guardian.account.is_admin = False, True
    dbsession.flush()
    assert testapp.get(f"/api/v1/cases/{ref}", headers=headers, status=404)


def test_a_grant_survives_the_granter_logging_out(testapp, dbsession, guardian, colleague, headers, submitted, clock):
    ref = submitted["case"]
    assert testapp.post_json(f"/api/v1/cases/{ref}/grants", {"guardian": "colleague"}, headers=headers,
                             status=201).json == {"guardian": "colleague"}
    event = last_event(dbsession)
    assert (event.action, event.detail) == ("case.granted", {"account_id": colleague.account.id})
    testapp.delete("/api/v1/staff/session", headers=headers, status=204)
    theirs = api_login(testapp, colleague, clock)
    body = testapp.get(f"/api/v1/cases/{ref}", headers=theirs).json
    assert body["text"] == "The night shift is left with one nurse for 40 beds."
    assert [row["case"] for row in testapp.get("/api/v1/cases", headers=theirs).json["cases"]] == [ref]


def test_granting_twice_or_to_a_disabled_or_admin_only_account_is_refused(testapp, dbsession, settings, clock,
                                                                          guardian, admin, headers, submitted):
    ref = submitted["case"]
    gone = make_staff(dbsession, settings, clock, "gone")
    gone.account.disabled = True
    dbsession.flush()
    for username in ("guardian", "gone", "admin", "nobody"):
        response = testapp.post_json(f"/api/v1/cases/{ref}/grants", {"guardian": username}, headers=headers, status=422)
        assert response.json["errors"][0]["field"] == "guardian"


def test_grant_through_the_page(testapp, dbsession, guardian, colleague, submitted, clock):
    ref = submitted["case"]
    html_login(testapp, guardian, clock)
    form = testapp.get(f"/staff/cases/{ref}").forms["grant-form"]
    form["guardian"] = "colleague"
    page = form.submit().follow()
    assert "grant-form" not in page.forms, "nobody left to grant to"
    assert "Guardians holding it: colleague, guardian." in page.text
    case = dbsession.scalars(select(Case).where(Case.ref == ref)).one()
    holders = set(dbsession.scalars(select(CaseGrant.account_id).where(CaseGrant.case_id == case.id,
                                                                        CaseGrant.account_id.is_not(None))))
    assert holders == {guardian.account.id, colleague.account.id}


def test_transfer_hands_over_and_removes_my_access(testapp, dbsession, guardian, colleague, headers, submitted, clock):
    ref = submitted["case"]
    body = testapp.post_json(f"/api/v1/cases/{ref}/transfer", {"guardian": "colleague", "reason": "I am on leave."},
                             headers=headers).json
    assert body == {"transferred_to": "colleague"}
    event = last_event(dbsession)
    assert (event.action, event.detail) == ("case.transferred", {"to_account_id": colleague.account.id})
    assert testapp.get(f"/api/v1/cases/{ref}", headers=headers, status=404)
    theirs = api_login(testapp, colleague, clock)
    records = testapp.get(f"/api/v1/cases/{ref}", headers=theirs).json["records"]
    assert [(r["about"], r["text"]) for r in records] == [("transfer", "I am on leave.")]


def test_conflict_of_interest_needs_another_guardian_first(testapp, dbsession, guardian, colleague, headers, submitted, clock):
    ref = submitted["case"]
    refused = testapp.post_json(f"/api/v1/cases/{ref}/conflict", {"reason": "My sister works there."},
                                headers=headers, status=409)
    assert refused.json["type"] == "/api/v1/problems/conflict-of-interest"
    assert testapp.get(f"/api/v1/cases/{ref}", headers=headers).json["records"] == [], "nothing was kept"
    testapp.post_json(f"/api/v1/cases/{ref}/grants", {"guardian": "colleague"}, headers=headers, status=201)
    testapp.post_json(f"/api/v1/cases/{ref}/conflict", {"reason": "My sister works there."}, headers=headers, status=204)
    event = last_event(dbsession)
    assert event.action == "case.conflict_declared" and "sister" not in str(event.detail)
    assert testapp.get(f"/api/v1/cases/{ref}", headers=headers, status=404)
    assert testapp.get("/api/v1/cases", headers=headers).json["cases"] == []
    theirs = api_login(testapp, colleague, clock)
    assert testapp.get(f"/api/v1/cases/{ref}", headers=theirs).json["records"][0]["about"] == "conflict-of-interest"


def test_conflict_and_transfer_through_the_page(testapp, dbsession, settings, guardian, colleague, submitted, clock):
    ref = submitted["case"]
    html_login(testapp, guardian, clock)
    page = testapp.get(f"/staff/cases/{ref}")
    form = page.forms["conflict-form"]
    form["reason"] = "My sister works there."
    refused = form.submit(status=409)
    assert "Grant the case to another guardian first" in refused.text
    assert "My sister works there." in refused.text, "the reason typed is kept"
    form = refused.forms["transfer-form"]
    form["guardian"] = "colleague"
    inbox = form.submit().follow()
    assert inbox.request.path == "/staff/cases" and ref not in inbox.text
    assert testapp.get(f"/staff/cases/{ref}", status=404)


def test_someone_not_granted_gets_404_on_the_pages_too(testapp, dbsession, colleague, submitted, clock):
    ref = submitted["case"]
    inbox = html_login(testapp, colleague, clock)
    assert ref not in inbox.text
    token = testapp.get("/staff/sessions").forms[1]["csrf_token"].value
    assert testapp.get(f"/staff/cases/{ref}", status=404).text == testapp.get("/staff/cases/AAAAA-AAAAA", status=404).text
    for action, fields in ACTIONS:
        testapp.post(f"/staff/cases/{ref}/{action}", dict(fields, csrf_token=token), status=404)
    case = dbsession.scalars(select(Case).where(Case.ref == ref)).one()
    dbsession.refresh(case)
    assert case.status == "received" and len(case.grants) == 2  # the reporter's and the guardian's


@pytest.mark.parametrize(("action", "body"), ACTIONS)
def test_nobody_signed_in_gets_401_for_every_reference(testapp, submitted, action, body):
    """Refused as not signed in before any case is looked up: the same answer for a case that exists
    and one that does not, so it tells no reference apart."""
    existing = testapp.post_json(f"/api/v1/cases/{submitted['case']}/{action}", body, status=401)
    missing = testapp.post_json(f"/api/v1/cases/AAAAA-AAAAA/{action}", body, status=401)
    assert existing.json == missing.json
    assert existing.headers["WWW-Authenticate"] == "Bearer"


def test_nobody_signed_in_is_sent_to_sign_in_from_any_case_page(testapp, submitted):
    for ref in (submitted["case"], "AAAAA-AAAAA"):
        assert testapp.get(f"/staff/cases/{ref}", status=302).location.endswith("/staff/login")
