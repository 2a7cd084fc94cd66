"""Input built to break the server gets a 4xx problem that names what is wrong, and stores nothing.

Each test here is a regression test for an input that once answered 500 (several were found
by the fuzz in tests/fuzz/).
"""
from __future__ import annotations

import json
import time
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from tests.factories import api_login, fresh_code, html_login, make_channel, make_live_channel, make_staff, submit_api
from tests.functional.reporters.helpers import come_back, receipt_of, submit_disclosure
from whistle.audit.models import AuditEvent
from whistle.cases.models import Attachment, Case, CaseItem

# Past a 64-bit id, and (the first) past PostgreSQL's 32-bit INTEGER, which SQLite's ids are not.
HUGE_IDS = ("5699424771", "9223372036854775808", "99999999999999999999999999", "18446744073709551616")


def counts(dbsession) -> tuple[int, ...]:
    return tuple(dbsession.scalar(select(func.count()).select_from(model))
                 for model in (Case, CaseItem, Attachment, AuditEvent))


@pytest.fixture
def guardian(dbsession, settings, clock):
    make_channel(dbsession)
    return make_staff(dbsession, settings, clock, channels=["staff"])


@pytest.fixture
def sent(testapp, guardian):
    return submit_api(testapp)


def reporter_headers(testapp, receipt: str) -> dict:
    token = testapp.post_json("/api/v1/reporter/session", {"receipt": receipt}).json["token"]
    return {"Authorization": f"Bearer {token}"}


def problem(response, status: int) -> dict:
    assert response.status_int == status
    assert response.content_type == "application/problem+json"
    assert response.json["status"] == status
    return response.json


def post_raw_json(testapp, path: str, body: str, *, headers=None, status):
    return testapp.post(path, body.encode("utf-8", "surrogatepass"), headers=headers or {},
                        content_type="application/json", status=status, expect_errors=True)


# --- deeply nested JSON ---------------------------------------------------------------------------

@pytest.mark.parametrize("body", ["[" * 100_000, '{"text": ' + "[" * 50_000 + "]" * 50_000 + "}",
                                  '{"channel": "staff", "answers": ' + '{"a": ' * 200 + "1" + "}" * 200 + "}"])
def test_deeply_nested_json_is_a_400_problem(testapp, guardian, dbsession, body):
    before = counts(dbsession)
    answer = problem(post_raw_json(testapp, "/api/v1/disclosures", body, status=400), 400)
    assert "nested" in answer["detail"]
    assert counts(dbsession) == before


# --- lone surrogates ------------------------------------------------------------------------------

def test_a_lone_surrogate_in_the_disclosure_text_is_named(testapp, guardian, dbsession):
    before = counts(dbsession)
    body = '{"channel": "staff", "text": "The rota \\ud800 is unsafe.", "answers": {"ongoing": "yes"}}'
    answer = problem(post_raw_json(testapp, "/api/v1/disclosures", body, status=422), 422)
    assert [e["field"] for e in answer["errors"]] == ["text"]
    assert counts(dbsession) == before


def test_surrogates_are_named_wherever_they_are_in_the_body(testapp, guardian, dbsession):
    body = json.dumps({"channel": "staff", "text": "fine", "answers": {"ongoing": "yes", "where": "ward \ud83d"},
                       "identity": {"name": "\udfff"}, "identity_mode": "confidential"})
    answer = problem(post_raw_json(testapp, "/api/v1/disclosures", body, status=422), 422)
    assert sorted(e["field"] for e in answer["errors"]) == ["answers.where", "identity.name"]


def test_a_surrogate_in_a_member_name_is_named_without_echoing_it(testapp, guardian):
    body = '{"channel": "staff", "text": "fine", "answers": {"ongoing": "yes", "\\udc80x": "y"}}'
    answer = problem(post_raw_json(testapp, "/api/v1/disclosures", body, status=422), 422)
    assert [e["field"] for e in answer["errors"]] == ["answers.\ufffdx"]


def test_a_properly_paired_surrogate_is_an_ordinary_character(testapp, guardian):
    body = '{"channel": "staff", "text": "A smile \\ud83d\\ude00 on ward 7.", "answers": {"ongoing": "yes"}}'
    assert post_raw_json(testapp, "/api/v1/disclosures", body, status=201).json["receipt"]


