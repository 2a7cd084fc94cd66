"""Property-based fuzz of every route: whatever arrives, the answer is never a 5xx.

The routes are walked from the route table (the API's member and parameter names come from the
OpenAPI document, the forms' field names and values from the rendered pages), so a new route is
fuzzed without a line here. Each request goes to the whole WSGI app through WebTest as one of
several callers (anonymous; guardian, reporter and admin by bearer token and by cookie; an HR
integration), with random JSON (nested, huge, wrong types, NUL and lone surrogates, unknown
members), random form fields and multipart bodies, random query strings and random path
parameters (huge integers, odd strings, bytes that are not UTF-8). For every answer:

- never a 5xx;
- under /api/, an error is application/problem+json whose `status` is the HTTP status;
- a 4xx leaves the database as it was (rows of every table counted before and after), unless
  the request's transaction is thrown away anyway: an exception view answered (pyramid_tm
  aborts it) or the view doomed it.

The world holds a case with a message, a note, files, two files a client is uploading in chunks
(one complete, one with a chunk missing; their chunk PUTs get binary bodies of any length), and,
as a database writer could leave them, a message and a file that no longer verify. Each request runs inside a savepoint that is
rolled back afterwards, so every example meets the same world.

WHISTLE_TEST_FUZZ_EXAMPLES sets the examples per endpoint group (default 200, eight groups); for a
long run: WHISTLE_TEST_FUZZ_EXAMPLES=5000 .venv/bin/pytest tests/fuzz -q. The summary line
("fuzz: N requests, 0 × 5xx") is printed at the end of the run. WHISTLE_TEST_FUZZ_COVERAGE=FILE
writes how often each route answered each status to FILE, to see what the fuzz reaches.
"""
from __future__ import annotations

import base64
import html
import http.cookiejar
import json
import logging
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from urllib.parse import quote, quote_from_bytes

import pytest
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st
from sqlalchemy import select, text
from webtest import TestApp, TestRequest

from tests.factories import (
    PASSWORD,
    api_login,
    build_client_case,
    html_login,
    make_channel,
    make_staff,
    send_client_case,
    submit_api,
)
from tests.fuzz.record import RAISED, TALLY
from whistle import crypto
from whistle.cases import lifecycle
from whistle.cases.models import Attachment, Case, CaseItem
from whistle.db import Base
from whistle.protection.services import add_integration
import whistle.models  # noqa: F401  (every table in Base.metadata)

COVERAGE: Counter = Counter()  # (route, method, caller, status) -> requests, for WHISTLE_TEST_FUZZ_COVERAGE
EXAMPLES = int(os.environ.get("WHISTLE_TEST_FUZZ_EXAMPLES", "200"))
PLACEHOLDER = re.compile(r"\{(\w+)(?::(?:[^{}]|\{[^{}]*\})*)?\}|\*\w+")
PROBLEM_JSON = "application/problem+json"
# A refused login is meant to be remembered: the wrong-receipt budget and the staff sign-in pause
# count failures, and failed staff logins are audited.
# A file that fails to verify is refused with a 404 that records it (case.item_unverifiable).
REFUSALS_THAT_RECORD = {"api.staff_session", "accounts.login", "api.reporter_session", "reporters.login",
                        "accounts.forgot", "api.staff_password", "accounts.password",
                        "accounts.authenticator", "api.staff_authenticator",
                        "attachments.download", "api.case_attachment", "reporters.attachment", "api.reporter_attachment",
                        # an identity on a case without a team key MAC yet: refused, and audited
                        "api.reporter_identity"}
RECORDING_TABLES = {"throttles", "audit_events", "audit_head"}


# --- the world every example meets ----------------------------------------------------------------

class _KeepNoCookies(http.cookiejar.DefaultCookiePolicy):
    """The fuzz sends each caller's cookies itself; what a response sets (a logout clearing the
    session cookie) must not change the caller for the next example."""

    def set_ok(self, cookie, request):
        return False


class DoomWatch:
    """The tests' transaction manager, noting whether a view doomed the transaction."""

    def __init__(self, tm):
        self._tm = tm
        self.doomed = False

    def doom(self):
        self.doomed = True
        self._tm.doom()

    def __getattr__(self, name):
        return getattr(self._tm, name)


@dataclass
class Caller:
    name: str
    headers: dict = field(default_factory=dict)  # Authorization and/or Cookie
    csrf: str = ""


@dataclass
class World:
    app: TestApp
    watch: DoomWatch
    dbsession: object
    callers: dict[str, Caller]
    api_routes: list[tuple[str, str, str]]  # (route name, pattern, method)
    page_routes: list[tuple[str, str, str]]
    schemas: dict[tuple[str, str], dict]  # (openapi path, method) -> the body's JSON schema
    components: dict  # the document's named schemas, for $ref
    parameters: dict[tuple[str, str], list[str]]  # query parameter names
    field_names: list[str]
    forms: dict[str, dict[str, list[str]]]  # the path a rendered form posts to -> its fields and their values
    values: list[str]
    refs: list[str]
    receipts: list[str]
    ids: list[str]
    tables: list[str]
    uploads: list[str]  # uploads in chunks on their way
    chunks: list[bytes]  # their chunks, as the client encrypted them
    meta: str  # an attachment-meta item a client would send, base64
    bodies: dict[tuple[str, str], list[dict]]  # VALID_BODIES, and those only a live case can give


