"""The reporter's say after sending: withdrawing the report, answering "would you speak up again?"
when it is closed, and agreeing to be quoted on the "you said, we did" board; as forms and as JSON."""
from __future__ import annotations

from datetime import timedelta

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.i18n import TranslationString
from pyramid.renderers import render_to_response
from pyramid.view import view_config

from whistle.attachments.uploads import MalformedForm, csrf_ok
from whistle.board import services as board
from whistle.cases import lifecycle
from whistle.errors import Problem, validation_problem
from whistle.i18n import _
from whistle.intake.forms import wants_plain
from whistle.intake_channels.services import ChannelText
from whistle.jsonapi import read_json, reject_unknown_members
from whistle.reporters.identity import ReporterE2EIdentity, ReporterIdentity
from whistle.reporters.services import (
    SPEAK_UP_ANSWERS,
    NotAsked,
    answer_speak_up,
    speak_up_asked,
    unlock_for_reporter,
    withdraw_report,
)
from whistle.reporters.views import (
    VISIT_ENDED,
    VISIT_HAD_ENDED,
    case_page,
    client_item,
    login_page,
    read_fields,
    reporter,
)
from whistle.security.permissions import Permission

WITHDRAW_TEMPLATE = "whistle:templates/reporters/withdraw.jinja2"
ENDED = VISIT_HAD_ENDED
ALREADY_CLOSED = _("This report is closed already, so it cannot be withdrawn. You can still read it, and it will be "
                   "deleted when the organisation's rules say.")
WITHDRAW_EXPIRED = _("This page had expired, so your report was not withdrawn. If you still want to, confirm again.")
CONFIRM_NEEDED = _("Tick the box to confirm that you want to withdraw your report.")


def deleted_after(channel) -> int:
    """How many days after withdrawal the channel keeps a withdrawn report (0: at once)."""
    return max(0, channel.retention_withdrawn_days or 0)


def withdraw_page(request, identity, *, status: int = 200, errors: dict | None = None):
    case = identity.case
    days = deleted_after(case.channel)
    page = {"channel": ChannelText(case.channel, request.language.code), "case": case, "errors": errors or {},
            "days": days,
            "delete_by": request.clock.today() + timedelta(days=days),
            "closed": case.status == lifecycle.CLOSED, "plain": wants_plain(case.channel)}
    response = render_to_response(WITHDRAW_TEMPLATE, page, request=request)
    response.status = status
    return response


@view_config(route_name="reporters.withdraw", request_method="GET", permission=Permission.MAILBOX_VISIT)
def withdraw_form(request):
    identity = reporter(request)
    if identity is None:
        return login_page(request, notice=VISIT_ENDED)
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


# --- "would you speak up again?" ----------------------------------------------------------------

SPEAK_UP_EXPIRED = _("This page had expired, so your answer was not sent. Check it below and send it again.")
NOT_ASKED = _("This question is asked once your report is closed (and not if you withdrew it).")
CHOOSE_ANSWER = _("Choose yes, no or not sure.")


def _comment_too_long(request, comment: str) -> TranslationString | None:
    limit = request.whistle_settings.max_text_chars
    return (_("Your comment can be at most ${limit} characters.", mapping={"limit": limit})
            if len(comment) > limit else None)


@view_config(route_name="reporters.speak_up", request_method="POST", permission=Permission.MAILBOX_VISIT,
             require_csrf=False)
def speak_up_submit(request):
    """The answer (yes / no / not sure) and an optional comment, which the server encrypts to the
    case key at once (read through form_parts, never request.POST)."""
    identity = reporter(request)
    if identity is None:
        return login_page(request, status=401, notice=ENDED)
    try:
        fields = read_fields(request)
    except MalformedForm as error:
        return case_page(request, identity, status=400, errors={"speak_up_form": str(error)}, mark_seen=False)
    values = {"answer": fields.get("answer", ""), "comment": fields.get("comment", "")}
    if not csrf_ok(request, fields.get("csrf_token")):
        return case_page(request, identity, status=400, mark_seen=False, speak_up_values=values,
                         errors={"speak_up_form": SPEAK_UP_EXPIRED})
    if not speak_up_asked(identity.case):
        return case_page(request, identity, status=409, mark_seen=False, speak_up_values=values,
                         errors={"speak_up_form": NOT_ASKED})
    errors = {}
    if values["answer"] not in SPEAK_UP_ANSWERS:
        errors["answer"] = CHOOSE_ANSWER
    if too_long := _comment_too_long(request, values["comment"]):
        errors["comment"] = too_long
    if errors:
        return case_page(request, identity, status=422, mark_seen=False, speak_up_values=values, errors=errors)
    keys = unlock_for_reporter(request.dbsession, identity.case, identity.keypair,
                               server_key=request.whistle_settings.session_key)
    answer_speak_up(request.dbsession, request.clock, identity.case, values["answer"], keys=keys,
                    comment=values["comment"].strip())
    return HTTPSeeOther(request.route_url("reporters.case", _anchor="speak-up"))


