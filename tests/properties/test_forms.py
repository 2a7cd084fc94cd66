"""What people post: the validators of every form and API body, and the main forms end to end.

The validators (intake, mailbox, retaliation watch, the case's closing record, labels, the board,
notice addresses, an end-to-end case, JSON and form bodies) take any value and either accept it or
answer with their validation error: {field: message}, a Problem, or MalformedForm; never another
exception, which would be a 500. Then the four forms people type most into are posted with any
text through the whole app: never a 5xx, and a form sent back for correction keeps what was typed.
"""
from __future__ import annotations

import io
import re
import string
from datetime import date

import markupsafe
import pytest
from hypothesis import given
from hypothesis import strategies as st
from webob import Request
from webtest import TestApp

from tests.factories import QUESTIONNAIRE, html_login, make_channel, make_staff, submit_api
from tests.properties.bounded import bounded
from whistle.attachments.uploads import Field, FilePart, MalformedForm, form_parts
from whistle.board.services import check_entry
from whistle.cases import lifecycle
from whistle.cases.actions import check_labels
from whistle.errors import Problem
from whistle.intake import e2e
from whistle.intake.forms import validate_disclosure
from whistle.intake_channels.models import Channel
from whistle.jsonapi import read_json
from whistle.notifications.preferences import AddressError, check_notify_address
from whistle.protection.forms import validate_event, validate_protection
from whistle.reporters.forms import validate_identity, validate_message

# JSON as any client may send it; strings with every code point but surrogates (read_json refuses
# those before any validator sees them).
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12)
NAMES = st.sampled_from(["where", "ongoing", "kind", "who", "when", "more", "name", "contact", "personnel_id",
                         "text", ""]) | st.text(max_size=10)


def _channel(**overrides) -> Channel:
    values = {"slug": "staff", "title": "Raise a concern", "introduction": "", "questionnaire": QUESTIONNAIRE,
              "identity_modes": ["anonymous", "confidential", "open"]}
    values.update(overrides)
    return Channel(**values)


CHANNELS = st.builds(lambda plain, staff, modes: _channel(wording={"plain": plain}, reporters_are_staff=staff,
                                                           identity_modes=modes),
                     st.booleans(), st.sampled_from([True, False, None]),
                     st.lists(st.sampled_from(["anonymous", "confidential", "open"]), min_size=1, unique=True))


def _is_errors(errors) -> bool:
    return isinstance(errors, dict) and all(isinstance(k, str) and isinstance(v, str) and v for k, v in errors.items())


@bounded(150)
@given(channel=CHANNELS, text=JSON, answers=st.dictionaries(NAMES, JSON, max_size=6),
       mode=JSON | st.sampled_from(["anonymous", "confidential", "open"]),
       identity=st.none() | st.dictionaries(NAMES, JSON, max_size=4))
def test_a_disclosure_is_accepted_or_its_faults_named(channel, text, answers, mode, identity):
    submission, errors = validate_disclosure(channel, text=text, answers=answers, identity_mode=mode,
                                             identity=identity, max_text_chars=500)
    assert _is_errors(errors)
    assert (submission is None) == bool(errors)
    if submission is not None:
        assert submission.text == text.strip() and submission.identity_mode in channel.identity_modes
        assert set(submission.answers) <= {spec["name"] for spec in QUESTIONNAIRE}


@bounded(150)
@given(text=JSON, allow_empty=st.booleans(), plain=st.booleans())
def test_a_message_is_accepted_or_its_fault_named(text, allow_empty, plain):
    clean, errors = validate_message(text, max_chars=100, allow_empty=allow_empty, plain=plain)
    assert _is_errors(errors) and (clean is None) == bool(errors)
    if clean is not None:
        assert clean == text.strip() and len(clean) <= 100


@bounded(150)
@given(channel=CHANNELS, mode=JSON, identity=st.dictionaries(NAMES, JSON, max_size=4))
def test_an_identity_from_the_mailbox_is_accepted_or_its_faults_named(channel, mode, identity):
    clean, errors = validate_identity(channel, mode, identity)
    assert _is_errors(errors) and (clean is None) == bool(errors)


@bounded(150)
@given(data=st.dictionaries(st.sampled_from(["personnel_id", "effective", "type", "starts_on", "window_months"])
                            | st.text(max_size=5), JSON | st.text(string.digits + " -", max_size=12), max_size=5))
def test_retaliation_watch_input_is_accepted_or_its_faults_named(data):
    _, errors = validate_event(data)
    assert _is_errors(errors)
    clean, errors = validate_protection(data, date(2026, 3, 31))
    assert _is_errors(errors)
    if not errors:
        assert 1 <= clean["window_months"] <= 120 and isinstance(clean["starts_on"], date)


