"""Retaliation watch on the guardian's case page: registering a protection, and marking alerts as seen."""
from __future__ import annotations

from pyramid.httpexceptions import HTTPFound
from pyramid.view import view_config

from whistle.cases.context import CaseContext
from whistle.errors import Problem, validation_problem
from whistle.i18n import _
from whistle.protection import services
from whistle.protection.forms import validate_protection
from whistle.security.permissions import Permission
from whistle.workspace.views import case_page as guardian_case_page


@view_config(route_name="cases.protections", request_method="POST", permission=Permission.CASE_WRITE)
def register_protection(context: CaseContext, request):
    case = context.case
    fields = {key: request.POST.get(key, "") for key in ("personnel_id", "starts_on", "window_months")}
    problem: Problem | None
    if not case.protection_consent:
        problem = Problem(409, _("The reporter has not asked for retaliation watch, so no protection can be "
                                 "registered."))
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
