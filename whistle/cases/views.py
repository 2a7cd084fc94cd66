"""The guardian's view of cases: the inbox and one case, as pages and as JSON."""
from __future__ import annotations

from pyramid.view import view_config

from whistle.audit.services import case_events
from whistle.cases.services import CaseKeys, cases_for_guardian, read_case, unlock_for_guardian
from whistle.errors import validation_problem
from whistle.security.acl import CaseContext
from whistle.security.permissions import Permission

MAX_PER_PAGE = 100


def _summary(case) -> dict:
    return {
        "case": case.ref,
        "channel": case.channel.slug,
        "status": case.status,
        "priority": case.priority,
        "labels": [],
        "opened": case.opened_on,
        "ack_due": case.ack_due,
        "feedback_due": case.feedback_due,
        "unread": 0,
    }


def _unlock(request, context: CaseContext) -> CaseKeys:
    identity = request.identity
    return unlock_for_guardian(request.dbsession, context.case, identity.account.id, identity.keypair)


@view_config(route_name="cases.inbox", renderer="whistle:templates/cases/inbox.jinja2", permission=Permission.CASES_LIST)
def inbox(request):
    cases, total = cases_for_guardian(request.dbsession, request.identity.account.id, per_page=MAX_PER_PAGE)
    return {"cases": cases, "total": total, "today": request.clock.today()}


@view_config(route_name="cases.show", renderer="whistle:templates/cases/show.jinja2", permission=Permission.CASE_READ)
def show(context: CaseContext, request):
    content = read_case(context.case, _unlock(request, context))
    request.audit("case.viewed", case_id=context.case.id)
    return {"case": context.case, "content": content}


@view_config(route_name="api.cases", request_method="GET", renderer="json", permission=Permission.CASES_LIST)
def api_list(request):
    errors = {}
    try:
        page = int(request.params.get("page", 1))
        per_page = int(request.params.get("per_page", 25))
    except ValueError:
        raise validation_problem({"page": "Expected whole numbers for page and per_page."}) from None
    if page < 1:
        errors["page"] = "Pages start at 1."
    if not 1 <= per_page <= MAX_PER_PAGE:
        errors["per_page"] = f"Between 1 and {MAX_PER_PAGE}."
    if errors:
        raise validation_problem(errors)
    cases, total = cases_for_guardian(
        request.dbsession, request.identity.account.id, status=request.params.get("status"),
        channel=request.params.get("channel"), page=page, per_page=per_page,
    )
    return {"cases": [_summary(case) for case in cases], "total": total, "page": page}


@view_config(route_name="api.case", request_method="GET", renderer="json", permission=Permission.CASE_READ)
def api_show(context: CaseContext, request):
    case = context.case
    content = read_case(case, _unlock(request, context))
    request.audit("case.viewed", case_id=case.id)
    body = {
        "case": case.ref,
        "channel": case.channel.slug,
        "status": case.status,
        "opened": case.opened_on,
        "text": content.text,
        "answers": content.answers,
        "messages": content.messages,
        "notes": content.notes,
        "attachments": [],
        "events": [{"action": e.action, "actor": e.actor, "at": e.at} for e in case_events(request.dbsession, case.id)],
    }
    if content.identity is not None:
        body["identity"] = content.identity
    return body