def _cookie_header(app: TestApp) -> str:
    return "; ".join(f"{cookie.name}={cookie.value}" for cookie in app.cookiejar)


FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S)
FIELD = re.compile(r"<(?:input|textarea|select)\b([^>]*)>", re.S)
SELECT = re.compile(r'<select\b[^>]*\bname="([^"]+)"[^>]*>(.*?)</select>', re.S)


def _attribute(tag: str, name: str) -> str | None:
    found = re.search(rf'\b{name}="([^"]*)"', tag)
    return html.unescape(found.group(1)) if found else None


def _harvest(path: str, page_text: str, names: set[str], values: set[str], forms: dict) -> str:
    """Field names and values from a rendered page's forms, and each form's fields by the path it
    posts to (what a browser would send there); returns the page's CSRF token."""
    names.update(html.unescape(n) for n in re.findall(r'<(?:input|textarea|select)[^>]*\bname="([^"]+)"', page_text))
    values.update(html.unescape(v) for v in re.findall(r'\bvalue="([^"]*)"', page_text))
    for form_attributes, inner in FORM.findall(page_text):
        action = (_attribute(form_attributes, "action") or path).split("#")[0]
        fields = forms.setdefault(action, {})
        for tag in FIELD.findall(inner):
            name, value = _attribute(tag, "name"), _attribute(tag, "value")
            if name and name != "csrf_token":
                fields.setdefault(name, set()).update([value] if value is not None else [])
        for name, options in SELECT.findall(inner):
            fields.setdefault(html.unescape(name), set()).update(
                html.unescape(v) for v in re.findall(r'<option[^>]*value="([^"]*)"', options))
    token = re.search(r'name="csrf_token" value="([^"]+)"', page_text)
    return token.group(1) if token else ""


def _routes(app) -> list[tuple[str, str, str]]:
    introspector = app.registry.introspector
    patterns = {r["introspectable"]["name"]: r["introspectable"]["pattern"] for r in introspector.get_category("routes")}
    found = set()
    for view in introspector.get_category("views"):
        intr = view["introspectable"]
        name = intr["route_name"]
        if not name or name.startswith("__static"):
            continue
        methods = intr["request_methods"] or ("GET", "POST")
        for method in (methods,) if isinstance(methods, str) else methods:
            found.add((name, patterns[name], method))
    return sorted(found)


def _openapi(document: dict) -> tuple[dict, dict]:
    """(body schema, query parameter names) by (path, method)."""
    schemas, parameters = {}, {}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            schemas[(path, method.upper())] = body.get("schema", {"type": "object", "properties": {}})
            parameters[(path, method.upper())] = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
    return schemas, parameters