def _problem_or(function, *args):
    try:
        return function(*args)
    except Problem as problem:
        assert 400 <= problem.status < 500
        return problem


@bounded(150)
@given(labels=JSON | st.lists(st.text(max_size=70), max_size=5))
def test_labels_are_cleaned_or_a_problem(labels):
    result = _problem_or(check_labels, labels)
    if not isinstance(result, Problem):
        assert result == check_labels(result)  # cleaning twice changes nothing


@bounded(150)
@given(substantiated=JSON | st.sampled_from(lifecycle.SUBSTANTIATED),
       changes=JSON | st.lists(st.sampled_from(lifecycle.CHANGES), max_size=3),
       learned=JSON, factors=JSON | st.lists(st.sampled_from(lifecycle.FACTOR_SLUGS), max_size=2), changed=JSON)
def test_a_closing_record_is_an_outcome_or_a_problem(substantiated, changes, learned, factors, changed):
    _problem_or(lifecycle.check_outcome, substantiated, changes, learned, factors, changed)


@bounded(200)
@given(title=JSON, you_said=JSON, we_did=JSON)
def test_a_board_entry_is_clean_text_or_a_problem(title, you_said, we_did):
    _problem_or(check_entry, title, you_said, we_did)


@bounded(150)
@given(channel=st.sampled_from(["email", "webhook", "chat", ""]) | st.text(max_size=8), address=st.text(max_size=80),
       available=st.dictionaries(st.sampled_from(["email", "webhook", "chat"]), st.none() | st.text(max_size=5)))
def test_a_notice_address_is_accepted_or_its_fault_named(channel, address, available):
    try:
        stored, kept = check_notify_address(channel, address, available)
    except AddressError as error:
        assert error.args
        return
    assert (stored, kept) == (None, None) or (stored in available and kept == address.strip() and kept)


@bounded(150)
@given(data=st.dictionaries(st.sampled_from(sorted({"format", "channel", "case", "directory_version", "reporter",
                                                     "grants", "items", "case_public_key", "team_public_key",
                                                     "team_key_mac", "answers", "attachments"}))
                            | st.text(max_size=6), JSON, max_size=8))
def test_an_end_to_end_case_is_parsed_or_its_faults_named(data, settings):
    built, errors = e2e.parse_client_case(data, _channel(), settings=settings, questionnaire=QUESTIONNAIRE)
    assert _is_errors(errors) and (built is None) == bool(errors)


class _Registry:
    class whistle_settings:
        max_json_bytes = 2000


@bounded(150)
@given(body=st.binary(max_size=300) | JSON.map(lambda v: __import__("json").dumps(v).encode())
       | st.just(b'{"a": "\\ud800", "b": "\\u0000"}'),
       content_type=st.sampled_from(["application/json", "application/json; charset=latin-1", "text/plain", ""]))
def test_a_json_body_is_an_object_or_a_problem(body, content_type):
    request = Request.blank("/api/v1/x", method="POST", body=body, content_type=content_type or None)
    request.registry = _Registry
    result = _problem_or(read_json, request)
    assert isinstance(result, (dict, Problem))


MULTIPART_PIECES = st.sampled_from([b"--b\r\n", b"--b--\r\n", b'Content-Disposition: form-data; name="text"\r\n\r\n',
                                    b'Content-Disposition: form-data; name="f"; filename="a.pdf"\r\n\r\n', b"\r\n",
                                    b"hello", b"\xff\xfe", b"--b"]) | st.binary(max_size=20)


@bounded(150)
@given(body=st.binary(max_size=300) | st.lists(MULTIPART_PIECES, max_size=10).map(b"".join),
       content_type=st.sampled_from(["multipart/form-data; boundary=b", "application/x-www-form-urlencoded",
                                     "multipart/form-data", "text/plain", ""]))
def test_a_form_body_is_fields_and_files_or_malformed(body, content_type):
    request = Request.blank("/report/staff", method="POST", body=body, content_type=content_type or None)
    request.body_file = io.BytesIO(body)
    try:
        for part in form_parts(request, max_field_bytes=100):
            assert isinstance(part, (Field, FilePart))
            if isinstance(part, FilePart):
                assert all(isinstance(chunk, bytes) for chunk in part.chunks)
    except MalformedForm:
        pass


# --- the main forms through the whole app ---------------------------------------------------------

# What people type: any text a browser can send (no lone surrogates, which no browser encodes), now
# and then very long, and markup that must come back as text.
TYPED = st.text(max_size=300) | st.sampled_from(["", "   ", "<script>alert(1)</script> & \"quotes\"", "x" * 1001,
                                                  "line one\r\nline two\n\n", "\u202e\u0000\x0b tab\t"])