@pytest.mark.parametrize("path, member", [
    ("/api/v1/reporter/messages", "text"),
])
def test_surrogates_in_reporter_calls(testapp, sent, dbsession, path, member):
    headers = reporter_headers(testapp, sent["receipt"])
    before = counts(dbsession)
    answer = problem(post_raw_json(testapp, path, json.dumps({member: "a \ud800 b"}), headers=headers, status=422), 422)
    assert [e["field"] for e in answer["errors"]] == [member]
    assert counts(dbsession) == before


@pytest.mark.parametrize("suffix, body, field", [
    ("messages", {"text": "x\ud800"}, "text"),
    ("notes", {"text": "x\ud800"}, "text"),
    ("transitions", {"to": "closed", "substantiated": "yes", "changes": [], "learned": "\udbff"}, "learned"),
    ("transitions", {"to": "acknowledged", "reason": "\ud800"}, "reason"),
    ("triage", {"add_labels": ["ok", "\ud800"]}, "add_labels.1"),
    ("grants", {"guardian": "\ud800"}, "guardian"),
    ("transfer", {"guardian": "someone", "reason": "\ud800"}, "reason"),
    ("conflict", {"reason": "\ud800"}, "reason"),
])
def test_surrogates_in_guardian_calls(testapp, sent, guardian, clock, dbsession, suffix, body, field):
    headers = api_login(testapp, guardian, clock)
    before = counts(dbsession)
    answer = problem(post_raw_json(testapp, f"/api/v1/cases/{sent['case']}/{suffix}", json.dumps(body),
                                   headers=headers, status=422), 422)
    assert [e["field"] for e in answer["errors"]] == [field]
    assert counts(dbsession) == before


def test_a_surrogate_in_a_username_at_login(testapp, guardian):
    body = json.dumps({"username": "guardian\udc00", "password": "x", "otp": "123456"})
    answer = problem(post_raw_json(testapp, "/api/v1/staff/session", body, status=422), 422)
    assert [e["field"] for e in answer["errors"]] == ["username"]


def test_a_percent_encoded_surrogate_in_a_file_name(testapp, sent, dbsession):
    headers = reporter_headers(testapp, sent["receipt"])
    before = counts(dbsession)
    response = testapp.post("/api/v1/reporter/attachments", b"data", expect_errors=True,
                            headers=dict(headers, **{"Content-Type": "text/plain", "X-Filename": "a%ED%A0%80.txt"}))
    assert [e["field"] for e in problem(response, 422)["errors"]] == ["X-Filename"]
    assert counts(dbsession) == before


def test_a_form_field_that_is_not_utf8_is_refused_not_replaced(testapp, guardian):
    """The urlencoded form path decodes strictly: an encoded surrogate is not quietly turned into U+FFFD."""
    page = testapp.get("/report/staff")
    token = page.forms["report-form"]["csrf_token"].value if "report-form" in page.forms else page.forms[0]["csrf_token"].value
    submission = page.forms[0]["submission_token"].value
    body = (f"csrf_token={token}&submission_token={submission}&text=The%20rota%ED%A0%80&answers.ongoing=yes"
            f"&identity_mode=anonymous").encode("ascii")
    response = testapp.post("/report/staff", body, content_type="application/x-www-form-urlencoded",
                            expect_errors=True)
    assert response.status_int == 400
    assert "could not be read" in response.text


def test_nul_in_a_string_is_named(testapp, guardian, dbsession):
    before = counts(dbsession)
    body = json.dumps({"channel": "staff\u0000", "text": "a\u0000b", "answers": {"ongoing": "yes"}})
    answer = problem(post_raw_json(testapp, "/api/v1/disclosures", body, status=422), 422)
    assert [e["field"] for e in answer["errors"]] == ["channel", "text"]
    assert counts(dbsession) == before


