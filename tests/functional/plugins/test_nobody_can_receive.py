"""A report nobody who receives the channel's reports could read is refused, its words given back.

Routing decides at the moment the case is opened, inside the transaction: when the plugins leave
out every guardian of the channel's tiers (the conflicts plugin over-matches on purpose: a child
writing about "Mr Okafor" also leaves out p.okafor), or the last one was disabled while the
reporter wrote, the case would be sealed to the reporter alone, and nobody could ever be granted
it. So it is refused as a channel nobody attends is: 409, nothing kept, the words given back.
"""
from __future__ import annotations

import io
import uuid
from dataclasses import replace

import jsonschema
from sqlalchemy import func, select
from webob import Request
from webtest import TestApp

from tests.factories import make_channel, make_staff
from tests.functional.reporters.helpers import RECEIPT
from whistle.audit.models import AuditEvent
from whistle.cases.models import HOLDER_GUARDIAN, Case, CaseGrant, CaseItem
from whistle.config import make_configurator
from whistle.settings import load_settings

TEXT = "Mr Okafor the PE teacher grabbed my arm really hard and it still hurts."


def schema_of(app, name: str) -> dict:
    document = app.get("/api/v1/openapi.json").json
    return {"$ref": f"#/components/schemas/{name}", "components": document["components"]}


def test_a_report_that_leaves_out_every_guardian_is_refused_and_its_words_given_back(
        plugin_app, dbsession, settings, clock):
    make_channel(dbsession, "youth", title="Young voices", wording={"plain": True}, questionnaire=[],
                 identity_modes=["anonymous"])
    make_channel(dbsession, "staff", title="Raise a concern")
    make_staff(dbsession, settings, clock, "p.okafor", channels=["youth"])
    make_staff(dbsession, settings, clock, "s.keeper", channels=["staff"])
    app = plugin_app(["conflicts"], plaintext=["conflicts"])

    form = app.get("/report/youth").forms[0]
    form["text"] = TEXT
    page = form.submit(status=409)
    assert RECEIPT.search(page.text) is None and "Someone will answer by" not in page.text
    assert "nothing you wrote has been sent or kept" in page.text
    assert page.html.find("textarea", id="typed").text == TEXT
    assert page.html.find("a", string="Raise a concern")["href"] == "/report/staff"
    assert page.html.find("a", string="Young voices") is None, "not offered the channel that just refused it"


def test_the_api_refuses_it_with_a_problem_of_its_own_type(plugin_app, dbsession, settings, clock):
    make_channel(dbsession, "youth")
    make_staff(dbsession, settings, clock, "p.okafor", channels=["youth"])
    app = plugin_app(["conflicts"], plaintext=["conflicts"])

    refused = app.post_json("/api/v1/disclosures", {"channel": "youth", "text": TEXT, "answers": {"ongoing": "yes"}},
                            status=409)
    problem = refused.json
    assert refused.content_type == "application/problem+json"
    assert problem["type"] == "/api/v1/problems/nobody-can-receive" and problem["channel"] == "youth"
    assert "receipt" not in problem and "okafor" not in refused.text.lower()
    jsonschema.validate(problem, schema_of(app, "NobodyCanReceive"))


class _DisablesOnFirstRead(io.BytesIO):
    """The request body; its first read (the form being parsed) comes after the check that the
    channel is attended, and is where the last guardian is disabled."""

    def __init__(self, body: bytes, disable) -> None:
        super().__init__(body)
        self.disable = disable

    def read(self, *args):
        if self.disable is not None:
            self.disable()
            self.disable = None
        return super().read(*args)


def _multipart(fields: dict[str, str]) -> tuple[str, bytes]:
    boundary = uuid.uuid4().hex
    body = b"".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
                    for name, value in fields.items()) + f"--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", body


def test_a_guardian_disabled_while_the_form_is_read_leaves_no_unreadable_case(app, testapp, tm, dbsession, settings,
                                                                               clock):
    make_channel(dbsession, "staff")
    keeper = make_staff(dbsession, settings, clock, "race.keeper", channels=["staff"])
    form = testapp.get("/report/staff").forms[0]
    content_type, body = _multipart({
        "csrf_token": form["csrf_token"].value, "submission_token": form["submission_token"].value,
        "text": TEXT, "answers.ongoing": "yes", "identity_mode": "anonymous"})

    def disable():
        keeper.account.disabled = True
        dbsession.flush()

    request = Request.blank("/report/staff", method="POST", environ={
        "HTTP_HOST": "example.com", "tm.active": True, "tm.manager": tm, "app.dbsession": dbsession,
        "CONTENT_TYPE": content_type, "CONTENT_LENGTH": str(len(body)),
        "HTTP_COOKIE": "; ".join(f"{c.name}={c.value}" for c in testapp.cookiejar)})
    request.environ["wsgi.input"] = _DisablesOnFirstRead(body, disable)
    response = request.get_response(app)

    assert response.status_int == 409 and TEXT in response.text
    stored = dbsession.scalars(select(Case)).all()
    readable = [case for case in stored if dbsession.scalars(select(CaseGrant).where(
        CaseGrant.case_id == case.id, CaseGrant.holder == HOLDER_GUARDIAN)).first() is not None]
    assert stored == readable, "stored a case nobody can read"


def test_nothing_of_a_refused_report_is_kept(committed_database, clock):
    """On a database the app really commits to: the refusal leaves no case, no item and no audit
    event (one naming the refusal would tell an excluded guardian who is also an admin that a
    report about them was tried)."""
    raw = committed_database("refused")
    settings = replace(load_settings(raw, environ={}), plugins=("conflicts",), plugins_plaintext=("conflicts",))
    wsgi = make_configurator(raw, settings=settings, clock=clock).make_wsgi_app()
    with wsgi.registry["dbsession_factory"]() as dbsession, dbsession.begin():
        make_channel(dbsession, "youth")
        make_staff(dbsession, settings, clock, "p.okafor", channels=["youth"])
    with wsgi.registry["dbsession_factory"]() as dbsession:
        events_before = dbsession.scalar(select(func.count()).select_from(AuditEvent))

    app = TestApp(wsgi, extra_environ={"HTTP_HOST": "example.com"})
    app.post_json("/api/v1/disclosures", {"channel": "youth", "text": TEXT, "answers": {"ongoing": "yes"}}, status=409)
    form = app.get("/report/youth").forms[0]
    form["text"] = TEXT
    form["answers.ongoing"] = "yes"
    assert TEXT in form.submit(status=409).text

    with wsgi.registry["dbsession_factory"]() as dbsession:
        assert dbsession.scalar(select(func.count()).select_from(Case)) == 0
        assert dbsession.scalar(select(func.count()).select_from(CaseItem)) == 0
        assert dbsession.scalar(select(func.count()).select_from(AuditEvent)) == events_before
    wsgi.registry["db_engine"].dispose()
