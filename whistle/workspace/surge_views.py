"""A surge of reports: the cases that came in during one (cases.surge_day), listed together so that
guardians can close the junk among them in one go, after a confirm step (docs/workspace.md)."""
from __future__ import annotations

from datetime import date

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config

from whistle.cases import actions
from whistle.cases.inbox import surge_cases
from whistle.errors import Problem, validation_problem
from whistle.i18n import _, localized
from whistle.jsonapi import read_json, reject_unknown_members
from whistle.numbers import whole_number
from whistle.security.permissions import Permission
from whistle.words import JUNK_REASON_LABELS

SURGE_PAGE = "whistle:templates/cases/surge.jinja2"
CONFIRM_PAGE = "whistle:templates/cases/surge_confirm.jinja2"
JUNK_MESSAGES = {"cases": _("Tick at least one case to close."), "reason": _("Choose why they are junk.")}


def _day(request) -> date:
    try:
        return date.fromisoformat(request.matchdict["day"])
    except ValueError:
        raise Problem(404, "There is nothing at this address.") from None


def _surge_page(request, day: date, *, ticked=None, reason: str = "flood", problem: Problem | None = None) -> dict:
    cases, total = surge_cases(request.dbsession, request.identity.account.id, day, limit=actions.MAX_JUNK_AT_ONCE)
    closed = whole_number(request.params.get("closed", "")) if request.method == "GET" else None
    return {"day": day, "cases": cases, "total": total, "reasons": JUNK_REASON_LABELS,
            "ticked": {case.ref for case in cases} if ticked is None else set(ticked), "reason": reason,
            # In the page's language already: the page puts label and message together in Python.
            "problem": problem, "messages": {name: localized(text) for name, text in JUNK_MESSAGES.items()},
            "closed": closed}


@view_config(route_name="cases.surge", request_method="GET", renderer=SURGE_PAGE, permission=Permission.CASES_LIST)
def surge_page(request):
    """The open cases of one surge that the guardian holds, each ticked: untick any that look genuine."""
    return _surge_page(request, _day(request))


@view_config(route_name="cases.surge_junk", request_method="POST", renderer=SURGE_PAGE,
             permission=Permission.CASES_LIST)
def close_junk_form(request):
    """First post: the confirm step, naming what will be closed; with confirm=yes: closed, back to the list."""
    day = _day(request)
    refs, reason = request.POST.getall("cases"), request.POST.get("reason", "")
    try:
        refs, reason = actions.junk_choice(refs, reason)
    except Problem as problem:
        request.response.status = problem.status
        return _surge_page(request, day, ticked=refs, reason=reason, problem=problem)
    if request.POST.get("confirm") != "yes":
        chosen = actions.surge_cases_held(request.dbsession, request.identity.account, day, refs)
        request.override_renderer = CONFIRM_PAGE
        # In the page's language already: {% trans %} puts a value into its sentence as it is.
        return {"day": day, "cases": chosen, "reason": reason, "reason_words": localized(JUNK_REASON_LABELS[reason])}
    done = actions.close_as_junk(request.dbsession, request.clock, request.identity.account, day, refs, reason,
                                 call_hook=request.call_hook)
    return HTTPSeeOther(request.route_path("cases.surge", day=day.isoformat(), _query={"closed": len(done.closed)}))


@view_config(route_name="api.surge_junk", request_method="POST", renderer="json", permission=Permission.CASES_LIST)
def api_close_junk(request):
    day = _day(request)
    data = read_json(request)
    errors = reject_unknown_members(data, {"cases", "reason"})
    if errors:
        raise validation_problem(errors)
    done = actions.close_as_junk(request.dbsession, request.clock, request.identity.account, day, data.get("cases"),
                                 data.get("reason"), call_hook=request.call_hook)
    return {"closed": done.closed, "already_closed": done.already_closed}