@pytest.fixture
def world(app, testapp, tm, dbsession, settings, clock):
    make_channel(dbsession, "staff", title="Raise a concern")
    make_channel(dbsession, "young", title="Young people's voice")
    guardian = make_staff(dbsession, settings, clock, "guardian", channels=["staff"])
    colleague = make_staff(dbsession, settings, clock, "colleague", channels=["young"])
    admin = make_staff(dbsession, settings, clock, "admin", admin=True, guardian=False)
    # The guardian's case: anonymous (so the reporter can still say who they are), a year old (so the
    # retaliation check-ins are due), with a colleague granted too (so the guardian can step aside).
    sent = submit_api(testapp, text="The night shift is left with one nurse for 40 beds.")
    other = submit_api(testapp, channel="young", text="Someone at school is being hurt.",
                       identity={"name": "Sam"}, identity_mode="confidential")
    case = dbsession.scalars(select(Case).where(Case.ref == sent["case"])).one()
    case.opened_on -= timedelta(days=400)
    integration_token = add_integration(dbsession, settings, clock, "hr")

    watch = DoomWatch(tm)
    environ = dict(testapp.extra_environ, **{"tm.manager": watch})
    names: set[str] = set()
    forms: dict[str, dict[str, set[str]]] = {}
    values: set[str] = {sent["receipt"], sent["case"], other["case"], "guardian", "colleague", "admin", PASSWORD,
                        *lifecycle.STATUSES, "yes", "no", "2026-03-31", "12", "-1", "0",
                        "The rota is unsafe.", "Please call me back.", "safety urgent-risk"}

    # Bearer callers.
    guardian_api = api_login(testapp, guardian, clock)
    admin_api = api_login(testapp, admin, clock)
    reporter_api = {"Authorization": "Bearer " + testapp.post_json(
        "/api/v1/reporter/session", {"receipt": sent["receipt"]}).json["token"]}
    upload = testapp.post("/api/v1/reporter/attachments", b"%PDF- rota", headers=dict(
        reporter_api, **{"Content-Type": "application/pdf", "X-Filename": "rota.pdf"}), status=201).json
    testapp.post_json(f"/api/v1/cases/{sent['case']}/messages", {"text": "Thank you."}, headers=guardian_api, status=201)
    testapp.post_json(f"/api/v1/cases/{sent['case']}/notes", {"text": "Call HR."}, headers=guardian_api, status=201)
    testapp.post_json(f"/api/v1/cases/{sent['case']}/grants", {"guardian": "colleague"}, headers=guardian_api, status=201)
    testapp.post_json("/api/v1/reporter/protection-consent", {"consent": True}, headers=reporter_api)
    # What a database writer could leave behind: a message relabelled as the guardian's, and a
    # file whose details were changed. Both read as "could not be verified".
    relabelled = testapp.post_json("/api/v1/reporter/messages", {"text": "Mine."}, headers=reporter_api, status=201).json
    message = dbsession.get(CaseItem, relabelled["id"])
    message.author, message.account_id = "guardian", guardian.account.id
    tampered = testapp.post("/api/v1/reporter/attachments", b"%PDF- changed", headers=dict(
        reporter_api, **{"Content-Type": "application/pdf", "X-Filename": "changed.pdf"}), status=201).json
    meta = dbsession.get(CaseItem, dbsession.get(Attachment, tampered["id"]).meta_item_id)
    meta.ciphertext = meta.ciphertext[:-1] + bytes([meta.ciphertext[-1] ^ 1])
    dbsession.flush()
    # Files a client encrypted, on their way in chunks: one with every chunk in (so finishing it
    # works), one with its middle chunk still missing.
    uploads = [_begin_upload(testapp, reporter_api, case, size, skip=skip)
               for size, skip in ((crypto.CHUNK_SIZE + 5, None), (2 * crypto.CHUNK_SIZE, 1))]

    # A case built on the reporter's device, and its end-to-end session (it holds no key).
    built = build_client_case(testapp, settings, clock, text="Built on the device.", answers={"ongoing": "yes"})
    reporter_e2e = {"Authorization": "Bearer " + send_client_case(testapp, built)["token"]}
    another = build_client_case(testapp, settings, clock)  # sent by the fuzz: accepted once, then taken
    bodies = dict(VALID_BODIES)
    bodies[("/api/v1/disclosures", "POST")] = [*VALID_BODIES[("/api/v1/disclosures", "POST")], another.body]
    bodies[("/api/v1/reporter/session", "POST")] = [*VALID_BODIES[("/api/v1/reporter/session", "POST")],
                                                   {"lookup_value": built.lookup_value}]
    bodies[("/api/v1/reporter/messages", "POST")] = [*VALID_BODIES[("/api/v1/reporter/messages", "POST")],
                                                    {"item": built.item("message", "Built on the device too.")}]
    bodies[("/api/v1/reporter/identity", "POST")] = [
        {"item": built.item("identity", '{"name": "Sam"}', team=True), "identity_mode": "confidential"}]

    # Cookie callers, each in its own browser; their CSRF tokens come from the pages they see.
    def browser() -> TestApp:
        return TestApp(app, extra_environ=environ)

    anonymous = browser()
    csrf = {"anonymous": ""}
    for path in ("/", "/report/staff", "/mailbox", "/staff/login", "/staff/forgot-password"):
        csrf["anonymous"] = _harvest(path, anonymous.get(path).text, names, values, forms) or csrf["anonymous"]

    staff_browser = browser()
    html_login(staff_browser, guardian, clock)
    for path in ("/staff/cases", f"/staff/cases/{sent['case']}", "/staff/sessions", "/staff/password",
                 "/staff/notifications", "/staff/statistics"):
        csrf["guardian_cookie"] = _harvest(path, staff_browser.get(path).text, names, values, forms)

    admin_browser = browser()
    html_login(admin_browser, admin, clock)
    for path in ("/admin", "/admin/guardians", f"/admin/guardians/{guardian.account.id}", "/admin/channels",
                 "/admin/audit", "/admin/statistics", "/admin/notifications"):
        csrf["admin_cookie"] = (_harvest(path, admin_browser.get(path).text, names, values, forms)
                                or csrf.get("admin_cookie", ""))

    reporter_browser = browser()
    form = reporter_browser.get("/mailbox").forms[0]
    form["receipt"] = sent["receipt"]
    form.submit(status=303)
    csrf["reporter_cookie"] = _harvest("/mailbox/case", reporter_browser.get("/mailbox/case").text, names, values, forms)
    assert all(csrf.values()), csrf

    callers = {
        "anonymous": Caller("anonymous", {"Cookie": _cookie_header(anonymous)}, csrf["anonymous"]),
        "guardian_bearer": Caller("guardian_bearer", guardian_api),
        "guardian_cookie": Caller("guardian_cookie", {"Cookie": _cookie_header(staff_browser)}, csrf["guardian_cookie"]),
        "admin_bearer": Caller("admin_bearer", admin_api),
        "admin_cookie": Caller("admin_cookie", {"Cookie": _cookie_header(admin_browser)}, csrf["admin_cookie"]),
        "reporter_bearer": Caller("reporter_bearer", reporter_api),
        "reporter_e2e_bearer": Caller("reporter_e2e_bearer", reporter_e2e),
        "reporter_cookie": Caller("reporter_cookie", {"Cookie": _cookie_header(reporter_browser)}, csrf["reporter_cookie"]),
        "integration": Caller("integration", {"Authorization": f"Bearer {integration_token}"}),
    }
    routes = _routes(app)
    document = testapp.get("/api/v1/openapi.json").json
    schemas, parameters = _openapi(document)
    case_ids = [str(i) for i in dbsession.scalars(select(Case.id))]
    fuzz_app = TestApp(app, extra_environ=environ, cookiejar=http.cookiejar.CookieJar(_KeepNoCookies()))
    return World(
        app=fuzz_app, watch=watch, dbsession=dbsession, callers=callers,
        api_routes=[r for r in routes if r[1].startswith("/api/")],
        page_routes=[r for r in routes if not r[1].startswith("/api/")],
        schemas=schemas, components=document["components"]["schemas"], parameters=parameters,
        field_names=sorted(names), values=sorted(v for v in values if len(v) < 200),
        forms={action: {name: sorted(options) for name, options in fields.items()} for action, fields in forms.items()},
        refs=[sent["case"], other["case"]],
        receipts=[sent["receipt"], other["receipt"]],
        ids=[str(upload["id"]), str(tampered["id"]), str(guardian.account.id), str(colleague.account.id),
             str(admin.account.id), *case_ids],
        tables=sorted(Base.metadata.tables),
        uploads=[upload_id for upload_id, _ in uploads],
        chunks=[chunk for _, chunks in uploads for chunk in chunks],
        meta=_client_meta(case),
        bodies=bodies,
    )


