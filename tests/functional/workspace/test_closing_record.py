"""The closing record: contributory factors (validated, stored as metadata, shown, in the API) and
what changed in words beside what was learned (encrypted in the outcome item), in both modes."""
from __future__ import annotations

import json

from sqlalchemy import select

from tests.factories import b64, device_login, holder_keys, html_login
from tests.functional.workspace.conftest import events, last_event
from whistle import crypto
from whistle.cases.lifecycle import FACTOR_SLUGS
from whistle.cases.models import ITEM_OUTCOME, Case, CaseItem
from whistle.cases.services import sealed_author

OUTCOME = {"substantiated": "partly", "changes": ["staffing"], "factors": ["staffing_workload", "communication"],
           "learned": "Rotas need a second check.", "changed": "A second rota check every Friday."}


def _case(dbsession, ref) -> Case:
    case = dbsession.scalars(select(Case).where(Case.ref == ref)).one()
    dbsession.refresh(case)
    return case


def _outcome(dbsession, ref) -> dict:
    case = _case(dbsession, ref)
    item = dbsession.scalars(select(CaseItem).where(CaseItem.case_id == case.id, CaseItem.kind == ITEM_OUTCOME)
                             .order_by(CaseItem.id.desc())).first()
    keys = holder_keys(dbsession, case)
    return json.loads(crypto.decrypt_item(keys.team, item.ciphertext, case=ref, kind=ITEM_OUTCOME,
                                          author=sealed_author(item.author, item.account_id)))


def _to_assessing(testapp, headers, ref):
    for to in ("acknowledged", "assessing"):
        testapp.post_json(f"/api/v1/cases/{ref}/transitions", {"to": to}, headers=headers)


def test_factors_are_stored_shown_and_in_the_api_and_what_changed_is_encrypted(testapp, dbsession, headers,
                                                                               submitted):
    ref = submitted["case"]
    _to_assessing(testapp, headers, ref)
    testapp.post_json(f"/api/v1/cases/{ref}/transitions", {"to": "closed", **OUTCOME}, headers=headers)
    case = _case(dbsession, ref)
    assert case.factors == ["staffing_workload", "communication"]
    assert last_event(dbsession).detail["factors"] == ["staffing_workload", "communication"]
    stored = dbsession.scalars(select(CaseItem).where(CaseItem.case_id == case.id,
                                                      CaseItem.kind == ITEM_OUTCOME)).one()
    assert b"Friday" not in stored.ciphertext
    assert _outcome(dbsession, ref) == OUTCOME
    shown = testapp.get(f"/api/v1/cases/{ref}", headers=headers).json
    assert shown["factors"] == ["staffing_workload", "communication"]
    assert shown["records"][0]["changed"] == "A second rota check every Friday."
    # Reopening clears the closing record's metadata, factors included.
    testapp.post_json(f"/api/v1/cases/{ref}/transitions", {"to": "assessing", "reason": "New facts."},
                      headers=headers)
    assert _case(dbsession, ref).factors == []


def test_an_unknown_factor_is_refused_naming_factors_and_changes_nothing(testapp, dbsession, headers, submitted):
    ref = submitted["case"]
    _to_assessing(testapp, headers, ref)
    before = len(events(dbsession))
    for factors in (["weather"], "communication", [["communication"]]):
        answer = testapp.post_json(f"/api/v1/cases/{ref}/transitions", {"to": "closed", **OUTCOME, "factors": factors},
                                   headers=headers, status=422).json
        assert [e["field"] for e in answer["errors"]] == ["factors"]
    case = _case(dbsession, ref)
    assert (case.status, case.factors) == ("assessing", [])
    assert len(events(dbsession)) == before


def test_no_factor_is_fine(testapp, dbsession, headers, submitted):
    ref = submitted["case"]
    _to_assessing(testapp, headers, ref)
    outcome = {k: v for k, v in OUTCOME.items() if k not in ("factors", "changed")}
    testapp.post_json(f"/api/v1/cases/{ref}/transitions", {"to": "closed", **outcome}, headers=headers)
    assert _case(dbsession, ref).factors == []
    assert _outcome(dbsession, ref)["changed"] == ""


