"""Reading a case in device mode (docs/crypto.md 7.4): the case page and its envelopes carry no
plaintext, the server never decrypts for a session without a key (409 device-mode, never a 500),
a device's first-visit binding is checked against the server's, and a team key the device made
replaces the reporter's client's only when every part of it has the right shape."""
from __future__ import annotations

import base64
import json

import pytest
from sqlalchemy import select

from tests.factories import (
    PASSWORD,
    build_client_case,
    device_login,
    html_login,
    make_channel,
    make_staff,
    send_client_case,
    sign_directory,
)
from whistle import crypto
from whistle.accounts.services import private_key_with_password
from whistle.audit.models import AuditEvent
from whistle.cases.models import TEAM_KEY_ITEMS, Case, CaseGrant, CaseItem
from whistle.key_directory.services import current_directory

MARKER = "ZEBRA-7731 the deputy head hides the accident log"
IDENTITY_MARKER = "Quentin Marlowe-Xylo"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@pytest.fixture
def guardian(dbsession, settings, clock):
    make_channel(dbsession, "staff", title="Raise a concern",
                 identity_modes=["anonymous", "confidential", "open"])
    staff = make_staff(dbsession, settings, clock, "first", channels=["staff"])
    sign_directory(dbsession, settings, clock)
    return staff


def guardian_keypair(staff) -> crypto.KeyPair:
    return crypto.KeyPair.from_private(private_key_with_password(staff.account, PASSWORD))


def client_case(testapp, settings, clock, **extra):
    built = build_client_case(testapp, settings, clock, text=MARKER, answers={"ongoing": MARKER},
                              identity={"name": IDENTITY_MARKER}, identity_mode="confidential", **extra)
    send_client_case(testapp, built)
    return built


def case_of(dbsession, ref: str) -> Case:
    dbsession.flush()  # the app shares this session: what a request changed, read from the database
    dbsession.expire_all()
    return dbsession.scalars(select(Case).where(Case.ref == ref)).one()


def grant_of(dbsession, case: Case, account_id: int) -> CaseGrant:
    return dbsession.scalars(select(CaseGrant).where(CaseGrant.case_id == case.id,
                                                     CaseGrant.account_id == account_id)).one()


def events(dbsession, case: Case, action: str) -> list[AuditEvent]:
    return list(dbsession.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id,
                                                           AuditEvent.action == action)))


def csrf(page) -> dict:
    return {"X-CSRF-Token": page.html.find("meta", attrs={"name": "csrf-token"})["content"], "Accept": "application/json"}


# --- the page and its envelopes ---

def test_the_device_page_carries_envelopes_and_no_plaintext(testapp, dbsession, settings, clock, guardian):
    built = client_case(testapp, settings, clock)
    device_login(testapp, dbsession, settings, clock, guardian)
    page = testapp.get(f"/staff/cases/{built.ref}")
    assert MARKER not in page.text and IDENTITY_MARKER not in page.text
    envelopes = json.loads(page.html.find("script", id="case-envelopes").string)
    assert MARKER not in json.dumps(envelopes)
    assert envelopes["case"] == built.ref and envelopes["account_id"] == guardian.account.id
    assert envelopes["team_key_to_replace"] is True and envelopes["directory"]["version"] == built.directory.version
    kinds = sorted(item["kind"] for item in envelopes["items"])
    assert kinds == ["answers", "disclosure", "identity"]
    assert all(item["author"] == "reporter" for item in envelopes["items"])
    # What the page embeds opens with the guardian's key, as the device opens it.
    keypair = guardian_keypair(guardian)
    case_private = crypto.unseal(keypair, base64.b64decode(envelopes["grant"]["sealed_case_key"]))
    disclosure = next(item for item in envelopes["items"] if item["kind"] == "disclosure")
    assert crypto.decrypt_item(crypto.KeyPair.from_private(case_private), base64.b64decode(disclosure["ciphertext"]),
                               case=built.ref, kind="disclosure", author="reporter") == MARKER.encode()
    # The content sections say why they are empty without JavaScript, and the script comes with the page.
    assert "needs JavaScript" in page.html.find(attrs={"data-case-content": "disclosure"}).text
    assert page.html.find("script", src=lambda src: src and src.endswith("/workspace.js"))
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    case = case_of(dbsession, built.ref)
    assert events(dbsession, case, "case.viewed")
    # Nothing was unlocked on the server: no binding written, the team key not replaced.
    assert grant_of(dbsession, case, guardian.account.id).case_key_binding is None
    assert not case.team_key_replaced