@view_config(route_name="api.reporter_speak_up", request_method="POST", renderer="json",
             permission=Permission.MAILBOX_CIPHERTEXT)
def api_speak_up(request):
    """{"answer", "comment"?}: the server encrypts the comment (a session that holds the reporter's
    key only); {"answer", "item"?}: a speak-up-comment item the device encrypted (either kind)."""
    data = read_json(request)
    identity = request.identity
    errors = reject_unknown_members(data, {"answer", "comment", "item"})
    if data.get("answer") not in SPEAK_UP_ANSWERS:
        errors["answer"] = f"Give one of: {', '.join(SPEAK_UP_ANSWERS)}."
    if "comment" in data and "item" in data:
        errors["item"] = "Give the comment as text or as an item, not both."
    comment = data.get("comment", "")
    if not isinstance(comment, str):
        errors["comment"] = "Give the comment as a string."
    elif too_long := _comment_too_long(request, comment):
        errors["comment"] = too_long
    if errors:
        raise validation_problem(errors)
    item = client_item(data, "item", request.whistle_settings.max_text_chars * 4) if "item" in data else None
    keys = None
    if comment.strip():
        if not isinstance(identity, ReporterIdentity):
            raise Problem(403, ReporterE2EIdentity.forbidden_detail)
        keys = unlock_for_reporter(request.dbsession, identity.case, identity.keypair,
                                   server_key=request.whistle_settings.session_key)
    try:
        answer_speak_up(request.dbsession, request.clock, identity.case, data["answer"], keys=keys,
                        comment=comment.strip(), item=item)
    except NotAsked:
        raise Problem(409, NOT_ASKED, type=NOT_ASKED_PROBLEM, title="Not asked yet") from None
    return {"speak_up_again": identity.case.speak_up_again}


NOT_ASKED_PROBLEM = "/api/v1/problems/speak-up-not-asked"


# --- the "you said, we did" board: may the organisation quote the reporter's words? ---------------

CONSENT_EXPIRED = _("This page had expired, so your choice was not saved. Please choose again.")


@view_config(route_name="reporters.board_consent", request_method="POST", permission=Permission.MAILBOX_VISIT,
             require_csrf=False)
def board_consent_submit(request):
    """The box ticked (yes) or not (no): changeable until an entry about the idea is published."""
    identity = reporter(request)
    if identity is None:
        return login_page(request, status=401, notice=ENDED)
    try:
        fields = read_fields(request)
    except MalformedForm as error:
        return case_page(request, identity, status=400, errors={"board_form": str(error)}, mark_seen=False)
    if not csrf_ok(request, fields.get("csrf_token")):
        return case_page(request, identity, status=400, mark_seen=False, errors={"board_form": CONSENT_EXPIRED})
    try:
        board.set_consent(request.dbsession, request.clock, identity.case, fields.get("consent") == "yes")
    except Problem as problem:
        return case_page(request, identity, status=problem.status, mark_seen=False,
                         errors={"board_form": problem.detail})
    return HTTPSeeOther(request.route_url("reporters.case", _anchor="board"))


@view_config(route_name="api.reporter_board_consent", request_method="POST", renderer="json",
             permission=Permission.MAILBOX_CIPHERTEXT)
def api_board_consent(request):
    """{"consent": true | false} (no content, so either kind of reporter session)."""
    data = read_json(request)
    errors = reject_unknown_members(data, {"consent"})
    if not isinstance(data.get("consent"), bool):
        errors["consent"] = "Give true (the board may quote your words) or false."
    if errors:
        raise validation_problem(errors)
    board.set_consent(request.dbsession, request.clock, request.identity.case, data["consent"])
    return {"board_consent": request.identity.case.board_consent}