@pytest.mark.parametrize("charset", ["foo", "utf-16", "latin-1"])
def test_a_charset_other_than_utf8_is_415(testapp, guardian, charset):
    response = testapp.post("/api/v1/disclosures", b'{"channel": "staff"}', expect_errors=True,
                            headers={"Content-Type": f"application/json; charset={charset}"})
    assert "UTF-8" in problem(response, 415)["detail"]


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_not_json(testapp, guardian, constant):
    body = '{"channel": "staff", "text": "x", "answers": {"ongoing": "yes"}, "identity_mode": ' + constant + "}"
    problem(post_raw_json(testapp, "/api/v1/disclosures", body, status=400), 400)


# --- ids too large for the database ---------------------------------------------------------------

@pytest.mark.parametrize("huge", HUGE_IDS)
def test_a_huge_attachment_id_is_not_found(testapp, sent, guardian, clock, huge):
    reporter = reporter_headers(testapp, sent["receipt"])
    problem(testapp.get(f"/api/v1/reporter/attachments/{huge}", headers=reporter, expect_errors=True), 404)
    staff = api_login(testapp, guardian, clock)
    problem(testapp.get(f"/api/v1/cases/{sent['case']}/attachments/{huge}", headers=staff, expect_errors=True), 404)


@pytest.mark.parametrize("huge", HUGE_IDS)
def test_a_huge_attachment_id_on_the_pages_is_not_found(testapp, sent, guardian, clock, huge):
    from tests.functional.reporters.helpers import come_back

    html_login(testapp, guardian, clock)
    assert testapp.get(f"/staff/cases/{sent['case']}/attachments/{huge}", expect_errors=True).status_int == 404
    come_back(testapp, sent["receipt"])
    assert testapp.get(f"/mailbox/case/attachments/{huge}", expect_errors=True).status_int == 404


@pytest.mark.parametrize("huge", HUGE_IDS)
def test_a_huge_account_id_in_the_admin_area_is_not_found(testapp, dbsession, settings, clock, huge):
    admin = make_staff(dbsession, settings, clock, "admin", admin=True, guardian=False)
    headers = api_login(testapp, admin, clock)
    problem(testapp.patch_json(f"/api/v1/admin/accounts/{huge}", {"disabled": True}, headers=headers,
                               expect_errors=True), 404)
    html_login(testapp, admin, clock)
    assert testapp.get(f"/admin/guardians/{huge}", expect_errors=True).status_int == 404


def test_find_attachment_names_nothing_beyond_the_id_column(dbsession, sent):
    from whistle.attachments.services import find_attachment

    case = dbsession.scalars(select(Case).where(Case.ref == sent["case"])).one()
    for wanted in (*HUGE_IDS, "-1", "0", "1e3"):
        assert find_attachment(dbsession, case, keys=None, attachment_id=wanted) is None


# --- addresses that are not UTF-8 -----------------------------------------------------------------

@pytest.mark.parametrize("path", ["/api/v1/cases/%ED%A0%80", "/api/v1/admin/accounts/%FF", "/staff/cases/%C3%28",
                                  "/report/%80", "/staff/cases?status=%ED%A0%80", "/api/v1/cases?page=1&%FF=2",
                                  "/mailbox?x=%C3"])
def test_an_address_that_is_not_utf8_is_a_400(app, path):
    """Through the real pyramid_tm (not the tests' shared transaction): it asks the security policy
    who is calling before any exception view can answer, and that read of the path used to escape."""
    from webtest import TestApp

    response = TestApp(app).get(path, expect_errors=True)
    assert response.status_int == 400
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
    if path.startswith("/api/"):
        assert problem(response, 400)["detail"] == "This address is not valid: it is not UTF-8."
    else:
        assert "not UTF-8" in response.text


# --- staff forms that cannot be parsed ------------------------------------------------------------

@pytest.mark.parametrize("content_type, body", [
    ("multipart/form-data", b""),
    ("multipart/form-data", b"--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--x--\r\n"),
])
def test_a_staff_form_that_cannot_be_parsed_is_a_400(testapp, guardian, content_type, body):
    testapp.get("/staff/forgot-password")
    response = testapp.post("/staff/forgot-password", body, headers={"Content-Type": content_type},
                            expect_errors=True)
    assert response.status_int == 400


# --- numbers too large for the database, wherever they come in ------------------------------------

