"""Acting on a case: reply, note, triage, move, grant, transfer, step aside — as forms and as JSON.

Each HTML form posts, and on success redirects back (post/redirect/get); a refused form re-renders
the case page with the problem named and the text kept, and the transaction is doomed so nothing
of the refused action is stored. The API raises the problem, which aborts the transaction too.
"""
from __future__ import annotations

from pyramid.csrf import BadCSRFToken
from pyramid.httpexceptions import HTTPFound, HTTPNoContent
from pyramid.view import exception_view_config, view_config

from whistle.cases import actions, lifecycle
from whistle.cases.context import CaseContext
from whistle.errors import Problem, validation_problem
from whistle.errors.views import bad_csrf_view
from whistle.jsonapi import read_json, reject_unknown_members
from whistle.key_directory.services import Directory, DirectoryError, current_directory
from whistle.security.permissions import Permission
from whistle.words import EXPIRED_FORM
from whistle.workspace.views import case_page, case_summary, unlock

DIRECTORY_PROBLEM = "/api/v1/problems/key-directory"


def _account(request):
    return request.identity.account


def _directory(request) -> Directory:
    """The signed key directory, verified: the only keys a case is sealed to (409 if unusable)."""
    try:
        return current_directory(request.dbsession, request.whistle_settings, request.clock)
    except DirectoryError as error:
        raise Problem(409, f"{error} Until then no case can be given to anyone.", type=DIRECTORY_PROBLEM,
                      title="No usable key directory") from None


def _html(request, context: CaseContext, form: str, work, *, anchor: str = "", leaves: bool = False):
    """Run `work()`; redirect on success, or re-render the case page naming the problem."""
    try:
        work()
    except Problem as problem:
        request.tm.doom()  # whatever the refused action had started is not kept
        return case_page(request, context, problem=problem, form=form, values=_posted_values(request))
    if leaves:
        return HTTPFound(request.route_url("cases.inbox"))
    return HTTPFound(request.route_url("cases.show", ref=context.case.ref) + (f"#{anchor}" if anchor else ""))


def _posted_values(request) -> dict:
    return {key: request.POST.getall(key) if key in ("changes",) else request.POST.get(key, "")
            for key in request.POST if key != "csrf_token"}


# The case page's forms (those the CSRF view deriver checks), by route: the form a post came from.
_CASE_FORMS = {"cases.messages": "reply", "cases.notes": "note", "cases.triage": "triage", "cases.grants": "grant",
               "cases.transfer": "transfer", "cases.conflict": "conflict", "cases.protections": "protection",
               "cases.protection_alerts": "protection-alerts", "cases.transitions": "move"}


@exception_view_config(BadCSRFToken, route_name="cases.messages", request_method="POST")
@exception_view_config(BadCSRFToken, route_name="cases.notes", request_method="POST")
@exception_view_config(BadCSRFToken, route_name="cases.transitions", request_method="POST")
@exception_view_config(BadCSRFToken, route_name="cases.triage", request_method="POST")
@exception_view_config(BadCSRFToken, route_name="cases.grants", request_method="POST")
@exception_view_config(BadCSRFToken, route_name="cases.transfer", request_method="POST")
@exception_view_config(BadCSRFToken, route_name="cases.conflict", request_method="POST")
@exception_view_config(BadCSRFToken, route_name="cases.protections", request_method="POST")
@exception_view_config(BadCSRFToken, route_name="cases.protection_alerts", request_method="POST")
def expired_case_form(exc: BadCSRFToken, request):
    """A case form posted with a token from before this browser's session (the guardian signed in
    again in another tab): nothing is done, and the case page comes back with what was typed.

    The view deriver checks the permission before the token, so the caller may write to the case;
    checked again here all the same, since an exception view is not secured."""
    context = request.context
    if not isinstance(context, CaseContext) or not request.has_permission(Permission.CASE_WRITE, context):
        return bad_csrf_view(exc, request)
    request.tm.doom()
    values = _posted_values(request)
    form = _CASE_FORMS[request.matched_route.name]
    if form == "move":
        form = f"move-{values.get('to', '')}"
    return case_page(request, context, problem=Problem(400, EXPIRED_FORM), form=form, values=values)


def _body(request, allowed: set[str]) -> dict:
    data = read_json(request)
    errors = reject_unknown_members(data, allowed)
    if errors:
        raise validation_problem(errors)
    return data


def _outcome_from(case, data) -> lifecycle.Outcome | None:
    lifecycle.check_move(case, data.get("to"))  # a forbidden move is 409 before the outcome is looked at
    if data.get("to") != lifecycle.CLOSED:
        return None
    return lifecycle.check_outcome(data.get("substantiated"), data.get("changes"), data.get("learned"))


def _labels_text(text: str) -> list[str]:
    return [part for part in text.replace(",", " ").split() if part]


# --- replies and notes ---

@view_config(route_name="cases.messages", request_method="POST", permission=Permission.CASE_WRITE)
def reply_form(context: CaseContext, request):
    return _html(request, context, "reply", lambda: actions.reply(
        request.dbsession, request.clock, context.case, unlock(request, context), _account(request),
        request.POST.get("text", "")),
        anchor="conversation")


@view_config(route_name="cases.notes", request_method="POST", permission=Permission.CASE_WRITE)
def note_form(context: CaseContext, request):
    return _html(request, context, "note", lambda: actions.add_note(
        request.dbsession, request.clock, context.case, unlock(request, context), _account(request),
        request.POST.get("text", "")),
        anchor="notes")


