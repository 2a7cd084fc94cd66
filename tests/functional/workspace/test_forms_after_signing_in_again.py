"""A staff form posted after signing in again in another tab comes back with what was typed.

CSRF tokens are tied to the login session: signing in again (the inbox asked to, or a bookmark
opened the workspace) gives the browser a new session, so every form rendered before carries a
token that no longer matches. Such a post does nothing, and, rather than an error page whose
"reload" would bring an empty form (the pages are no-store), the form comes back filled in as it
was sent, with a plain "this page had expired" and status 400.
"""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.factories import fresh_code, html_login, make_live_channel, make_staff, submit_api
from whistle.accounts.services import account_named
from whistle.cases.models import Case, CaseItem
from whistle.words import EXPIRED_FORM

NOTE = "Spoke to the night manager: she confirms the rota was changed on the 3rd, and will put it in writing."
EXPIRED = "This page had expired"


def _items(dbsession) -> int:
    return dbsession.scalar(select(func.count()).select_from(CaseItem))


@pytest.fixture
def open_case(testapp, dbsession, settings, clock):
    make_live_channel(dbsession, settings, clock)
    guardian = make_staff(dbsession, settings, clock, "tabs.guardian", channels=["staff"])
    make_staff(dbsession, settings, clock, "tabs.colleague")
    case = submit_api(testapp)["case"]
    html_login(testapp, guardian, clock)
    return guardian, case


def test_a_note_refused_for_an_old_token_comes_back_with_its_words(testapp, dbsession, clock, open_case):
    guardian, case = open_case
    form = testapp.get(f"/staff/cases/{case}").forms["note-form"]  # the first tab
    form["text"] = NOTE
    before = _items(dbsession)

    html_login(testapp, guardian, clock)  # the second tab: signed in again
    answer = form.submit(status=400)

    assert NOTE in answer.forms["note-form"]["text"].value
    assert EXPIRED_FORM in answer.text
    assert _items(dbsession) == before, "nothing was stored"


@pytest.mark.parametrize(("form_id", "fields"), [
    ("reply-form", {"text": "Thank you for telling us. We are looking into the rota now."}),
    ("triage-form", {"priority": "high", "add_labels": "staffing nights"}),
    ("grant-form", {"guardian": "tabs.colleague"}),
    ("transfer-form", {"guardian": "tabs.colleague", "reason": "I manage the night manager myself."}),
    ("conflict-form", {"reason": "My partner works on that ward."}),
])
def test_every_case_form_comes_back_filled_in_and_does_nothing(testapp, dbsession, clock, open_case, form_id, fields):
    guardian, case = open_case
    form = testapp.get(f"/staff/cases/{case}").forms[form_id]
    for name, value in fields.items():
        form[name] = value
    row = dbsession.scalars(select(Case).where(Case.ref == case)).one()
    before = (_items(dbsession), row.priority, len(row.grants))

    html_login(testapp, guardian, clock)
    answer = form.submit(status=400)

    assert EXPIRED_FORM in answer.text
    for name, value in fields.items():
        assert answer.forms[form_id][name].value == value, f"{name} was not kept"
    dbsession.refresh(row)
    assert (_items(dbsession), row.priority, len(row.grants)) == before, "nothing changed"


def test_closing_with_an_outcome_comes_back_with_the_outcome(testapp, dbsession, clock, open_case):
    guardian, case = open_case
    page = testapp.get(f"/staff/cases/{case}").forms["move-acknowledged"].submit().follow()
    close = page.forms["move-assessing"].submit().follow().forms["move-closed"]
    close["substantiated"] = "partly"
    close["changes"] = ["policy"]
    close["learned"] = "Rotas now need two signatures."

    html_login(testapp, guardian, clock)
    answer = close.submit(status=400)

    kept = answer.forms["move-closed"]
    assert (kept["substantiated"].value, kept["learned"].value) == ("partly", "Rotas now need two signatures.")
    assert [box.value for box in kept.fields["changes"] if box.checked] == ["policy"]
    assert dbsession.scalars(select(Case).where(Case.ref == case)).one().status == "assessing"


# --- the account forms ---

def test_the_sign_in_form_from_before_comes_back_with_the_username(testapp, dbsession, settings, clock):
    staff = make_staff(dbsession, settings, clock, "tabs.signin")
    form = testapp.get("/staff/login").forms[0]  # the first tab
    html_login(testapp, staff, clock)  # signed in in the second
    form["username"], form["password"], form["otp"] = staff.username, staff.password, fresh_code(staff, clock)

    answer = form.submit(status=400)

    assert EXPIRED in answer.text and answer.forms[0]["username"].value == staff.username
    assert answer.forms[0]["password"].value == "", "a password is never sent back"


@pytest.mark.parametrize("path", ["/staff/forgot-password", "/staff/reset-authenticator"])
def test_the_recovery_forms_come_back_with_the_username_and_change_nothing(testapp, dbsession, settings, clock,
                                                                           path):
    staff = make_staff(dbsession, settings, clock, "tabs.recover")
    form = testapp.get(path).forms[0]
    html_login(testapp, staff, clock)
    form["username"], form["recovery_key"] = staff.username, staff.recovery_key
    if "new" in form.fields:
        form["new"] = form["again"] = "a brand new long password"
    sealed = staff.account.totp_secret_server, staff.account.key_by_device

    answer = form.submit(status=400)

    assert EXPIRED in answer.text and answer.forms[0]["username"].value == staff.username
    assert answer.forms[0]["recovery_key"].value == ""
    account = account_named(dbsession, staff.username)
    assert (account.totp_secret_server, account.key_by_device) == sealed


def test_the_notifications_form_comes_back_as_it_was_filled_in(testapp, dbsession, settings, clock):
    staff = make_staff(dbsession, settings, clock, "tabs.notices")
    html_login(testapp, staff, clock)
    form = testapp.get("/staff/notifications").forms[1]  # after the sign-out button
    form["address"] = "tabs.notices@example.org"
    form["events"] = ["new_report"]

    html_login(testapp, staff, clock)
    answer = form.submit(status=400)

    kept = answer.forms[1]
    assert EXPIRED in answer.text and kept["address"].value == "tabs.notices@example.org"
    assert [box.value for box in kept.fields["events"] if box.checked] == ["new_report"]
    account = account_named(dbsession, staff.username)
    assert account.notify_address is None and not account.notify_events_off


def test_the_password_form_says_the_page_had_expired(testapp, dbsession, settings, clock):
    staff = make_staff(dbsession, settings, clock, "tabs.password")
    html_login(testapp, staff, clock)
    form = testapp.get("/staff/password").forms[1]
    form["current"], form["new"], form["again"] = staff.password, *["a brand new long password"] * 2
    wrapped = staff.account.key_by_device

    html_login(testapp, staff, clock)
    answer = form.submit(status=400)

    assert EXPIRED in answer.text and "Change your password" in answer.text
    assert account_named(dbsession, staff.username).key_by_device == wrapped
