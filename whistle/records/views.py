"""Legal hold on the guardian's case page and in the API: placing one (with a reason) and lifting it.

The forms follow the case page's other forms (whistle.workspace.actions_views): post, redirect
back on success, or re-render the case page naming the problem with what was typed kept; in device
mode the reason arrives as the item the guardian's device encrypted.
"""
from __future__ import annotations

from pyramid.csrf import BadCSRFToken
from pyramid.httpexceptions import HTTPNoContent
from pyramid.view import exception_view_config, view_config

from whistle.cases import actions
from whistle.cases.context import CaseContext
from whistle.errors import Problem
from whistle.errors.views import bad_csrf_view
from whistle.records import services
from whistle.security.permissions import Permission
from whistle.words import EXPIRED_FORM

# The case page's form helpers, shared so these forms behave exactly as its others do.
from whistle.workspace.actions_views import _account, _body, _html, _keys, _posted_values, _written
from whistle.workspace.views import case_page, case_summary

FORM = "legal-hold"
ANCHOR = "keeping"


def _reason(request, values):
    return _written(request, values, "reason", max_plaintext=actions.MAX_RECORD_ITEM_BYTES)


@view_config(route_name="cases.legal_hold", request_method="POST", permission=Permission.CASE_WRITE)
def place_hold_form(context: CaseContext, request):
    return _html(request, context, FORM, lambda: services.place_hold(
        request.dbsession, request.clock, context.case, _keys(request, context), _account(request),
        _reason(request, request.POST)), anchor=ANCHOR)


@view_config(route_name="cases.legal_hold_lift", request_method="POST", permission=Permission.CASE_WRITE)
def lift_hold_form(context: CaseContext, request):
    return _html(request, context, "legal-hold-lift", lambda: services.lift_hold(
        request.dbsession, request.clock, context.case, _account(request)), anchor=ANCHOR)


@exception_view_config(BadCSRFToken, route_name="cases.legal_hold", request_method="POST")
@exception_view_config(BadCSRFToken, route_name="cases.legal_hold_lift", request_method="POST")
def expired_hold_form(exc: BadCSRFToken, request):
    """A hold form posted with a token from before this browser's session: nothing is done, and the
    case page comes back with what was typed (as for the case page's other forms)."""
    context = request.context
    if not isinstance(context, CaseContext) or not request.has_permission(Permission.CASE_WRITE, context):
        return bad_csrf_view(exc, request)
    request.tm.doom()
    form = FORM if request.matched_route.name == "cases.legal_hold" else "legal-hold-lift"
    return case_page(request, context, problem=Problem(400, EXPIRED_FORM), form=form, values=_posted_values(request))


@view_config(route_name="api.case_legal_hold", request_method="POST", renderer="json",
             permission=Permission.CASE_WRITE)
def api_place_hold(context: CaseContext, request):
    data = _body(request, {"reason", "item"})
    services.place_hold(request.dbsession, request.clock, context.case, _keys(request, context), _account(request),
                        _reason(request, data))
    body = case_summary(request, context.case)
    request.response.status = 201
    return body


@view_config(route_name="api.case_legal_hold", request_method="DELETE", permission=Permission.CASE_WRITE)
def api_lift_hold(context: CaseContext, request):
    services.lift_hold(request.dbsession, request.clock, context.case, _account(request))
    return HTTPNoContent()