@pytest.mark.parametrize("page", ["200000000000000000", "9223372036854775808", "99999999999999999999"])
def test_a_page_number_too_large_for_the_database_is_refused_naming_page(testapp, dbsession, settings, clock, page):
    """Refused before the database sees the page's offset (which would overflow a 64-bit number)."""
    admin = make_staff(dbsession, settings, clock, "admin", admin=True, guardian=False)
    headers = api_login(testapp, admin, clock)
    html_login(testapp, admin, clock)
    answer = problem(testapp.get(f"/api/v1/admin/audit?page={page}", headers=headers, expect_errors=True), 422)
    assert [error["field"] for error in answer["errors"]] == ["page"]
    assert testapp.get(f"/admin/audit?page={page}", expect_errors=True).status_int == 422


# --- a login while another session is loaded ------------------------------------------------------

def test_a_reporter_login_sent_with_a_staff_token_opens_the_session(testapp, dbsession, guardian, sent, clock):
    """The caller's own session row is in the ORM session (the security policy loaded it, as SQLite
    gives it: a naive datetime) when opening the new session deletes expired ones; comparing that
    row against an aware "now" in Python answered 500."""
    staff = api_login(testapp, guardian, clock)
    dbsession.expire_all()  # as in a fresh request: the staff session row is read back from the database
    answer = testapp.post_json("/api/v1/reporter/session", {"receipt": sent["receipt"]}, headers=staff)
    assert answer.json["token"]


def test_a_staff_login_while_signed_in_opens_a_new_session(testapp, dbsession, guardian, clock):
    staff = api_login(testapp, guardian, clock)
    dbsession.expire_all()
    again = testapp.post_json("/api/v1/staff/session", {"username": guardian.username, "password": guardian.password,
                                                         "otp": fresh_code(guardian, clock)}, headers=staff)
    assert again.json["token"]


# --- wrong types where a list belongs -------------------------------------------------------------

@pytest.mark.parametrize("body", [{"add_labels": None}, {"remove_labels": None}, {"add_labels": 7},
                                  {"add_labels": "safety"}, {"remove_labels": {"a": 1}}])
def test_labels_that_are_not_a_list_are_a_422(testapp, sent, guardian, clock, dbsession, body):
    """null and numbers answered 500; a string was split into one-letter labels."""
    headers = api_login(testapp, guardian, clock)
    before = counts(dbsession)
    answer = problem(testapp.post_json(f"/api/v1/cases/{sent['case']}/triage", body, headers=headers,
                                       expect_errors=True), 422)
    assert [e["field"] for e in answer["errors"]] == ["labels"]
    assert counts(dbsession) == before


# --- numbers typed into forms: ASCII digits only, and not too many ----------------------------------
# str.isdigit() is true for superscripts ("²"), which int() refuses, and for 5,000 digits, more
# than int() converts: both once escaped as a ValueError.

NOT_NUMBERS = ["²", "9" * 5000]


@pytest.mark.parametrize("month", NOT_NUMBERS, ids=["superscript", "5000-digits"])
def test_the_reporters_check_in_form_refuses_a_month_that_is_not_a_number(testapp, dbsession, settings, clock, month):
    make_live_channel(dbsession, settings, clock)
    page = come_back(testapp, receipt_of(submit_disclosure(testapp)))
    csrf = page.forms["message-form"]["csrf_token"].value

    answer = testapp.post("/mailbox/case/checkins", {"csrf_token": csrf, "month": month, "detriment": "yes"},
                          expect_errors=True)
    assert 400 <= answer.status_int < 500, f"{answer.status_int} for month={month[:10]!r}"


@pytest.mark.parametrize("window", NOT_NUMBERS, ids=["superscript", "5000-digits"])
def test_the_protection_form_names_a_window_that_is_not_a_number(testapp, dbsession, settings, clock, window):
    make_live_channel(dbsession, settings, clock)
    guardian = make_staff(dbsession, settings, clock, "watch.guardian", channels=["staff"])
    sent = submit_api(testapp)
    token = testapp.post_json("/api/v1/reporter/session", {"receipt": sent["receipt"]}).json["token"]
    testapp.post_json("/api/v1/reporter/protection-consent", {"consent": True},
                      headers={"Authorization": f"Bearer {token}"})
    html_login(testapp, guardian, clock)
    form = testapp.get(f"/staff/cases/{sent['case']}").forms["protection-form"]
    form["personnel_id"] = "E12345"
    form["window_months"] = window

    answer = form.submit(expect_errors=True)
    assert 400 <= answer.status_int < 500, f"{answer.status_int} for window_months={window[:10]!r}"
    assert "A whole number of months" in answer.text