def test_the_envelopes_routes_answer_the_same(testapp, dbsession, settings, clock, guardian):
    built = client_case(testapp, settings, clock)
    device_login(testapp, dbsession, settings, clock, guardian)
    page = testapp.get(f"/staff/cases/{built.ref}")
    embedded = json.loads(page.html.find("script", id="case-envelopes").string)
    fetched = testapp.get(f"/staff/cases/{built.ref}/envelopes").json
    assert fetched == embedded
    assert testapp.get("/staff/held-cases").json == {"cases": [built.ref]}


def test_the_api_envelopes_need_a_bearer_who_holds_the_case(testapp, dbsession, settings, clock, guardian):
    from tests.factories import api_login

    built = client_case(testapp, settings, clock)
    testapp.get(f"/api/v1/cases/{built.ref}/envelopes", status=401)  # nobody signed in
    other = make_staff(dbsession, settings, clock, "other")
    testapp.get(f"/api/v1/cases/{built.ref}/envelopes", headers=api_login(testapp, other, clock), status=404)
    answer = testapp.get(f"/api/v1/cases/{built.ref}/envelopes", headers=api_login(testapp, guardian, clock)).json
    assert answer["case"] == built.ref and MARKER not in json.dumps(answer)


def test_the_server_assisted_page_is_unchanged(testapp, dbsession, settings, clock, guardian):
    built = client_case(testapp, settings, clock)
    html_login(testapp, guardian, clock)
    page = testapp.get(f"/staff/cases/{built.ref}")
    assert MARKER in page.html.find(class_="disclosure").text
    assert IDENTITY_MARKER in page.text
    assert page.html.find("script", id="case-envelopes") is None
    assert page.html.find(attrs={"data-case-content": True}) is None


# --- the server never decrypts for a session without a key ---

def test_no_guardian_route_answers_a_keyless_session_with_a_500(testapp, dbsession, settings, clock, guardian):
    built = client_case(testapp, settings, clock)
    device_login(testapp, dbsession, settings, clock, guardian)
    page = testapp.get(f"/staff/cases/{built.ref}")
    token = page.html.find("meta", attrs={"name": "csrf-token"})["content"]
    ref = built.ref
    case = case_of(dbsession, ref)
    attachment_id = 1
    gets = [f"/staff/cases/{ref}", f"/staff/cases/{ref}/envelopes", f"/staff/cases/{ref}/attachments/{attachment_id}",
            f"/staff/cases/{ref}/attachments/{attachment_id}/blob", "/staff/cases", "/staff/held-cases"]
    for path in gets:
        assert testapp.get(path, expect_errors=True).status_int < 500, path
    forms = {"messages": {"text": "hello"}, "notes": {"text": "a note"}, "transitions": {"to": "acknowledged"},
             "triage": {"priority": "high"}, "grants": {"guardian": "nobody"}, "transfer": {"guardian": "nobody"},
             "conflict": {"reason": ""}, "attachments": {}}
    for action, fields in forms.items():
        answer = testapp.post(f"/staff/cases/{ref}/{action}", {**fields, "csrf_token": token}, expect_errors=True)
        assert answer.status_int < 500, (action, answer.status_int)
    answer = testapp.get(f"/staff/cases/{ref}/attachments/1", expect_errors=True)
    assert answer.status_int in (404, 409)
    assert case_of(dbsession, ref).status == case.status


def test_a_keyless_bearer_gets_the_device_mode_problem(testapp, dbsession, settings, clock, guardian):
    """An API call that would decrypt on the server, from a session without a key (as the
    sign-in with auth_key opens): 409 /api/v1/problems/device-mode, naming what to do."""
    from whistle.sessions.services import open_staff_device_session

    built = client_case(testapp, settings, clock)
    token = open_staff_device_session(dbsession, settings, clock, account_id=guardian.account.id)
    answer = testapp.get(f"/api/v1/cases/{built.ref}", headers={"Authorization": f"Bearer {token}"}, status=409)
    assert answer.json["type"] == "/api/v1/problems/device-mode"
    testapp.get(f"/api/v1/cases/{built.ref}/envelopes", headers={"Authorization": f"Bearer {token}"}, status=200)


# --- the first visit's binding ---