def _begin_upload(testapp, headers, case, size: int, *, skip: int | None) -> tuple[str, list[bytes]]:
    """An upload in chunks of a `size`-byte file, as a client encrypts it, every chunk sent but `skip`."""
    encryptor = crypto.StreamEncryptor(case.public_key, case=case.ref, kind="attachment", author="reporter")
    chunks = [encryptor.header]
    plaintext = os.urandom(size)
    whole = size - size % crypto.CHUNK_SIZE
    chunks += [encryptor.push(plaintext[i:i + crypto.CHUNK_SIZE]) for i in range(0, whole, crypto.CHUNK_SIZE)]
    chunks.append(encryptor.push(plaintext[whole:]) + encryptor.finish())
    upload = testapp.post_json("/api/v1/reporter/uploads", {"chunks": len(chunks), "bytes": sum(map(len, chunks))},
                               headers=headers, status=201).json["id"]
    for index, chunk in enumerate(chunks):
        if index != skip:
            testapp.put(f"/api/v1/reporter/uploads/{upload}/{index}", chunk,
                        headers=dict(headers, **{"Content-Type": "application/octet-stream"}), status=204)
    return upload, chunks


def _client_meta(case) -> str:
    meta = json.dumps({"name": "rota.pdf", "size": 1, "type": "application/pdf"}).encode()
    return base64.b64encode(crypto.encrypt_item(case.public_key, meta, case=case.ref, kind="attachment-meta",
                                                author="reporter")).decode()


# --- strategies -----------------------------------------------------------------------------------

def weighted(*choices: tuple[int, st.SearchStrategy]) -> st.SearchStrategy:
    """One of the strategies, picked in proportion to its weight. (st.one_of with a strategy
    repeated does not weight it: hypothesis prefers the first branches and simpler values.)"""
    return st.sampled_from([strategy for weight, strategy in choices for _ in range(weight)]).flatmap(lambda s: s)


ODD_CHARACTERS = st.sampled_from(["\x00", "\ud800", "\udfff", "\ud83d", "\ufeff", "\u2028", "\x7f", "\n", "%", "/",
                                  "\\", "'", '"', "<", "&", "\u202e", "\U0001F600", "é"])
# Any text, now and then with a character that is not (a lone surrogate, NUL) or is awkward.
TEXT = st.text(weighted((3, st.characters()), (1, ODD_CHARACTERS)), max_size=40)
HUGE_INTEGERS = st.one_of(st.integers(-(2**70), 2**70), st.sampled_from([2**63, 2**63 - 1, 2**64, -(2**63) - 1, 10**30]))
CLEAN_TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=40)
DIGITS = st.text("0123456789", min_size=1, max_size=30)


def json_values(world: World):
    plausible = st.sampled_from(world.values)
    scalars = weighted((1, st.none()), (1, st.booleans()), (1, HUGE_INTEGERS), (1, st.floats(allow_nan=True)),
                       (1, TEXT), (2, plausible))
    return st.recursive(scalars, lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.one_of(TEXT, st.sampled_from(world.values)), children, max_size=4)),
        max_leaves=12)


def path_value(world: World, name: str):
    plausible = {"ref": st.sampled_from(world.refs[:1] * 4 + world.refs), "id": st.sampled_from(world.ids),
                 "slug": st.sampled_from(["staff", "young", "nope"]), "name": st.sampled_from(["ftsu", "csv", "x"]),
                 "upload": st.sampled_from(world.uploads), "index": st.integers(0, 4).map(str),
                 "day": st.sampled_from([date.today().isoformat(), "2026-12-05", "2026-02-30", "0001-01-01"])}
    odd = st.one_of(DIGITS, HUGE_INTEGERS.map(str), TEXT, st.binary(max_size=12), st.sampled_from(["..", ".", ""]))
    return weighted((4, plausible.get(name, TEXT)), (1, odd))


def _quote(value) -> str:
    if isinstance(value, bytes):
        return quote_from_bytes(value, safe="")
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


def _encode_pairs(pairs) -> str:
    return "&".join(f"{_quote(k)}={_quote(v)}" for k, v in pairs)


@st.composite
def fill_path(draw, world: World, pattern: str) -> str:
    def replace(match):
        return _quote(draw(path_value(world, match.group(1) or "subpath")))

    return PLACEHOLDER.sub(replace, pattern)