def test_the_close_form_takes_factors_and_what_changed_and_the_page_shows_them(testapp, dbsession, guardian, headers,
                                                                            submitted, clock):
    ref = submitted["case"]
    _to_assessing(testapp, headers, ref)
    html_login(testapp, guardian, clock)
    page = testapp.get(f"/staff/cases/{ref}")
    form = page.forms["move-closed"]
    assert len(page.html.select("#move-closed input[name=factors]")) == len(FACTOR_SLUGS)
    form["substantiated"] = "yes"
    form.get("changes", index=1).checked = True
    # A refused form keeps the ticks and the words, and names the field.
    form.get("factors", index=2).checked = True
    form["learned"] = "Handovers were rushed."
    form["changed"] = "Handover notes are written down."
    form.get("changes", index=1).checked = False
    refused = form.submit(status=422)
    assert refused.html.select_one("#close-factors-3").has_attr("checked")
    assert "Handover notes are written down." in refused.html.select_one("#close-changed").text
    form = refused.forms["move-closed"]
    form.get("changes", index=1).checked = True
    form.submit().follow()
    case = _case(dbsession, ref)
    assert case.factors == [FACTOR_SLUGS[2]]
    assert _outcome(dbsession, ref)["changed"] == "Handover notes are written down."
    page = testapp.get(f"/staff/cases/{ref}")
    status = page.html.select_one("#status").text
    assert "Contributory factors" in status and "Training and skills" in status
    record = page.html.select_one("article.record").text
    assert "Handover notes are written down." in record and "Training and skills" in record


def test_the_close_form_refuses_a_factor_it_does_not_offer(testapp, dbsession, guardian, headers, submitted, clock):
    ref = submitted["case"]
    _to_assessing(testapp, headers, ref)
    html_login(testapp, guardian, clock)
    page = testapp.get(f"/staff/cases/{ref}")
    csrf = page.html.find("input", attrs={"name": "csrf_token"})["value"]
    refused = testapp.post(f"/staff/cases/{ref}/transitions",
                           [("csrf_token", csrf), ("to", "closed"), ("substantiated", "yes"), ("changes", "none"),
                            ("factors", "weather"), ("learned", "Kept here.")], status=422)
    assert "Contributory factors: tick only factors from the list." in refused.html.select_one(".error-summary").text
    assert "Kept here." in refused.html.select_one("#close-learned").text
    assert _case(dbsession, ref).status == "assessing"


def test_device_mode_sends_factors_in_the_clear_and_what_changed_inside_the_item(testapp, dbsession, settings, clock,
                                                                                 guardian, submitted, headers):
    ref = submitted["case"]
    _to_assessing(testapp, headers, ref)
    token = device_login(testapp, dbsession, settings, clock, guardian)
    bearer = {"Authorization": f"Bearer {token}"}
    keys = holder_keys(dbsession, _case(dbsession, ref))
    plain = testapp.post_json(f"/api/v1/cases/{ref}/transitions",
                              {"to": "closed", "substantiated": "no", "changes": ["none"], "factors": ["other"],
                               "item": "AAAA", "changed": "plain words"}, headers=bearer, status=422).json
    assert "changed" in [e["field"] for e in plain["errors"]]
    record = {**OUTCOME, "substantiated": "no", "changes": ["none"], "factors": ["other"]}
    item = b64(crypto.encrypt_item(keys.team.public, json.dumps(record).encode(), case=ref, kind=ITEM_OUTCOME,
                                   author=f"guardian:{guardian.account.id}"))
    testapp.post_json(f"/api/v1/cases/{ref}/transitions",
                      {"to": "closed", "substantiated": "no", "changes": ["none"], "factors": ["other"],
                       "item": item}, headers=bearer)
    assert _case(dbsession, ref).factors == ["other"]
    assert _outcome(dbsession, ref) == record
    page = testapp.get(f"/staff/cases/{ref}")
    assert len(page.html.select("#move-assessing")) == 1
    words = json.loads(page.html.select_one("#case-words").text)
    assert words["factors"]["other"] == "Something else"