def test_the_binding_is_stored_when_the_case_key_checks(testapp, dbsession, settings, clock, guardian):
    built = client_case(testapp, settings, clock)
    device_login(testapp, dbsession, settings, clock, guardian)
    page = testapp.get(f"/staff/cases/{built.ref}")
    made = crypto.case_key_binding(guardian_keypair(guardian).private, built.ref, built.case_keys.public)
    body = {"case_public_key": b64(built.case_keys.public), "case_key_binding": b64(made)}
    testapp.post_json(f"/staff/cases/{built.ref}/binding", body, headers=csrf(page))
    case = case_of(dbsession, built.ref)
    assert grant_of(dbsession, case, guardian.account.id).case_key_binding == made
    # The same again changes nothing; another binding is refused.
    testapp.post_json(f"/staff/cases/{built.ref}/binding", body, headers=csrf(page))
    other = {**body, "case_key_binding": b64(crypto.random_bytes(32))}
    answer = testapp.post_json(f"/staff/cases/{built.ref}/binding", other, headers=csrf(page), status=409)
    assert answer.json["type"] == "/api/v1/problems/already-bound"
    assert grant_of(dbsession, case_of(dbsession, built.ref), guardian.account.id).case_key_binding == made


def test_a_binding_to_another_case_key_is_refused(testapp, dbsession, settings, clock, guardian):
    built = client_case(testapp, settings, clock)
    device_login(testapp, dbsession, settings, clock, guardian)
    page = testapp.get(f"/staff/cases/{built.ref}")
    swapped = crypto.KeyPair.generate()  # a case key someone sealed to the guardian in place of the real one
    body = {"case_public_key": b64(swapped.public),
            "case_key_binding": b64(crypto.case_key_binding(guardian_keypair(guardian).private, built.ref, swapped.public))}
    answer = testapp.post_json(f"/staff/cases/{built.ref}/binding", body, headers=csrf(page), status=409)
    assert answer.json["type"] == "/api/v1/problems/key-mismatch"
    case = case_of(dbsession, built.ref)
    assert grant_of(dbsession, case, guardian.account.id).case_key_binding is None
    assert events(dbsession, case, "case.key_mismatch")


def test_the_binding_names_fields_and_needs_the_csrf_token(testapp, dbsession, settings, clock, guardian):
    built = client_case(testapp, settings, clock)
    device_login(testapp, dbsession, settings, clock, guardian)
    page = testapp.get(f"/staff/cases/{built.ref}")
    answer = testapp.post_json(f"/staff/cases/{built.ref}/binding", {"case_public_key": "nope", "extra": 1},
                               headers=csrf(page), status=422)
    fields = {error["field"] for error in answer.json["errors"]}
    assert fields == {"case_public_key", "case_key_binding", "extra"}
    body = {"case_public_key": b64(built.case_keys.public), "case_key_binding": b64(crypto.random_bytes(32))}
    testapp.post_json(f"/staff/cases/{built.ref}/binding", body, status=400)


# --- the team key replaced on the device ---

def new_team_key(dbsession, clock, built, guardian, envelopes, *, tamper=None) -> tuple[dict, crypto.KeyPair]:
    """What a guardian's device sends to replace the team key: as workspace.js builds it."""
    keypair = guardian_keypair(guardian)
    grant = envelopes["grant"]
    case_keys = crypto.KeyPair.from_private(crypto.unseal(keypair, base64.b64decode(grant["sealed_case_key"])))
    old = crypto.KeyPair.from_private(crypto.unseal(keypair, base64.b64decode(grant["sealed_team_key"])))
    new = crypto.KeyPair.generate()
    directory = crypto.open_directory(envelopes["directory"], base64.b64decode(envelopes["directory"]["public_key"]),
                                      now=clock.now())
    case = case_of(dbsession, built.ref)
    grants = []
    for row in case.grants:
        if row.sealed_team_key is None:
            continue
        key = directory.escrow_key if row.holder == "escrow" else directory.key_of(row.account_id)
        grants.append({"id": row.id, "sealed_team_key": b64(crypto.seal(key, new.private)) if key else None})
    items = []
    for item in case.items:
        if item.kind not in TEAM_KEY_ITEMS:
            continue
        author = item.author if item.account_id is None else f"{item.author}:{item.account_id}"
        plaintext = crypto.decrypt_item(old, item.ciphertext, case=built.ref, kind=item.kind, author=author)
        items.append({"id": item.id, "ciphertext": b64(crypto.encrypt_item(new.public, plaintext, case=built.ref,
                                                                           kind=item.kind, author=author))})
    body = {"directory_version": directory.version, "team_public_key": b64(new.public),
            "team_key_mac": b64(crypto.team_key_mac(case_keys.private, new.public)), "grants": grants, "items": items}
    if tamper:
        tamper(body)
    return body, new