@st.composite
def query_string(draw, world: World, names: list[str]) -> str:
    if draw(weighted((3, st.just(True)), (1, st.just(False)))):
        return ""
    keys = weighted((3, st.sampled_from(names or ["page"])), (2, st.sampled_from(["page", "per_page", "status", "sort"])),
                    (1, CLEAN_TEXT), (1, TEXT))
    values = weighted((4, st.sampled_from(world.values)), (2, DIGITS), (1, HUGE_INTEGERS.map(str)), (1, CLEAN_TEXT),
                      (1, TEXT), (1, st.binary(max_size=8)))
    return "?" + _encode_pairs(draw(st.lists(st.tuples(keys, values), max_size=5)))


# Strings that get a call past its first checks, by member name.
HINTS = {
    "receipt": "receipt", "username": "usernames", "guardian": "usernames", "password": "password",
    "current": "password", "new": "password", "otp": "otp", "channel": "channels", "channels": "channels",
    "add_labels": "labels", "remove_labels": "labels", "personnel_id": "digits",
}
ANSWER_NAMES = ["where", "ongoing", "kind", "who", "when", "more"]


def plausible_strings(world: World, name: str):
    hint = HINTS.get(name)
    pools = {
        "receipt": st.sampled_from(world.receipts) | st.just("0000-0000-0000-0000-0000"),
        "usernames": st.sampled_from(["guardian", "colleague", "admin", "nobody"]),
        "password": st.sampled_from([PASSWORD, "x", PASSWORD + " but longer and new"]),
        "otp": st.text("0123456789", min_size=6, max_size=6),
        "channels": st.sampled_from(["staff", "young", "email", "nope"]),
        "labels": st.sampled_from(["safety", "urgent-risk", "Bad Label", "x" * 70]),
        "digits": DIGITS,
    }
    generic = st.sampled_from(world.values) | st.sampled_from(["The rota is unsafe.", "yes", "2026-03-31", ""])
    return weighted((3, pools[hint]), (1, generic)) if hint else generic


# Answers the staff channel's questionnaire (tests/factories.py QUESTIONNAIRE) takes.
VALID_ANSWERS = st.fixed_dictionaries(
    {"ongoing": st.sampled_from(["yes", "no"])},
    optional={"where": st.sampled_from(["Ward 7", ""]), "kind": st.sampled_from(["Safety", "Fraud"]),
              "who": st.lists(st.sampled_from(["Patients", "Staff", "Children"]), unique=True, max_size=3),
              "when": st.sampled_from(["2026-03-31", "2025-12-01"]), "more": st.sampled_from(["More detail."])})


def from_schema(world: World, schema: dict, name: str = "", depth: int = 0):
    """Values that mostly fit `schema` (an OpenAPI 3.1 schema): what gets past the first checks to
    the code behind them. Junk is mixed in by the caller."""
    if "$ref" in schema:
        schema = world.components[schema["$ref"].rsplit("/", 1)[-1]]
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "oneOf" in schema:
        return st.one_of([from_schema(world, option, name, depth + 1) for option in schema["oneOf"]])
    types = schema.get("type", "object")
    types = [types] if isinstance(types, str) else types
    choices = []
    for kind in types:
        if kind == "null":
            choices.append(st.none())
        elif kind == "boolean":
            choices.append(st.booleans())
        elif kind == "integer":
            choices.append(st.integers(-3, 40) | HUGE_INTEGERS)
        elif kind == "string":
            choices.append(plausible_strings(world, name))
        elif kind == "array":
            choices.append(st.lists(from_schema(world, schema.get("items", {"type": "string"}), name, depth + 1),
                                    max_size=4))
        elif kind == "object" and depth < 3:
            properties = schema.get("properties", {})
            extra = schema.get("additionalProperties")
            members = {key: from_schema(world, value, key, depth + 1) for key, value in properties.items()}
            required = [key for key in schema.get("required", []) if key in members]
            optional = [key for key in members if key not in required]
            strategy = st.fixed_dictionaries({key: members[key] for key in required},
                                              optional={key: members[key] for key in optional})
            if isinstance(extra, dict):  # a map: the answers
                strategy = weighted((3, VALID_ANSWERS), (1, st.dictionaries(
                    st.sampled_from(ANSWER_NAMES) | TEXT, from_schema(world, extra, name, depth + 1), max_size=5)))
            choices.append(strategy)
    return st.one_of(choices) if choices else st.none()