@view_config(route_name="api.case_messages", request_method="POST", renderer="json", permission=Permission.CASE_WRITE)
def api_reply(context: CaseContext, request):
    data = _body(request, {"text"})
    item = actions.reply(request.dbsession, request.clock, context.case, unlock(request, context), _account(request),
                         data.get("text"))
    request.response.status = 201
    return {"id": item.id}


@view_config(route_name="api.case_notes", request_method="POST", renderer="json", permission=Permission.CASE_WRITE)
def api_note(context: CaseContext, request):
    data = _body(request, {"text"})
    item = actions.add_note(request.dbsession, request.clock, context.case, unlock(request, context),
                            _account(request), data.get("text"))
    request.response.status = 201
    return {"id": item.id}


# --- the lifecycle ---

@view_config(route_name="cases.transitions", request_method="POST", permission=Permission.CASE_WRITE)
def transition_form(context: CaseContext, request):
    post = request.POST
    data = {"to": post.get("to", ""), "substantiated": post.get("substantiated"),
            "changes": post.getall("changes"), "learned": post.get("learned")}

    def work():
        actions.change_status(request.dbsession, request.clock, context.case, unlock(request, context),
                              _account(request), data["to"],
                              reason=post.get("reason") or None, outcome=_outcome_from(context.case, data),
                              call_hook=request.call_hook, deadline_profiles=request.registry.deadline_profiles)

    return _html(request, context, f"move-{data['to']}", work, anchor="status")


@view_config(route_name="api.case_transitions", request_method="POST", renderer="json",
             permission=Permission.CASE_WRITE)
def api_transition(context: CaseContext, request):
    data = _body(request, {"to", "reason", "substantiated", "changes", "learned"})
    if not isinstance(data.get("to"), str):
        raise validation_problem({"to": "Required: the status to move to."})
    reason = data.get("reason")
    if reason is not None and not isinstance(reason, str):
        raise validation_problem({"reason": "Text, if given."})
    actions.change_status(request.dbsession, request.clock, context.case, unlock(request, context),
                          _account(request), data["to"], reason=reason, outcome=_outcome_from(context.case, data),
                          call_hook=request.call_hook,
                          deadline_profiles=request.registry.deadline_profiles)
    return case_summary(request, context.case)


# --- triage: priority and labels ---

@view_config(route_name="cases.triage", request_method="POST", permission=Permission.CASE_WRITE)
def triage_form(context: CaseContext, request):
    post = request.POST
    return _html(request, context, "triage", lambda: actions.triage(
        request.dbsession, request.clock, context.case, _account(request),
        priority=post.get("priority") or None, add=_labels_text(post.get("add_labels", "")),
        remove=post.getall("remove_labels")), anchor="triage")


@view_config(route_name="api.case_triage", request_method="POST", renderer="json", permission=Permission.CASE_WRITE)
def api_triage(context: CaseContext, request):
    data = _body(request, {"priority", "add_labels", "remove_labels"})
    actions.triage(request.dbsession, request.clock, context.case, _account(request), priority=data.get("priority"),
                   add=data.get("add_labels", []), remove=data.get("remove_labels", []))
    return case_summary(request, context.case)


# --- who holds the case ---

@view_config(route_name="cases.grants", request_method="POST", permission=Permission.CASE_WRITE)
def grant_form(context: CaseContext, request):
    return _html(request, context, "grant", lambda: actions.grant(
        request.dbsession, request.clock, context.case, unlock(request, context), _account(request),
        request.POST.get("guardian", ""), call_hook=request.call_hook, directory=_directory(request)), anchor="access")


@view_config(route_name="api.case_grants", request_method="POST", renderer="json", permission=Permission.CASE_WRITE)
def api_grant(context: CaseContext, request):
    data = _body(request, {"guardian"})
    grantee = actions.grant(request.dbsession, request.clock, context.case, unlock(request, context),
                            _account(request), data.get("guardian"), call_hook=request.call_hook,
                            directory=_directory(request))
    request.response.status = 201
    return {"guardian": grantee.username}


@view_config(route_name="cases.transfer", request_method="POST", permission=Permission.CASE_WRITE)
def transfer_form(context: CaseContext, request):
    return _html(request, context, "transfer", lambda: actions.transfer(
        request.dbsession, request.clock, context.case, unlock(request, context), _account(request),
        request.POST.get("guardian", ""), request.POST.get("reason") or None, call_hook=request.call_hook,
        directory=_directory(request)), leaves=True)


@view_config(route_name="api.case_transfer", request_method="POST", renderer="json", permission=Permission.CASE_WRITE)
def api_transfer(context: CaseContext, request):
    data = _body(request, {"guardian", "reason"})
    grantee = actions.transfer(request.dbsession, request.clock, context.case, unlock(request, context),
                               _account(request), data.get("guardian"), data.get("reason"), call_hook=request.call_hook,
                               directory=_directory(request))
    return {"transferred_to": grantee.username}


@view_config(route_name="cases.conflict", request_method="POST", permission=Permission.CASE_WRITE)
def conflict_form(context: CaseContext, request):
    return _html(request, context, "conflict", lambda: actions.declare_conflict(
        request.dbsession, request.clock, context.case, unlock(request, context), _account(request),
        request.POST.get("reason") or None),
        leaves=True)


@view_config(route_name="api.case_conflict", request_method="POST", permission=Permission.CASE_WRITE)
def api_conflict(context: CaseContext, request):
    data = _body(request, {"reason"})
    actions.declare_conflict(request.dbsession, request.clock, context.case, unlock(request, context),
                             _account(request), data.get("reason"))
    return HTTPNoContent()