def test_the_device_replaces_the_team_key(testapp, dbsession, settings, clock, guardian):
    built = client_case(testapp, settings, clock)
    device_login(testapp, dbsession, settings, clock, guardian)
    page = testapp.get(f"/staff/cases/{built.ref}")
    envelopes = testapp.get(f"/staff/cases/{built.ref}/envelopes").json
    body, new = new_team_key(dbsession, clock, built, guardian, envelopes)
    testapp.post_json(f"/staff/cases/{built.ref}/team-key", body, headers=csrf(page))
    case = case_of(dbsession, built.ref)
    assert case.team_key_replaced and case.team_public_key == new.public
    identity = next(item for item in case.items if item.kind == "identity")
    assert IDENTITY_MARKER.encode() in crypto.decrypt_item(new, identity.ciphertext, case=built.ref, kind="identity",
                                                           author="reporter")
    grant = grant_of(dbsession, case, guardian.account.id)
    assert crypto.unseal(guardian_keypair(guardian), grant.sealed_team_key) == new.private
    assert len(events(dbsession, case, "case.team_key_replaced")) == 1
    assert testapp.get(f"/staff/cases/{built.ref}/envelopes").json["team_key_to_replace"] is False
    # Once only: a second replacement is refused.
    again, _ = new_team_key(dbsession, clock, built, guardian, {**envelopes, "grant": testapp.get(
        f"/staff/cases/{built.ref}/envelopes").json["grant"]})
    answer = testapp.post_json(f"/staff/cases/{built.ref}/team-key", again, headers=csrf(page), status=409)
    assert answer.json["type"] == "/api/v1/problems/team-key-not-due"


def _drop_grant(body):
    body["grants"].pop()


def _short_item(body):
    body["items"][0]["ciphertext"] = b64(base64.b64decode(body["items"][0]["ciphertext"])[:-256])


def _bad_seal(body):
    body["grants"][0]["sealed_team_key"] = b64(b"\x01\x01" + bytes(40))


def _withheld_wrongly(body):
    body["grants"][0]["sealed_team_key"] = None


def _old_directory(body):
    body["directory_version"] -= 1


@pytest.mark.parametrize(("tamper", "status", "named"), [
    (_drop_grant, 422, "grants"),
    (_short_item, 422, "items[0].ciphertext"),
    (_bad_seal, 422, "grants[0].sealed_team_key"),
    (_withheld_wrongly, 422, "grants[0].sealed_team_key"),
    (_old_directory, 409, None),
    (lambda body: body.update(items=[]), 422, "items"),
    (lambda body: body.update(team_public_key="short"), 422, "team_public_key"),
])
def test_a_team_key_with_a_wrong_part_is_refused_and_changes_nothing(testapp, dbsession, settings, clock, guardian,
                                                                      tamper, status, named):
    built = client_case(testapp, settings, clock)
    device_login(testapp, dbsession, settings, clock, guardian)
    page = testapp.get(f"/staff/cases/{built.ref}")
    envelopes = testapp.get(f"/staff/cases/{built.ref}/envelopes").json
    before = case_of(dbsession, built.ref)
    stored = (before.team_public_key, [(i.id, i.ciphertext) for i in before.items],
              [(g.id, g.sealed_team_key) for g in before.grants])
    body, _ = new_team_key(dbsession, clock, built, guardian, envelopes, tamper=tamper)
    answer = testapp.post_json(f"/staff/cases/{built.ref}/team-key", body, headers=csrf(page), status=status)
    if named:
        assert named in {error["field"] for error in answer.json["errors"]}
    after = case_of(dbsession, built.ref)
    assert not after.team_key_replaced
    assert (after.team_public_key, [(i.id, i.ciphertext) for i in after.items],
            [(g.id, g.sealed_team_key) for g in after.grants]) == stored
    assert not events(dbsession, after, "case.team_key_replaced")


def test_a_case_the_server_built_has_no_team_key_to_replace(testapp, dbsession, settings, clock, guardian):
    from tests.factories import submit_api

    ref = submit_api(testapp, text=MARKER)["case"]
    device_login(testapp, dbsession, settings, clock, guardian)
    page = testapp.get(f"/staff/cases/{ref}")
    envelopes = json.loads(page.html.find("script", id="case-envelopes").string)
    assert envelopes["team_key_to_replace"] is False
    # The signed directory is still there: a grant made on the device seals to the keys it lists.
    assert envelopes["directory"]["version"] == current_directory(dbsession, settings, clock).version
    assert MARKER not in page.text
    assert dbsession.scalars(select(CaseItem).where(CaseItem.kind == "disclosure")).first() is not None