# Bodies each call accepts as they are (given the world): the fuzz changes one member at a time, so
# it reaches the checks and the code behind the first ones. "{ref}" style paths as in OpenAPI.
VALID_BODIES = {
    ("/api/v1/disclosures", "POST"): [
        {"channel": "staff", "text": "The rota is unsafe.", "answers": {"ongoing": "yes"}},
        {"channel": "staff", "text": "Ward 7.", "answers": {"ongoing": "no", "who": ["Staff"]},
         "identity": {"name": "Sam Carter", "contact": "sam@example.org"}, "identity_mode": "confidential"},
        {"channel": "young", "text": "Someone is hurting me.", "answers": {"ongoing": "yes"}}],
    ("/api/v1/staff/session", "POST"): [{"username": "guardian", "password": PASSWORD, "otp": "123456"}],
    ("/api/v1/staff/password", "POST"): [{"current": PASSWORD, "new": "a much longer new passphrase 2027"}],
    ("/api/v1/staff/notifications", "PUT"): [{"channel": None, "address": None}],
    ("/api/v1/reporter/session", "POST"): [{"receipt": "{receipt}"}],
    ("/api/v1/surges/{day}/junk", "POST"): [{"cases": ["{ref}"], "reason": "flood"}],
    ("/api/v1/reporter/messages", "POST"): [{"text": "More detail: it happened again."}],
    ("/api/v1/reporter/checkins", "POST"): [{"month": 1, "detriment": False}, {"month": 3, "detriment": True}],
    ("/api/v1/reporter/protection-consent", "POST"): [{"consent": True}],
    ("/api/v1/reporter/uploads", "POST"): [{"chunks": 2, "bytes": 379}, {"chunks": 3, "bytes": 65932}],
    ("/api/v1/reporter/uploads/{upload}/done", "POST"): [{"meta": "{meta}"}],
    ("/api/v1/personnel-events", "POST"): [{"personnel_id": "E12345", "type": "dismissal", "effective": "2026-06-01"}],
    ("/api/v1/cases/{ref}/messages", "POST"): [{"text": "Thank you, we are looking into it."}],
    ("/api/v1/cases/{ref}/notes", "POST"): [{"text": "Ask HR for the rota."}],
    ("/api/v1/cases/{ref}/transitions", "POST"): [
        {"to": "acknowledged"}, {"to": "assessing", "reason": "Read it."},
        {"to": "closed", "substantiated": "partly", "changes": ["training"], "learned": "Rotas are checked weekly."}],
    ("/api/v1/cases/{ref}/triage", "POST"): [{"priority": "high", "add_labels": ["safety"], "remove_labels": []}],
    ("/api/v1/cases/{ref}/grants", "POST"): [{"guardian": "colleague"}],
    ("/api/v1/cases/{ref}/transfer", "POST"): [{"guardian": "colleague", "reason": "Conflict at ward level."}],
    ("/api/v1/cases/{ref}/conflict", "POST"): [{"reason": "I know the people involved."}],
    ("/api/v1/admin/accounts", "POST"): [{"username": "newcomer", "password": "a much longer new passphrase 2027",
                                         "guardian": True, "admin": False, "channels": ["staff"]}],
    ("/api/v1/admin/accounts/{id}", "PATCH"): [{"disabled": True}, {"channels": ["staff", "young"]}],
}


@st.composite
def valid_body(draw, world: World, bodies: list[dict]) -> dict:
    """A body the call accepts, as it is or with one member changed, dropped or added."""
    stand_ins = {"{receipt}": world.receipts[0], "{meta}": world.meta, "{ref}": world.refs[0]}

    def stood_in(value):
        if isinstance(value, list):
            return [stood_in(each) for each in value]
        return stand_ins.get(value, value) if isinstance(value, str) else value

    body = {key: stood_in(value) for key, value in draw(st.sampled_from(bodies)).items()}
    change = draw(st.sampled_from(["none", "none", "replace", "drop", "add"]))
    if change == "replace" and body:
        body[draw(st.sampled_from(sorted(body)))] = draw(json_values(world))
    elif change == "drop" and body:
        body.pop(draw(st.sampled_from(sorted(body))))
    elif change == "add":
        body[draw(TEXT)] = draw(json_values(world))
    return body


@st.composite
def json_body(draw, world: World, schema: dict, bodies: list[dict] | None = None) -> tuple[bytes, str]:
    """(body, content type): mostly a JSON object the call accepts with a change, or fitting its
    schema, with junk mixed in; often something worse."""
    shape = draw(st.sampled_from(["valid"] * (8 if bodies else 0) + ["fitting"] * 6 + ["junk members"] * 3
                                 + ["any", "deep", "bytes", "empty", "huge"]))
    if shape == "deep":
        depth = draw(st.integers(30, 200_000))
        opener = draw(st.sampled_from(["[", '{"a":', '{"text": [']))
        return (opener * depth).encode(), "application/json"
    if shape == "bytes":
        return draw(st.binary(max_size=64)), "application/json"
    if shape == "empty":
        return b"", "application/json"
    if shape == "huge":
        return b'{"text": "' + b"x" * 1_100_000 + b'"}', "application/json"
    if shape == "any":
        value = draw(json_values(world))
    elif shape == "valid":
        value = draw(valid_body(world, bodies))
    else:
        value = draw(from_schema(world, schema))
        if not isinstance(value, dict):
            value = {}
        if shape == "junk members":  # some members replaced by anything at all, some unknown ones added
            for key in draw(st.lists(st.sampled_from(sorted(schema.get("properties", {})) or ["text"]) | TEXT,
                                     max_size=3)):
                value[key] = draw(json_values(world))
    ascii_only = draw(st.booleans())
    content = json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    content_type = draw(st.sampled_from(["application/json"] * 20 + [
        "application/json; charset=utf-16", "application/json; charset=nope", "text/plain", "",
        "multipart/form-data; boundary=x", "application/x-www-form-urlencoded"]))
    return content, content_type


