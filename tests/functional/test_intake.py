"""Submitting a disclosure through the no-JavaScript form and the JSON API."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from tests.factories import api_login, make_live_channel, make_staff, submit_api
from whistle.cases.models import Case, CaseItem
from whistle.intake.e2e import max_body_bytes
from whistle.security.headers import SCRIPTS_CSP
from whistle.words import day_words

RECEIPT = re.compile(r"[0-9A-Z]{4}(-[0-9A-Z]{4}){4}")


def count(dbsession, model) -> int:
    return dbsession.scalar(select(func.count()).select_from(model))


@pytest.fixture
def channel(dbsession, settings, clock):
    return make_live_channel(dbsession, settings, clock, "staff", title="Raise a concern")


def open_form(testapp):
    home = testapp.get("/")
    return home.click("Raise a concern").forms[0]


def test_the_form_gives_a_receipt_and_stores_the_case(testapp, dbsession, channel):
    form = open_form(testapp)
    form["text"] = "Medicines are left unlocked on ward 7."
    form["answers.ongoing"] = "yes"
    form["answers.kind"] = "Safety"
    form["answers.who"] = ["Patients", "Staff"]
    page = form.submit(status=303).follow(status=200)

    receipt = RECEIPT.search(page.text)
    assert receipt, "the receipt page shows a receipt"
    assert "shown only this once" in page.text
    case = dbsession.scalars(select(Case)).one()
    assert case.ref in page.text
    assert receipt.group(0) not in case.ref
    assert {item.kind for item in case.items} == {"disclosure", "answers"}
    # The promise is the case's own deadline (its channel's profile), not a fixed "7 days".
    assert f"acknowledge your concern by {day_words(case.ack_due)}" in page.text


def test_the_form_page_loads_only_its_own_module_and_says_what_protects_a_report_without_it(testapp, channel):
    page = testapp.get("/report/staff")
    # One module script of the app's own, nothing inline; the policy allows exactly that and
    # libsodium's WebAssembly. Every test here posts the form with no script run at all.
    assert [(tag.get("type"), tag.get("src"), tag.string) for tag in page.html.find_all("script")] == [
        ("module", "/static/js/intake.js", None)]
    assert page.headers["Content-Security-Policy"] == SCRIPTS_CSP
    assert page.html.find(id="encryption-mode").get_text(strip=True).startswith("Encrypted by the service")
    assert page.html.find("form", id="disclosure-form")["data-channel"] == "staff"


def test_a_form_with_errors_keeps_what_was_typed_and_names_the_fields(testapp, dbsession, channel):
    form = open_form(testapp)
    form["text"] = "   "
    form["answers.where"] = "The children's home on Elm Street"
    form["answers.when"] = "last tuesday"
    page = form.submit(status=422)

    assert "The children&#39;s home on Elm Street" in page.text
    assert 'id="error-text"' in page.text
    assert 'id="error-answers.when"' in page.text
    assert 'id="error-answers.ongoing"' in page.text  # required, not given
    assert count(dbsession, Case) == 0

    # Fixed and sent again from the re-rendered form: now it goes through.
    form = page.forms[0]
    form["text"] = "I saw a child left alone overnight."
    form["answers.when"] = "2026-11-24"
    form["answers.ongoing"] = "no"
    assert RECEIPT.search(form.submit(status=303).follow().text)
    assert count(dbsession, Case) == 1


def test_an_expired_csrf_token_keeps_the_text(testapp, dbsession, channel):
    form = open_form(testapp)
    form["text"] = "My manager threatened me after I raised this."
    form["csrf_token"] = "stale"
    page = form.submit(status=400)
    assert "My manager threatened me after I raised this." in page.text
    assert "nothing was sent yet" in page.text
    assert count(dbsession, Case) == 0


def test_confidential_identity_reaches_the_guardian(testapp, dbsession, clock, settings, channel):
    guardian = make_staff(dbsession, settings, clock, channels=["staff"])
    form = open_form(testapp)
    form["text"] = "Cash is going missing."
    form["answers.ongoing"] = "yes"
    form["identity_mode"] = "confidential"
    form["identity.name"] = "Sam Example"
    form["identity.personnel_id"] = "E1234"
    form.submit(status=303)

    case = dbsession.scalars(select(Case)).one()
    body = testapp.get(f"/api/v1/cases/{case.ref}", headers=api_login(testapp, guardian, clock)).json
    assert body["identity"] == {"name": "Sam Example", "personnel_id": "E1234", "mode": "confidential"}
    assert body["answers"] == {"ongoing": "yes"}


def test_a_confidential_choice_without_a_name_is_an_error(testapp, dbsession, channel):
    form = open_form(testapp)
    form["text"] = "Something happened."
    form["answers.ongoing"] = "no"
    form["identity_mode"] = "confidential"
    page = form.submit(status=422)
    assert 'id="error-identity.name"' in page.text
    assert count(dbsession, Case) == 0


def test_an_unknown_channel_page_is_a_plain_404(testapp):
    page = testapp.get("/report/nope", status=404)
    assert "There is no such reporting channel" in page.text


# --- the JSON API ---------------------------------------------------------------------------


def test_api_lists_channels(testapp, channel):
    body = testapp.get("/api/v1/channels").json
    (listed,) = body["channels"]
    assert listed["slug"] == "staff"
    assert listed["identity_modes"] == ["anonymous", "confidential", "open"]
    assert {"name": "kind", "label": "What is it about?", "type": "single_choice", "required": False,
            "choices": ["Safety", "Bullying", "Fraud"], "routing": False} in listed["fields"]


def test_api_submission_answers_201_with_receipt_and_case(testapp, dbsession, channel):
    body = submit_api(testapp, text="Invoices are being faked.")
    assert RECEIPT.fullmatch(body["receipt"])
    assert dbsession.scalars(select(Case.ref)).one() == body["case"]


def test_case_references_are_random_not_sequential(testapp, channel):
    refs = [submit_api(testapp)["case"] for _ in range(3)]
    assert len(set(refs)) == 3
    assert all(re.fullmatch(r"[A-Z2-7]{5}-[A-Z2-7]{5}", ref) for ref in refs)
    assert refs != sorted(refs) or refs != sorted(refs, reverse=True)


def problem(response, status: int) -> dict:
    assert response.status_int == status
    assert response.content_type == "application/problem+json"
    body = response.json
    assert body["status"] == status and body["title"] and body["detail"] and body["type"]
    return body


@pytest.mark.parametrize(
    ("body", "status", "fields"),
    [
        ({"channel": "staff"}, 422, {"text", "answers.ongoing"}),
        ({"channel": "nope", "text": "x"}, 422, {"channel"}),
        ({"channel": "staff", "text": 7, "answers": {"ongoing": "yes"}}, 422, {"text"}),
        ({"channel": "staff", "text": "x", "answers": ["yes"]}, 422, {"answers"}),
        ({"channel": "staff", "text": "x", "answers": {"ongoing": "perhaps", "colour": "red"}}, 422,
         {"answers.ongoing", "answers.colour"}),
        ({"channel": "staff", "text": "x", "answers": {"ongoing": "yes"}, "identity": "me"}, 422, {"identity"}),
        ({"channel": "staff", "txt": "x"}, 422, {"txt", "text", "answers.ongoing"}),
    ],
)
def test_api_names_each_faulty_field_and_stores_nothing(testapp, dbsession, channel, body, status, fields):
    response = testapp.post_json("/api/v1/disclosures", body, expect_errors=True)
    assert {error["field"] for error in problem(response, status)["errors"]} == fields
    assert count(dbsession, Case) == count(dbsession, CaseItem) == 0


def test_api_rejects_malformed_json(testapp, dbsession, channel):
    response = testapp.post("/api/v1/disclosures", b'{"channel": "staff", "text": ',
                            content_type="application/json", expect_errors=True)
    problem(response, 400)
    assert count(dbsession, Case) == 0


def test_api_rejects_a_non_object_body(testapp, channel):
    problem(testapp.post_json("/api/v1/disclosures", ["x"], expect_errors=True), 400)


def test_api_rejects_other_content_types(testapp, channel):
    response = testapp.post("/api/v1/disclosures", {"channel": "staff", "text": "x"}, expect_errors=True)
    problem(response, 415)


def test_api_rejects_an_oversized_body(testapp, dbsession, settings, channel):
    # Past what even a case built on a client may carry.
    huge = "x" * (max_body_bytes(settings) + 10)
    response = testapp.post_json("/api/v1/disclosures", {"channel": "staff", "text": huge}, expect_errors=True)
    problem(response, 413)
    assert count(dbsession, Case) == 0


def test_api_rejects_a_text_over_the_limit_by_name(testapp, settings, channel):
    text = "y" * (settings.max_text_chars + 1)
    response = testapp.post_json("/api/v1/disclosures", {"channel": "staff", "text": text, "answers": {"ongoing": "no"}},
                                 expect_errors=True)
    assert [e["field"] for e in problem(response, 422)["errors"]] == ["text"]
