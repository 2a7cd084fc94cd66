"""The reporter's say after sending: withdrawing the report, answering "would you speak up again?"
when it is closed, and agreeing to be quoted on the "you said, we did" board; as forms and as JSON."""
from __future__ import annotations

from datetime import timedelta

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.renderers import render_to_response
from pyramid.view import view_config

from whistle.attachments.uploads import MalformedForm, csrf_ok
from whistle.cases import lifecycle
from whistle.errors import Problem, validation_problem
from whistle.intake.forms import wants_plain
from whistle.jsonapi import read_json, reject_unknown_members
from whistle.reporters.services import withdraw_report
from whistle.reporters.views import login_page, read_fields, reporter
from whistle.security.permissions import Permission

WITHDRAW_TEMPLATE = "whistle:templates/reporters/withdraw.jinja2"
ENDED = "Your visit had ended. Enter your receipt to continue."
ALREADY_CLOSED = ("This report is closed already, so it cannot be withdrawn. You can still read it, and it will be "
                  "deleted when the organisation's rules say.")
WITHDRAW_EXPIRED = "This page had expired, so your report was not withdrawn. If you still want to, confirm again."
CONFIRM_NEEDED = "Tick the box to confirm that you want to withdraw your report."


def deleted_after(channel) -> int:
    """How many days after withdrawal the channel keeps a withdrawn report (0: at once)."""
    return max(0, channel.retention_withdrawn_days or 0)


def withdraw_page(request, identity, *, status: int = 200, errors: dict | None = None):
    case = identity.case
    days = deleted_after(case.channel)
    page = {"channel": case.channel, "case": case, "errors": errors or {}, "days": days,
            "delete_by": request.clock.today() + timedelta(days=days),
            "closed": case.status == lifecycle.CLOSED, "plain": wants_plain(case.channel)}
    response = render_to_response(WITHDRAW_TEMPLATE, page, request=request)
    response.status = status
    return response


@view_config(route_name="reporters.withdraw", request_method="GET", permission=Permission.MAILBOX_VISIT)
def withdraw_form(request):
    identity = reporter(request)
    if identity is None:
        return login_page(request, notice="Your visit has ended. Enter your receipt to open your report again.")
    return withdraw_page(request, identity)


@view_config(route_name="reporters.withdraw", request_method="POST", permission=Permission.MAILBOX_VISIT,
             require_csrf=False)
def withdraw_submit(request):
    identity = reporter(request)
    if identity is None:
        return login_page(request, status=401, notice=ENDED)
    try:
        fields = read_fields(request)
    except MalformedForm as error:
        return withdraw_page(request, identity, status=400, errors={"form": str(error)})
    if not csrf_ok(request, fields.get("csrf_token")):
        return withdraw_page(request, identity, status=400, errors={"form": WITHDRAW_EXPIRED})
    if fields.get("confirm") != "yes":
        return withdraw_page(request, identity, status=422, errors={"confirm": CONFIRM_NEEDED})
    try:
        withdraw_report(request.dbsession, request.clock, identity.case, call_hook=request.call_hook)
    except lifecycle.AlreadyClosed:
        return withdraw_page(request, identity, status=409, errors={"form": ALREADY_CLOSED})
    return HTTPSeeOther(request.route_url("reporters.case", _anchor="withdrawn"))


@view_config(route_name="api.reporter_withdrawal", request_method="POST", renderer="json",
             permission=Permission.MAILBOX_CIPHERTEXT)
def api_withdraw(request):
    """{"confirm": true}: withdraw the report (no content, so either kind of reporter session)."""
    data = read_json(request)
    errors = reject_unknown_members(data, {"confirm"})
    if data.get("confirm") is not True:
        errors["confirm"] = "Give true to withdraw the report (it cannot be undone)."
    if errors:
        raise validation_problem(errors)
    case = request.identity.case
    try:
        withdraw_report(request.dbsession, request.clock, case, call_hook=request.call_hook)
    except lifecycle.AlreadyClosed:
        raise Problem(409, ALREADY_CLOSED, type=CLOSED_PROBLEM, title="Report closed") from None
    return {"status": case.status, "withdrawn_on": case.withdrawn_on}


CLOSED_PROBLEM = "/api/v1/problems/closed"