@st.composite
def form_body(draw, world: World, caller: Caller, path: str) -> tuple[bytes, str]:
    """(body, content type): urlencoded or multipart fields (mostly those of the rendered form that
    posts to `path`, with its values or text), with the caller's CSRF token most times."""
    names = weighted((6, st.sampled_from(world.field_names)), (1, TEXT))
    values = weighted((6, st.sampled_from(world.values)), (2, CLEAN_TEXT), (1, TEXT), (1, st.binary(max_size=16)),
                      (1, DIGITS), (1, HUGE_INTEGERS.map(str)))
    pairs = []
    form = world.forms.get(path.split("?")[0])
    if form and draw(weighted((4, st.just(True)), (1, st.just(False)))):
        for name, options in sorted(form.items()):
            if draw(weighted((4, st.just(True)), (1, st.just(False)))):
                own = st.sampled_from(options) if options else plausible_strings(world, name)
                pairs.append((name, draw(weighted((4, own), (1, values)))))
    pairs += draw(st.lists(st.tuples(names, values), max_size=3 if form else 8))
    if caller.csrf and draw(weighted((9, st.just(True)), (1, st.just(False)))):
        pairs.insert(0, ("csrf_token", caller.csrf))
    kind = draw(st.sampled_from(["urlencoded"] * 4 + ["multipart"] * 3 + ["junk", "none"]))
    if kind == "urlencoded":
        return _encode_pairs(pairs).encode("ascii"), "application/x-www-form-urlencoded"
    if kind == "junk":
        return draw(st.binary(max_size=64)), draw(st.sampled_from(
            ["application/x-www-form-urlencoded", "multipart/form-data; boundary=b", "multipart/form-data", "text/plain"]))
    if kind == "none":
        return b"", ""
    boundary = "fuzzboundary7MA4YWxkTrZu0gW"
    parts = []
    for name, value in pairs:
        raw = value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{_header_text(name)}"\r\n\r\n'.encode()
                     + raw + b"\r\n")
    for _ in range(draw(st.integers(0, 2))):
        filename = draw(st.one_of(st.sampled_from(["rota.pdf", "", "../../etc/passwd"]), TEXT))
        field_name = draw(st.sampled_from(["files", "attachments", "file"]))
        disposition = f'form-data; name="{field_name}"; filename="{_header_text(filename)}"'
        if draw(st.booleans()):
            disposition += "; filename*=UTF-8''" + _quote(filename)
        parts.append(f"--{boundary}\r\nContent-Disposition: {disposition}\r\nContent-Type: application/pdf\r\n\r\n".encode()
                     + draw(st.binary(max_size=300)) + b"\r\n")
    ending = draw(st.sampled_from([f"--{boundary}--\r\n".encode()] * 4 + [b"", f"--{boundary}".encode()]))
    return b"".join(parts) + ending, f"multipart/form-data; boundary={boundary}"


def _header_text(value: str) -> str:
    return value.encode("utf-8", "surrogatepass").decode("latin-1").replace('"', "%22").replace("\r", "").replace("\n", "")


# --- sending one request and checking the answer --------------------------------------------------

def _counts(world: World) -> dict[str, int]:
    query = " UNION ALL ".join(f"SELECT '{name}', count(*) FROM {name}" for name in world.tables)
    return dict(world.dbsession.execute(text(query)).all())


