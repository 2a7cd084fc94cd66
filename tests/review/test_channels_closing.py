"""Review: what a reporter meets when a channel closes, or is closed while they write.

- The API's 409 tells any anonymous caller why a channel is closed in staff terms ("every
  guardian of it is disabled"), which the form page deliberately does not: that the only
  safeguarding lead was suspended is not the public's business.
- The "not open" page of a channel that asks for a quick exit and a help panel (the young
  people's channel) shows neither, though every page its reporters see must have them.
- A channel set inactive while someone writes answers the post with a bare 404 error page:
  what they wrote is gone, unlike the "not open" page, which gives the words back.
- The check that a channel is attended runs before the form is read, the grants after: a
  guardian disabled in between (a long post on a slow phone, a concurrent admin) leaves a case
  stored that nobody can read, and the reporter is given a receipt and a promised answer date.
"""
from __future__ import annotations

import io
import uuid

from sqlalchemy import select
from webob import Request

from tests.factories import make_channel, make_staff
from whistle.cases.models import HOLDER_GUARDIAN, Case, CaseGrant

HELP_NOW = {"title": "Need help now?", "lines": [{"text": "Call Childline on 0800 1111.", "link": "tel:08001111"}]}
TEXT = "The older boys lock me in the shed after school."


def test_the_api_does_not_tell_the_public_about_staff_accounts(testapp, dbsession, settings, clock):
    make_channel(dbsession, "youth")
    lead = make_staff(dbsession, settings, clock, "only.lead", channels=["youth"])
    lead.account.disabled = True  # suspended, say
    dbsession.flush()

    problem = testapp.post_json("/api/v1/disclosures", {"channel": "youth", "text": TEXT,
                                                        "answers": {"ongoing": "yes"}}, status=409).json
    said = " ".join(str(value) for value in problem.values()).lower()
    assert "disabled" not in said and "guardian" not in said, f"told to an anonymous caller: {problem}"


class _DisablesOnFirstRead(io.BytesIO):
    """The request body; the first read (the form being parsed) happens after the check that the
    channel is attended, and is where the last guardian is disabled."""

    def __init__(self, body: bytes, disable) -> None:
        super().__init__(body)
        self.disable = disable

    def read(self, *args):
        if self.disable is not None:
            self.disable()
            self.disable = None
        return super().read(*args)


def test_a_guardian_disabled_while_the_form_is_read_does_not_leave_an_unreadable_case(
        app, testapp, tm, dbsession, settings, clock):
    make_channel(dbsession, "staff")
    keeper = make_staff(dbsession, settings, clock, "race.keeper", channels=["staff"])
    form = testapp.get("/report/staff").forms[0]
    fields = {"csrf_token": form["csrf_token"].value, "submission_token": form["submission_token"].value,
              "text": TEXT, "answers.ongoing": "yes", "identity_mode": "anonymous"}
    boundary = uuid.uuid4().hex
    body = b"".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
                    for name, value in fields.items()) + f"--{boundary}--\r\n".encode()

    def disable():
        keeper.account.disabled = True
        dbsession.flush()

    request = Request.blank("/report/staff", method="POST", environ={
        "HTTP_HOST": "example.com", "tm.active": True, "tm.manager": tm, "app.dbsession": dbsession,
        "CONTENT_TYPE": f"multipart/form-data; boundary={boundary}", "CONTENT_LENGTH": str(len(body)),
        "HTTP_COOKIE": "; ".join(f"{c.name}={c.value}" for c in testapp.cookiejar)})
    request.environ["wsgi.input"] = _DisablesOnFirstRead(body, disable)
    response = request.get_response(app)

    stored = dbsession.scalars(select(Case)).all()
    readable = [case for case in stored if dbsession.scalars(select(CaseGrant).where(
        CaseGrant.case_id == case.id, CaseGrant.holder == HOLDER_GUARDIAN)).first() is not None]
    assert stored == readable, (
        f"answered {response.status_int} and stored a case nobody can read (the reporter was promised an answer)")
