"""Retaliation watch in the reporter's mailbox: asking for it (consent), and the check-in questions,
as forms and as JSON."""
from __future__ import annotations

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config

from whistle.attachments.uploads import MalformedForm, csrf_ok
from whistle.errors import Problem, validation_problem
from whistle.i18n import _
from whistle.jsonapi import read_json, reject_unknown_members
from whistle.numbers import whole_number
from whistle.protection import services
from whistle.reporters.views import VISIT_HAD_ENDED, login_page, read_fields, reporter
from whistle.reporters.views import case_page as reporter_case_page
from whistle.security.permissions import Permission

NOT_FOR_THIS_CHANNEL = _("Retaliation watch is for staff, and this channel is not for staff.")


def _reporter_form(request, error_key: str):
    """(identity, fields) or a response: the login page if the visit ended, the case page if the form expired."""
    identity = reporter(request)
    if identity is None:
        return None, login_page(request, status=401, notice=VISIT_HAD_ENDED)
    try:
        fields = read_fields(request)
    except MalformedForm as error:
        return None, reporter_case_page(request, identity, status=400, errors={error_key: str(error)}, mark_seen=False)
    if not csrf_ok(request, fields.get("csrf_token")):
        return None, reporter_case_page(request, identity, status=400, mark_seen=False,
                                        errors={error_key: _("This page had expired. Please answer again.")})
    return (identity, fields), None


@view_config(route_name="reporters.protection_consent", request_method="POST", permission=Permission.MAILBOX_VISIT,
             require_csrf=False)
def consent_form(request):
    got, response = _reporter_form(request, "consent_form")
    if response is not None:
        return response
    identity, fields = got
    if identity.case.channel.reporters_are_staff is False:
        return reporter_case_page(request, identity, status=409, mark_seen=False,
                                  errors={"consent_form": NOT_FOR_THIS_CHANNEL})
    if fields.get("consent") != "yes":
        return reporter_case_page(request, identity, status=422, mark_seen=False,
                                  errors={"consent": _("Tick the box if you want this.")})
    services.give_consent(request.dbsession, request.clock, identity.case)
    return HTTPSeeOther(request.route_url("reporters.case", _anchor="retaliation-watch"))


def _month_or_none(month: str) -> int:
    """The check-in month the form names, or -1 (due never) for anything that is not a small number."""
    number = whole_number(month, max_digits=3)
    return -1 if number is None else number


@view_config(route_name="reporters.checkins", request_method="POST", permission=Permission.MAILBOX_VISIT,
             require_csrf=False)
def checkin_form(request):
    got, response = _reporter_form(request, "checkin_form")
    if response is not None:
        return response
    identity, fields = got
    month, detriment = fields.get("month", ""), {"yes": True, "no": False}.get(fields.get("detriment", ""))
    if detriment is None:
        return reporter_case_page(request, identity, status=422, mark_seen=False,
                                  errors={"detriment": _("Choose yes or no.")})
    try:
        services.answer_checkin(request.dbsession, request.whistle_settings, request.clock, identity.case,
                                _month_or_none(month), detriment, call_hook=request.call_hook)
    except services.CheckInNotDue:
        return reporter_case_page(request, identity, status=409, mark_seen=False,
                                  errors={"checkin_form": _("You have already answered this question.")})
    return HTTPSeeOther(request.route_url("reporters.case", _anchor="retaliation-watch"))


@view_config(route_name="api.reporter_checkins", request_method="POST", renderer="json",
             permission=Permission.MAILBOX_USE)
def api_checkin(request):
    data = read_json(request)
    errors = reject_unknown_members(data, {"month", "detriment"})
    if data.get("month") not in _state(request, request.identity.case).due or isinstance(data.get("month"), bool):
        errors["month"] = "Give the month of a due check-in (see checkins_due)."
    if not isinstance(data.get("detriment"), bool):
        errors["detriment"] = "Give true or false."
    if errors:
        raise validation_problem(errors)
    try:
        services.answer_checkin(request.dbsession, request.whistle_settings, request.clock, request.identity.case,
                                data["month"], data["detriment"], call_hook=request.call_hook)
    except services.CheckInNotDue:
        raise validation_problem({"month": "No check-in is due for that month (see checkins_due)."}) from None
    return {"checkins_due": list(_state(request, request.identity.case).due)}


@view_config(route_name="api.reporter_protection_consent", request_method="POST", renderer="json",
             permission=Permission.MAILBOX_USE)
def api_consent(request):
    data = read_json(request)
    errors = reject_unknown_members(data, {"consent"})
    if data.get("consent") is not True:
        errors["consent"] = "Give true to ask the guardians to watch for retaliation (it cannot be taken back here)."
    if errors:
        raise validation_problem(errors)
    if request.identity.case.channel.reporters_are_staff is False:
        raise Problem(409, NOT_FOR_THIS_CHANNEL)
    services.give_consent(request.dbsession, request.clock, request.identity.case)
    return {"protection_consent": True}


def _state(request, case) -> services.CheckInState:
    return services.checkins(request.dbsession, request.whistle_settings, case, request.clock.today())
