"""The "you said, we did" board: the public page (no sign-in, no JavaScript) and its JSON, and a
guardian publishing, editing and unpublishing an entry from the case page, as forms and as JSON."""
from __future__ import annotations

from babel.dates import format_date
from pyramid.csrf import BadCSRFToken
from pyramid.httpexceptions import HTTPFound
from pyramid.view import exception_view_config, view_config

from whistle.board import services
from whistle.board.models import BoardEntry
from whistle.cases.context import CaseContext
from whistle.errors import Problem, validation_problem
from whistle.errors.views import bad_csrf_view
from whistle.i18n import _, current_language
from whistle.intake_channels.services import any_quick_exit_url
from whistle.jsonapi import read_json, reject_unknown_members
from whistle.numbers import whole_number
from whistle.security.permissions import Permission
from whistle.words import EXPIRED_FORM
from whistle.workspace.views import case_page as guardian_case_page

FIELDS = ("title", "you_said", "we_did")
NO_SUCH_ENTRY = _("There is no such entry on the board for this case.")


def month_words(day) -> str:
    """'March 2027': the board says when, to the month only, in the page's language."""
    return format_date(day, "LLLL y", locale=current_language().formats)


def public_entry(entry: BoardEntry) -> dict:
    return {"id": entry.id, "title": entry.title, "you_said": entry.you_said, "we_did": entry.we_did,
            "month": entry.published_on.strftime("%Y-%m"), "channel": entry.channel.title}


# --- the public board ----------------------------------------------------------------------------

@view_config(route_name="board.list", request_method="GET", renderer="whistle:templates/board/list.jinja2",
             permission=Permission.PUBLIC)
def board_page(request):
    return {"entries": services.public_entries(request.dbsession), "month_words": month_words,
            "quick_exit_anywhere": any_quick_exit_url(request.dbsession) is not None}


@view_config(route_name="api.board", request_method="GET", renderer="json", permission=Permission.PUBLIC)
def api_board(request):
    return {"entries": [public_entry(entry) for entry in services.public_entries(request.dbsession)]}


# --- publishing from the case page ---------------------------------------------------------------

def _entry(request, context: CaseContext) -> BoardEntry:
    entry = services.entry_of(request.dbsession, context.case, whole_number(request.matchdict["id"], max_digits=18))
    if entry is None:
        raise Problem(404, NO_SUCH_ENTRY)
    return entry


def _refused(request, context, problem: Problem, form: str, values: dict):
    request.tm.doom()
    return guardian_case_page(request, context, problem=problem, form=form, values=values)


def _back(request, context: CaseContext) -> HTTPFound:
    return HTTPFound(request.route_url("cases.show", ref=context.case.ref) + "#board")


@view_config(route_name="board.publish", request_method="POST", permission=Permission.CASE_WRITE)
def publish_form(context: CaseContext, request):
    values = {name: request.POST.get(name, "") for name in FIELDS}
    try:
        services.publish(request.dbsession, request.clock, context.case, request.identity.account.id, **values)
    except Problem as problem:
        return _refused(request, context, problem, "board", values)
    return _back(request, context)


@view_config(route_name="board.edit", request_method="POST", permission=Permission.CASE_WRITE)
def edit_form(context: CaseContext, request):
    entry = _entry(request, context)
    values = {name: request.POST.get(name, "") for name in FIELDS}
    try:
        services.edit(request.dbsession, request.clock, entry, request.identity.account.id, **values)
    except Problem as problem:
        return _refused(request, context, problem, "board-edit", {**values, "entry": entry.id})
    return _back(request, context)


@exception_view_config(BadCSRFToken, route_name="board.publish", request_method="POST")
@exception_view_config(BadCSRFToken, route_name="board.edit", request_method="POST")
def expired_board_form(exc: BadCSRFToken, request):
    """A board form posted with a token from before this browser's session (signed in again in
    another tab): nothing is done, and the case page comes back with what was typed. The
    permission is checked again, since an exception view is not secured."""
    context = request.context
    if not isinstance(context, CaseContext) or not request.has_permission(Permission.CASE_WRITE, context):
        return bad_csrf_view(exc, request)
    values: dict = {name: request.POST.get(name, "") for name in FIELDS}
    form = "board"
    if request.matched_route.name == "board.edit":
        form, values["entry"] = "board-edit", whole_number(request.matchdict["id"], max_digits=18)
    return _refused(request, context, Problem(400, EXPIRED_FORM), form, values)


@view_config(route_name="board.unpublish", request_method="POST", permission=Permission.CASE_WRITE)
def unpublish_form(context: CaseContext, request):
    services.unpublish(request.dbsession, request.clock, _entry(request, context), request.identity.account.id)
    return _back(request, context)


def _api_values(request) -> dict:
    data = read_json(request)
    errors = reject_unknown_members(data, set(FIELDS))
    if errors:
        raise validation_problem(errors)
    return {name: data.get(name) for name in FIELDS}


@view_config(route_name="api.case_board", request_method="POST", renderer="json", permission=Permission.CASE_WRITE)
def api_publish(context: CaseContext, request):
    entry = services.publish(request.dbsession, request.clock, context.case, request.identity.account.id,
                             **_api_values(request))
    request.response.status = 201
    return public_entry(entry)


@view_config(route_name="api.case_board_entry", request_method="PUT", renderer="json",
             permission=Permission.CASE_WRITE)
def api_edit(context: CaseContext, request):
    entry = _entry(request, context)
    services.edit(request.dbsession, request.clock, entry, request.identity.account.id, **_api_values(request))
    return public_entry(entry)


@view_config(route_name="api.case_board_entry", request_method="DELETE", permission=Permission.CASE_WRITE)
def api_unpublish(context: CaseContext, request):
    services.unpublish(request.dbsession, request.clock, _entry(request, context), request.identity.account.id)
    response = request.response
    response.status = 204
    response.content_type = None  # a 204 has no body, so no type either
    return response