class _ErrorLog(logging.Handler):
    """What the error edge logged (the exception's type and frames, never its message)."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())


ERROR_LOG = _ErrorLog()
logging.getLogger("whistle.errors.views").addHandler(ERROR_LOG)


def send(world: World, caller: Caller, route: tuple[str, str, str], path: str, method: str, body: bytes,
         content_type: str, extra_headers: dict) -> None:
    headers = dict(caller.headers, **extra_headers)
    if content_type:
        headers["Content-Type"] = content_type
    request = TestRequest.blank(path, environ=dict(world.app.extra_environ), method=method, headers=headers)
    if method not in ("GET", "DELETE") or body:
        request.body = body
    savepoint = world.dbsession.begin_nested()
    try:
        before = _counts(world)
        world.watch.doomed = False
        ERROR_LOG.messages.clear()
        TALLY["requests"] += 1
        try:
            response = world.app.do_request(request, status="*", expect_errors=True)
        except Exception as error:  # escaped every error view: the server would answer 500
            TALLY["5xx"] += 1
            raise AssertionError(f"500 for {method} {path[:200]!r} as {caller.name}: {type(error).__name__}") from error
        status = response.status_int
        TALLY[f"{status // 100}xx"] += 1
        if os.environ.get("WHISTLE_TEST_FUZZ_COVERAGE"):
            COVERAGE[(route[0], method, caller.name, status)] += 1
        where = f"{method} {path[:200]!r} as {caller.name}"
        assert status < 500, f"{status} for {where}\n" + "\n".join(ERROR_LOG.messages[-1:])
        if path.startswith("/api/") and status >= 400:
            assert response.content_type == PROBLEM_JSON, f"{response.content_type} for {where}"
            assert response.json["status"] == status, where
        if 400 <= status < 500 and not world.watch.doomed and not request.environ.get(RAISED):
            after = _counts(world)
            changed = {name for name in world.tables if before[name] != after[name]}
            if route[0] in REFUSALS_THAT_RECORD:
                changed -= RECORDING_TABLES
            assert not changed, f"{status} for {where} changed {sorted(changed)}"
    finally:
        savepoint.rollback()


FUZZ = hypothesis_settings(max_examples=EXAMPLES, deadline=None,
                           suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                                  HealthCheck.data_too_large])
OTHER_METHODS = st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE"])
# The endpoint groups, by path prefix, each with the callers it is for (they get 4 in 5 of its
# requests; everyone else tries the rest).
API_GROUPS = {
    "public API": (("/api/v1/disclosures", "/api/v1/channels", "/api/v1/openapi", "/api/v1/reporter/session",
                    "/api/v1/staff/session", "/api/v1/board"), ["anonymous"]),
    "reporter API": (("/api/v1/reporter/",), ["reporter_bearer", "reporter_e2e_bearer"]),
    "workspace API": (("/api/v1/cases", "/api/v1/learning/", "/api/v1/staffing-changes", "/api/v1/surges/"),
                      ["guardian_bearer"]),
    "staff, admin and integration API": (("/api/v1/staff/", "/api/v1/admin/", "/api/v1/personnel-events"),
                                         ["guardian_bearer", "admin_bearer", "integration"]),
}
PAGE_GROUPS = {
    "public pages": (("/report/", "/mailbox", "/staff/login", "/staff/forgot-password", "/staff/reset-authenticator",
                      "/healthz", "/readyz", "/metrics", "/exit", "/board", "/i18n/"), ["anonymous"]),
    "mailbox pages": (("/mailbox/",), ["reporter_cookie"]),
    "workspace pages": (("/staff/cases",), ["guardian_cookie"]),
    "staff and admin pages": (("/staff/", "/admin"), ["guardian_cookie", "admin_cookie"]),
}
API_CALLERS = ["anonymous", "guardian_bearer", "admin_bearer", "reporter_bearer", "reporter_e2e_bearer", "integration"]
PAGE_CALLERS = ["anonymous", "guardian_cookie", "admin_cookie", "reporter_cookie"]


def _routes_of(routes, prefixes):
    own = [route for route in routes if route[1] == "/" or route[1].startswith(prefixes)]
    return [route for route in own if route[1] != "/" or "/report/" in prefixes]


def _draw_caller(data, owners, everyone):
    if data.draw(weighted((4, st.just(True)), (1, st.just(False))), label="owner?"):
        return data.draw(st.sampled_from(owners), label="caller")
    return data.draw(st.sampled_from(everyone), label="caller")


def _draw_method(data, route):
    return data.draw(weighted((6, st.just(route[2])), (1, OTHER_METHODS)), label="method")


@pytest.mark.slow
@pytest.mark.parametrize("group", sorted(API_GROUPS))
def test_every_json_endpoint(world, group):
    prefixes, owners = API_GROUPS[group]
    routes = _routes_of(world.api_routes, prefixes)
    assert routes, group

    @FUZZ
    @given(data=st.data())
    def fuzz(data):
        caller = world.callers[_draw_caller(data, owners, API_CALLERS)]
        route = data.draw(st.sampled_from(routes), label="route")
        method = _draw_method(data, route)
        openapi_path = PLACEHOLDER.sub(lambda m: "{" + (m.group(1) or "subpath") + "}", route[1])
        path = data.draw(fill_path(world, route[1]), label="path")
        path += data.draw(query_string(world, world.parameters.get((openapi_path, method), [])), label="query")
        schema = world.schemas.get((openapi_path, method), {"type": "object", "properties": {}})
        body, content_type = data.draw(json_body(world, schema, world.bodies.get((openapi_path, method))), label="body")
        extra = {}
        if data.draw(weighted((1, st.just(True)), (19, st.just(False))), label="odd Authorization?"):
            extra["Authorization"] = data.draw(st.sampled_from(["Bearer ", "Bearer x", "Basic abc", "bearer  " + "A" * 43]))
        if route[0] == "api.reporter_upload_chunk" and data.draw(weighted((4, st.just(True)), (1, st.just(False))),
                                                                  label="binary chunk?"):
            body = data.draw(weighted((3, st.sampled_from(world.chunks)), (2, st.binary(max_size=300)),
                                      (1, st.integers(0, 70_000).map(lambda n: bytes(n)))), label="chunk")
            content_type = data.draw(st.sampled_from(["application/octet-stream"] * 6 + ["", "text/plain"]))
        elif route[0] == "api.reporter_attachments" or data.draw(weighted((1, st.just(True)), (9, st.just(False))),
                                                                  label="X-Filename?"):
            extra["X-Filename"] = _quote(data.draw(TEXT | st.sampled_from(["rota.pdf", ""])))
            if data.draw(st.booleans()):
                body, content_type = data.draw(st.binary(max_size=300)), data.draw(st.sampled_from(
                    ["application/pdf", "text/html", "", "image/png; x=y"]))
        send(world, caller, route, path, method, body, content_type, extra)

    fuzz()


@pytest.mark.slow
@pytest.mark.parametrize("group", sorted(PAGE_GROUPS))
def test_every_page_and_form(world, group):
    prefixes, owners = PAGE_GROUPS[group]
    routes = _routes_of(world.page_routes, prefixes)
    assert routes, group

    @FUZZ
    @given(data=st.data())
    def fuzz(data):
        caller = world.callers[_draw_caller(data, owners, PAGE_CALLERS)]
        route = data.draw(st.sampled_from(routes), label="route")
        method = _draw_method(data, route)
        path = data.draw(fill_path(world, route[1]), label="path")
        path += data.draw(query_string(world, world.field_names), label="query")
        body, content_type = (data.draw(form_body(world, caller, path), label="body") if method != "GET" else (b"", ""))
        send(world, caller, route, path, method, body, content_type, {})

    fuzz()


def test_the_groups_cover_every_route(world):
    grouped = {route for prefixes, _ in API_GROUPS.values() for route in _routes_of(world.api_routes, prefixes)}
    grouped |= {route for prefixes, _ in PAGE_GROUPS.values() for route in _routes_of(world.page_routes, prefixes)}
    assert set(world.api_routes) | set(world.page_routes) == grouped
