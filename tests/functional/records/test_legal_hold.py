"""Legal hold: a guardian places it with a reason (stored encrypted, as a team-key reason item; the
audit log says only that a hold was placed) and lifts it; a held case has no deletion day, and
lifting works it out again. As forms (server-assisted and on the device) and in the API."""
from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from tests.factories import device_login, holder_keys, html_login
from tests.functional.device.test_device_writes import _item, _read
from tests.functional.workspace.conftest import events
from whistle.cases.models import ITEM_REASON, Case, CaseItem
from whistle.words import EXPIRED_FORM

REASON = "The tribunal claim of March needs the whole file."


def _case(dbsession, ref) -> Case:
    case = dbsession.scalars(select(Case).where(Case.ref == ref)).one()
    dbsession.refresh(case)
    return case


def _closed(dbsession, ref, clock) -> Case:
    """The case closed a while ago, due for deletion in a year."""
    case = _case(dbsession, ref)
    case.status, case.acknowledged_on, case.closed_on = "closed", clock.today(), clock.today()
    case.delete_on = clock.today() + timedelta(days=case.channel.retention_days)
    dbsession.flush()
    return case


def _form(testapp, ref, form_id):
    return testapp.get(f"/staff/cases/{ref}").forms[form_id]


def test_a_guardian_places_a_hold_with_a_reason_and_lifts_it(testapp, dbsession, guardian, submitted, clock):
    ref = submitted["case"]
    case = _closed(dbsession, ref, clock)
    due = case.delete_on
    html_login(testapp, guardian, clock)
    form = _form(testapp, ref, "legal-hold-form")
    form["reason"] = REASON
    page = form.submit().follow()
    case = _case(dbsession, ref)
    assert (case.hold_since, case.delete_on) == (clock.today(), None)
    reason = dbsession.scalars(select(CaseItem).where(CaseItem.case_id == case.id, CaseItem.kind == ITEM_REASON)).one()
    assert REASON.encode() not in reason.ciphertext
    assert json.loads(_read(dbsession, ref, holder_keys(dbsession, case), "reason")) == {
        "about": "legal-hold", "text": REASON}
    held = events(dbsession, "case.legal_hold_placed")
    assert len(held) == 1 and held[0].detail == {} and held[0].case_id == case.id
    assert "On legal hold since" in page.html.find(id="keeping").text
    notes = page.html.find(id="notes").text
    assert "Reason for the legal hold" in notes and REASON in notes
    assert "placed the case on legal hold" in page.html.find(id="timeline").text

    page = _form(testapp, ref, "legal-hold-lift-form").submit().follow()
    case = _case(dbsession, ref)
    assert (case.hold_since, case.delete_on) == (None, due)
    assert events(dbsession, "case.legal_hold_lifted")[-1].detail == {"since": clock.today().isoformat()}
    assert REASON not in str([e.detail for e in events(dbsession)])
    assert "To be deleted on" in page.html.find(id="keeping").text


def test_a_hold_without_a_reason_is_refused_naming_the_field_and_changes_nothing(testapp, dbsession, guardian,
                                                                                  submitted, clock):
    ref = submitted["case"]
    html_login(testapp, guardian, clock)
    form = _form(testapp, ref, "legal-hold-form")
    form["reason"] = "   "
    page = form.submit(status=422)
    error = page.html.find(id="legal-hold-reason-error")
    assert error.text == "Why the case must be kept: write the reason (a sentence is enough)."
    assert _case(dbsession, ref).hold_since is None
    assert not events(dbsession, "case.legal_hold_placed")


