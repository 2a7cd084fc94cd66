"""Retaliation watch: HR events (API), the guardian's protection form, the reporter's consent and check-ins."""
from __future__ import annotations

from pyramid.httpexceptions import HTTPFound, HTTPSeeOther
from pyramid.view import view_config

from whistle.attachments.uploads import MalformedForm, csrf_ok
from whistle.workspace.views import case_page as guardian_case_page
from whistle.errors import Problem, validation_problem
from whistle.jsonapi import read_json, reject_unknown_members
from whistle.protection import services
from whistle.protection.forms import validate_event, validate_protection
from whistle.reporters.views import case_page as reporter_case_page, login_page, read_fields, reporter
from whistle.security.acl import CaseContext
from whistle.security.permissions import Permission

NOT_FOR_THIS_CHANNEL = "Retaliation watch is for staff, and this channel is not for staff."
CHECKIN_QUESTION = ("Since you spoke up, has anything bad happened to you at work because of it? For example being "
                    "dismissed, suspended or demoted, losing pay, hours, training or a promotion, being moved, "
                    "disciplined, given a bad appraisal, or being bullied or left out.")


# --- HR integrations -------------------------------------------------------------------------

@view_config(route_name="api.personnel_events", request_method="POST", renderer="json",
             permission=Permission.PERSONNEL_EVENTS_POST)
def personnel_event(request):
    data = read_json(request)
    errors = reject_unknown_members(data, {"personnel_id", "type", "effective"})
    clean, field_errors = validate_event(data)
    errors.update(field_errors)
    if errors:
        raise validation_problem(errors)
    services.receive_personnel_event(request, request.identity.integration_id, clean["personnel_id"], clean["type"],
                                     clean["effective"])
    # The same answer whether or not anyone is protected: HR learns nothing from it.
    request.response.status = 202
    return {"status": "accepted"}


# --- the guardian's case page ----------------------------------------------------------------

@view_config(route_name="cases.protections", request_method="POST", permission=Permission.CASE_WRITE)
def register_protection(context: CaseContext, request):
    case = context.case
    fields = {key: request.POST.get(key, "") for key in ("personnel_id", "starts_on", "window_months")}
    if not case.protection_consent:
        problem = Problem(409, "The reporter has not asked for retaliation watch, so no protection can be registered.")
    else:
        clean, errors = validate_protection(fields, request.clock.today())
        problem = validation_problem(errors) if errors else None
    if problem is not None:
        request.tm.doom()
        return guardian_case_page(request, context, problem=problem, form="protection", values=fields)
    services.register_protection(request.dbsession, request.whistle_settings, request.clock, case,
                                 request.identity.account.id, **clean)
    return HTTPFound(request.route_url("cases.show", ref=case.ref) + "#retaliation-watch")


@view_config(route_name="cases.protection_alerts", request_method="POST", permission=Permission.CASE_WRITE)
def acknowledge_alerts(context: CaseContext, request):
    services.acknowledge_alerts(request.dbsession, request.clock, context.case, request.identity.account.id)
    return HTTPFound(request.route_url("cases.show", ref=context.case.ref) + "#retaliation-watch")


# --- the reporter's mailbox ------------------------------------------------------------------

def _reporter_form(request, error_key: str):
    """(identity, fields) or a response: the login page if the visit ended, the case page if the form expired."""
    identity = reporter(request)
    if identity is None:
        return None, login_page(request, status=401, notice="Your visit had ended. Enter your receipt to continue.")
    try:
        fields = read_fields(request)
    except MalformedForm as error:
        return None, reporter_case_page(request, identity, status=400, errors={error_key: str(error)}, mark_seen=False)
    if not csrf_ok(request, fields.get("csrf_token")):
        return None, reporter_case_page(request, identity, status=400, mark_seen=False,
                                        errors={error_key: "This page had expired. Please answer again."})
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
                                  errors={"consent": "Tick the box if you want this."})
    services.give_consent(request.dbsession, request.clock, identity.case)
    return HTTPSeeOther(request.route_url("reporters.case", _anchor="retaliation-watch"))


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
                                  errors={"detriment": "Choose yes or no."})
    try:
        services.answer_checkin(request, identity.case, int(month) if month.isdigit() else -1, detriment)
    except services.CheckInNotDue:
        return reporter_case_page(request, identity, status=409, mark_seen=False,
                                  errors={"checkin_form": "You have already answered this question."})
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
        services.answer_checkin(request, request.identity.case, data["month"], data["detriment"])
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


def checkins_due(request, case) -> list[int]:
    """For the reporter's case JSON."""
    return list(_state(request, case).due)


# --- what the case pages show ----------------------------------------------------------------

GUARDIAN_CASE = "whistle:templates/cases/show.jinja2"
GUARDIAN_INBOX = "whistle:templates/cases/inbox.jinja2"
REPORTER_CASE = "whistle:templates/reporters/case.jinja2"


def add_template_data(event) -> None:
    """Give the case pages and the inbox their retaliation-watch data without changing their views."""
    request, renderer = event.get("request"), event.get("renderer_name")
    if request is None or renderer not in (GUARDIAN_CASE, GUARDIAN_INBOX, REPORTER_CASE):
        return
    dbsession, values = request.dbsession, event.rendering_val
    if not isinstance(values, dict):
        return
    if renderer == GUARDIAN_CASE and values.get("case") is not None:
        case = values["case"]
        identity = getattr(values.get("content"), "identity", None) or {}
        event["watch"] = {
            "alerts": services.alerts_of(dbsession, case),
            "protections": services.protections_of(dbsession, case),
            "checkins": _state(request, case).answered,
            "personnel_id": identity.get("personnel_id", ""),
            "today": request.clock.today(),
        }
    elif renderer == GUARDIAN_INBOX and values.get("rows") is not None:
        event["alerted_case_ids"] = services.cases_with_open_alerts(dbsession, [row.case.id for row in values["rows"]])
    elif renderer == REPORTER_CASE and values.get("mailbox") is not None:
        case = values["mailbox"].case
        if case.channel.reporters_are_staff is False:
            return  # a child or a member of the public has no employer to watch: no section at all
        event["watch"] = {"due": _state(request, case).due, "question": CHECKIN_QUESTION}