@pytest.mark.parametrize("raw_id", NOT_NUMBERS, ids=["superscript", "5000-digits"])
def test_retrying_a_notice_refuses_an_id_that_is_not_a_number(testapp, dbsession, settings, clock, raw_id):
    admin = make_staff(dbsession, settings, clock, "retry.admin", admin=True, guardian=False)
    html_login(testapp, admin, clock)
    csrf = testapp.get("/admin/notifications").html.find("input", {"name": "csrf_token"})["value"]

    answer = testapp.post("/admin/notifications/retry", {"csrf_token": csrf, "id": raw_id}, expect_errors=True)
    assert answer.status_int == 404, f"{answer.status_int} for id={raw_id[:10]!r}"


def test_an_id_in_another_scripts_digits_names_nothing(testapp, dbsession, settings, clock, guardian):
    admin = make_staff(dbsession, settings, clock, "digits.admin", admin=True, guardian=False)
    html_login(testapp, admin, clock)
    testapp.get(f"/admin/guardians/{guardian.account.id}", status=200)
    arabic_indic = "".join(chr(0x0660 + int(digit)) for digit in str(guardian.account.id))
    testapp.get(f"/admin/guardians/{quote(arabic_indic)}", status=404)


# --- a long Cookie header ----------------------------------------------------------------------------
# WebOb's cookie parser takes time growing with the square of a run it cannot match, holding the
# GIL: 24 KB of it held the whole process for seconds.

def test_a_cookie_header_longer_than_a_browser_sends_is_a_431_at_once(testapp):
    started = time.perf_counter()
    page = testapp.get("/", headers={"Cookie": "a" * 24 * 1024}, status=431)
    assert time.perf_counter() - started < 1.0
    assert "too long" in page.text
    answer = problem(testapp.get("/api/v1/channels", headers={"Cookie": "a" * 24 * 1024}, expect_errors=True), 431)
    assert "Cookie header" in answer["detail"]


def test_other_sites_cookies_are_dropped_unparsed_and_ours_still_count(testapp, guardian, clock):
    html_login(testapp, guardian, clock)
    ours = "; ".join(f"{cookie.name}={cookie.value}" for cookie in testapp.cookiejar)
    junk = "_ga=GA1.2.3; " + "a" * 8000  # a parent domain's cookies, or someone's attempt to stall us
    started = time.perf_counter()
    page = testapp.get("/staff/cases", headers={"Cookie": f"{junk}; {ours}"}, status=200)
    assert time.perf_counter() - started < 0.5, "the header was parsed as it came"
    assert guardian.account.username in page.text  # still signed in


def test_a_case_deleted_while_a_guardian_acts_on_it_is_a_409_and_nothing_is_saved(testapp, sent, guardian, clock,
                                                                                  dbsession, monkeypatch):
    """On PostgreSQL a guardian's write waits on the row lock of a case the tick is purging, then
    finds the row gone: SQLAlchemy's StaleDataError, answered as a conflict rather than a 500."""
    from sqlalchemy.orm.exc import StaleDataError

    from whistle.records import services as records

    def purged_meanwhile(*args, **kwargs):
        raise StaleDataError("UPDATE statement on table 'cases' expected to update 1 row(s); 0 were matched.")

    monkeypatch.setattr(records, "place_hold", purged_meanwhile)
    headers = api_login(testapp, guardian, clock)
    answer = testapp.post_json(f"/api/v1/cases/{sent['case']}/legal-hold", {"reason": "A claim."}, headers=headers,
                               status=409)
    assert answer.json["status"] == 409 and "changed while you were working" in answer.json["detail"]
    dbsession.expire_all()
    assert dbsession.scalars(select(Case).where(Case.ref == sent["case"])).one().hold_since is None