def test_the_api_places_and_lifts_and_refuses_twice(testapp, dbsession, headers, submitted, clock):
    ref = submitted["case"]
    _closed(dbsession, ref, clock)
    body = testapp.post_json(f"/api/v1/cases/{ref}/legal-hold", {"reason": REASON}, headers=headers, status=201).json
    assert (body["on_hold_since"], body["delete_on"]) == (clock.today().isoformat(), None)
    again = testapp.post_json(f"/api/v1/cases/{ref}/legal-hold", {"reason": REASON}, headers=headers, status=409)
    assert again.content_type == "application/problem+json"
    problem = testapp.post_json(f"/api/v1/cases/{ref}/legal-hold", {"reasons": "x"}, headers=headers, status=422).json
    assert {e["field"] for e in problem["errors"]} == {"reasons"}
    testapp.delete(f"/api/v1/cases/{ref}/legal-hold", headers=headers, status=204)
    testapp.delete(f"/api/v1/cases/{ref}/legal-hold", headers=headers, status=409)
    assert _case(dbsession, ref).delete_on is not None
    missing = testapp.post_json(f"/api/v1/cases/{ref}/legal-hold", {}, headers=headers, status=422).json
    assert [e["field"] for e in missing["errors"]] == ["reason"]


def test_a_hold_on_an_open_case_keeps_it_past_closure(testapp, dbsession, headers, submitted):
    ref = submitted["case"]
    testapp.post_json(f"/api/v1/cases/{ref}/legal-hold", {"reason": REASON}, headers=headers, status=201)
    for to in ("acknowledged", "assessing"):
        testapp.post_json(f"/api/v1/cases/{ref}/transitions", {"to": to}, headers=headers)
    closed = testapp.post_json(f"/api/v1/cases/{ref}/transitions", {
        "to": "closed", "substantiated": "no", "changes": ["none"], "learned": "Nothing found."}, headers=headers).json
    assert closed["delete_on"] is None and closed["on_hold_since"] is not None


def test_on_the_device_the_reason_is_the_item_the_device_encrypted(testapp, dbsession, settings, clock, guardian,
                                                                  submitted):
    token = device_login(testapp, dbsession, settings, clock, guardian)
    ref = submitted["case"]
    keys = holder_keys(dbsession, _case(dbsession, ref))
    page = testapp.get(f"/staff/cases/{ref}")
    form = page.html.find(id="legal-hold-form")
    assert form["data-device-reason"] == "legal-hold"
    assert form.find("button")["disabled"] is not None, "held until case-forms.js takes the form over"
    csrf = page.html.find("meta", attrs={"name": "csrf-token"})["content"]
    refused = testapp.post(f"/staff/cases/{ref}/legal-hold", {"csrf_token": csrf, "reason": REASON}, status=422)
    assert "encrypts what you write" in refused.text and _case(dbsession, ref).hold_since is None
    reason = {"about": "legal-hold", "text": REASON}
    item = _item(dbsession, ref, keys, "reason", reason, guardian.account.id)
    testapp.post(f"/staff/cases/{ref}/legal-hold", {"csrf_token": csrf, "item": item}, status=302)
    assert json.loads(_read(dbsession, ref, keys, "reason")) == reason
    assert _case(dbsession, ref).hold_since == clock.today()
    # The section is metadata, the same on a device page (workspace.js fills only the content slots).
    page = testapp.get(f"/staff/cases/{ref}")
    assert "On legal hold since" in page.html.find(id="keeping").text
    assert page.html.find(id="legal-hold-lift-form") is not None
    row = testapp.get("/staff/cases").html.find("a", string=ref).find_parent("tr")
    assert "on legal hold since" in row.text
    testapp.delete(f"/api/v1/cases/{ref}/legal-hold", headers={"Authorization": f"Bearer {token}"}, status=204)
    assert _case(dbsession, ref).hold_since is None


def test_a_hold_form_posted_after_signing_in_again_comes_back_with_its_words(testapp, dbsession, guardian, submitted,
                                                                            clock):
    ref = submitted["case"]
    html_login(testapp, guardian, clock)
    form = _form(testapp, ref, "legal-hold-form")  # the first tab
    form["reason"] = REASON
    html_login(testapp, guardian, clock)  # the second tab: signed in again
    answer = form.submit(status=400)
    assert answer.forms["legal-hold-form"]["reason"].value == REASON
    assert EXPIRED_FORM in answer.text
    assert _case(dbsession, ref).hold_since is None and not events(dbsession, "case.legal_hold_placed")