class Forms:
    """A live channel with a case; the reporter's browser in its mailbox and the guardian's in the
    case, both with their CSRF tokens. Every example runs in a savepoint rolled back after it."""

    def __init__(self, app, testapp, dbsession, settings, clock):
        self.dbsession = dbsession
        self.testapp = testapp
        make_channel(dbsession, "staff")
        staff = make_staff(dbsession, settings, clock, "handler", channels=["staff"])  # receives the case
        sent = submit_api(testapp, text="The rota leaves one nurse for 40 beds.")
        self.ref = sent["case"]
        self.reporter = TestApp(app, extra_environ=testapp.extra_environ)
        form = self.reporter.get("/mailbox").forms[0]
        form["receipt"] = sent["receipt"]
        form.submit(status=303)
        self.anonymous = TestApp(app, extra_environ=testapp.extra_environ)
        self.guardian = TestApp(app, extra_environ=testapp.extra_environ)
        html_login(self.guardian, staff, clock)
        self.tokens = {id(browser): _csrf_token(browser.get(page).text) for browser, page in (
            (self.anonymous, "/report/staff"), (self.reporter, "/mailbox/case"),
            (self.guardian, f"/staff/cases/{self.ref}"))}
        # Acknowledged, so that closing is one of the moves the case page offers.
        self.guardian.post(f"/staff/cases/{self.ref}/transitions",
                           {"to": "acknowledged", "csrf_token": self.tokens[id(self.guardian)]}, status=302)

    def post(self, browser: TestApp, path: str, fields: list[tuple[str, str]]):
        token = self.tokens[id(browser)]
        savepoint = self.dbsession.begin_nested()
        try:
            return browser.post(path, [("csrf_token", token), *fields], expect_errors=True)
        finally:
            savepoint.rollback()


def _csrf_token(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


@pytest.fixture
def forms(app, testapp, dbsession, settings, clock):
    return Forms(app, testapp, dbsession, settings, clock)


def _kept(response, text: str) -> bool:
    return str(markupsafe.escape(text)) in response.text


def _check(response, text: str, where: str) -> None:
    assert response.status_int < 500, f"{response.status} for {where}"
    if response.status_int >= 400 and text.strip():
        assert _kept(response, text), f"{response.status} for {where} lost the text {text[:80]!r}"


ANSWERS = st.lists(st.tuples(st.sampled_from(["answers.where", "answers.ongoing", "answers.kind", "answers.who",
                                               "answers.when", "answers.more", "answers.nowhere"]),
                             st.sampled_from(["yes", "no", "Safety", "Staff", "2026-03-31", ""]) | TYPED), max_size=5)
IDENTITY = st.lists(st.tuples(st.sampled_from(["identity_mode", "identity.name", "identity.contact",
                                               "identity.personnel_id", "identity.shoe_size", "left_out"]),
                              st.sampled_from(["anonymous", "confidential", "open", "Sam", "1"]) | TYPED), max_size=3)


@bounded(30)
@given(text=TYPED, answers=ANSWERS, identity=IDENTITY)
def test_the_report_form_never_fails_and_keeps_the_text(forms, text, answers, identity):
    response = forms.post(forms.anonymous, "/report/staff", [("text", text), *answers, *identity])
    _check(response, text, "the report form")


@bounded(25)
@given(text=TYPED, extra=st.lists(st.tuples(st.sampled_from(["attachments", "x"]), TYPED), max_size=2))
def test_the_mailbox_reply_never_fails_and_keeps_the_text(forms, text, extra):
    response = forms.post(forms.reporter, "/mailbox/case/messages", [("text", text), *extra])
    _check(response, text, "the mailbox reply")


@bounded(25)
@given(text=TYPED)
def test_the_guardians_reply_never_fails_and_keeps_the_text(forms, text):
    path = f"/staff/cases/{forms.ref}/messages"
    response = forms.post(forms.guardian, path, [("text", text)])
    _check(response, text, "the guardian's reply")


@bounded(25)
@given(learned=TYPED, changed=TYPED,
       substantiated=st.sampled_from(["", *lifecycle.SUBSTANTIATED]) | TYPED,
       changes=st.lists(st.sampled_from(lifecycle.CHANGES) | TYPED, max_size=3),
       to=st.sampled_from(["closed", "closed", "acknowledged", "nowhere"]) | TYPED)
def test_closing_a_case_never_fails_and_keeps_what_was_learned(forms, learned, changed, substantiated, changes, to):
    path = f"/staff/cases/{forms.ref}/transitions"
    fields = [("to", to), ("learned", learned), ("changed", changed), ("substantiated", substantiated),
              *[("changes", c) for c in changes]]
    response = forms.post(forms.guardian, path, fields)
    assert response.status_int < 500, f"{response.status} closing a case"
    if response.status_int >= 400 and to == "closed":
        for typed in (learned, changed):
            if typed.strip():
                assert _kept(response, typed), f"{response.status} closing a case lost {typed[:80]!r}"
