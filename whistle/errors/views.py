"""The edge where every error becomes a page or a problem document; never a traceback."""
from __future__ import annotations

import logging
import traceback

from pyramid.csrf import BadCSRFToken
from pyramid.httpexceptions import HTTPException, HTTPFound
from pyramid.renderers import render_to_response
from pyramid.view import exception_view_config, forbidden_view_config, notfound_view_config
from sqlalchemy.exc import DataError
from sqlalchemy.orm.exc import StaleDataError

from whistle.crypto import KdfBusy
from whistle.errors.problems import Problem, problem_response
from whistle.i18n import _
from whistle.security.acl import NotFoundWhenForbidden

log = logging.getLogger(__name__)


def _is_api(request) -> bool:
    # The raw PATH_INFO (WSGI hands it over as latin-1), not request.path_info, which decodes it as
    # UTF-8: the answer to an address that is not UTF-8 (whistle.errors.tweens) comes through here.
    return request.environ.get("PATH_INFO", "").startswith("/api/")


def _wants_json(request) -> bool:
    """A page's own script asking for JSON (Accept names JSON and not HTML): a problem document
    answers it, as under /api/ (workspace.js on the guardian's device, for one)."""
    accept = request.headers.get("Accept", "")
    return "json" in accept and "text/html" not in accept


def respond(request, problem: Problem, *, ask_who: bool = True):
    """The problem as a page or a problem document. `ask_who=False` where the caller must not be
    identified (the address itself cannot be read): the page then offers no staff links."""
    if _is_api(request) or _wants_json(request):
        headers = {"WWW-Authenticate": "Bearer"} if problem.status == 401 else None
        return problem_response(problem, headers)
    page = {"title": problem.title, "detail": problem.detail, "ask_who": ask_who, "error_page": True}
    response = render_to_response("whistle:templates/errors/error.jinja2", page, request=request)
    response.status = problem.status
    return response


@exception_view_config(Problem)
def problem_view(exc: Problem, request):
    return respond(request, exc)


def _answered_methods(request) -> list[str]:
    """The methods the views of the route that matched answer (GET brings HEAD); none if no route matched."""
    route = request.matched_route
    if route is None:
        return []
    methods: set[str] = set()
    for view in request.registry.introspector.get_category("views"):
        intr = view["introspectable"]
        if intr["route_name"] == route.name:
            declared = intr["request_methods"] or ()
            methods.update((declared,) if isinstance(declared, str) else declared)
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


@notfound_view_config()
def not_found_view(request):
    # An API address that exists, asked with a method none of its views answers: 405 with Allow
    # (RFC 9110 15.5.6), so a client is told what the address takes rather than that it is not there.
    operations = request.path_info in ("/healthz", "/readyz", "/metrics")
    methods = _answered_methods(request) if _is_api(request) or operations else []
    if methods and request.method not in methods:
        response = respond(request, Problem(405, _("This address takes ${methods} only.",
                                                     mapping={"methods": ", ".join(methods)})))
        response.headers["Allow"] = ", ".join(methods)
        return response
    return respond(request, Problem(404, _("There is nothing at this address.")))


@forbidden_view_config()
def forbidden_view(request):
    # A case the caller may not read does not exist as far as they can tell.
    # (No context when its factory refused the caller: whistle.cases.context.CaseContext.)
    if isinstance(getattr(request, "context", None), NotFoundWhenForbidden):
        return not_found_view(request)
    if request.identity is None:
        if _is_api(request):
            return respond(request, Problem(401, "Log in first: send 'Authorization: Bearer <token>'."))
        if _wants_json(request):  # a staff page's script whose session has ended
            return respond(request, Problem(401, "You are signed out: sign in again."))
        if request.path_info.startswith(("/staff/", "/admin")):  # staff pages: sign in first
            return HTTPFound(request.route_url("accounts.login"))
    # A caller may say why it is refused (a reporter session without a key: which calls it can use).
    detail = getattr(request.identity, "forbidden_detail", None) or _("You do not have access to this.")
    return respond(request, Problem(403, detail))


@exception_view_config(BadCSRFToken)
def bad_csrf_view(exc, request):
    return respond(request, Problem(400, _("This form had expired. Go back, reload the page and try again.")))


@exception_view_config(HTTPException)
def http_exception_view(exc: HTTPException, request):
    if exc.code is not None and exc.code < 400:
        return exc  # redirects pass through
    return respond(request, Problem(exc.code or 500, exc.explanation or exc.title))


@exception_view_config(OverflowError)
@exception_view_config(DataError)
def out_of_range_view(exc: Exception, request):
    # A number too large for a 64-bit column (SQLite's driver raises OverflowError before sending
    # it; PostgreSQL answers "out of range"), or text PostgreSQL cannot hold (NUL): the request's
    # values, not a fault of ours. Logged like an unexpected error, so a check missing in front of
    # the database is still seen, but answered as the client's mistake (and the transaction aborts).
    route = request.matched_route.name if request.matched_route else "-"
    log.warning("%s in %s: refused as out of range\n%s", type(exc).__name__, route,
                "".join(traceback.format_tb(exc.__traceback__)))
    return respond(request, Problem(400, _("A value in this request is out of range (a number too large, or "
                                           "text with a NUL character).")))


@exception_view_config(StaleDataError)
def changed_meanwhile_view(exc: Exception, request):
    # A row the request loaded was changed or deleted by another transaction before it could be
    # written (on PostgreSQL, a guardian's action waiting on a case the tick was purging): a
    # conflict, not a fault. The transaction aborts; the person tries again on a fresh page.
    route = request.matched_route.name if request.matched_route else "-"
    log.warning("%s in %s: refused as changed meanwhile", type(exc).__name__, route)
    return respond(request, Problem(409, _("This changed while you were working on it (it may have been deleted), "
                                           "so nothing was saved. Open it again and try again.")))


BUSY = "/api/v1/problems/busy"


def busy_problem(retry_after: int) -> Problem:
    return Problem(503, _("The service is busy, so nothing was done. Please try again in ${seconds} seconds.",
                          mapping={"seconds": retry_after}),
                   type=BUSY, title="Service busy", members={"retry_after": retry_after})


@exception_view_config(KdfBusy)
def busy_view(exc: KdfBusy, request):
    # Every Argon2id slot stayed taken (whistle.crypto.keys): refused before any work, nothing kept.
    response = respond(request, busy_problem(exc.retry_after))
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


@exception_view_config(Exception)
def unexpected_error_view(exc: Exception, request):
    # The type and where it happened go to the server log; never the message (it might carry
    # content) and never anything to the user beyond an apology.
    route = request.matched_route.name if request.matched_route else "-"
    log.error("unhandled %s in %s\n%s", type(exc).__name__, route, "".join(traceback.format_tb(exc.__traceback__)))
    return respond(request, Problem(500, _("Something went wrong on our side and nothing was saved. "
                                           "Please try again.")))


def includeme(config) -> None:
    config.scan(__name__)
    config.add_tween("whistle.errors.tweens.undecodable_address_tween_factory",
                     under="whistle.security.headers.security_headers_tween_factory",
                     over="pyramid_tm.tm_tween_factory")
    config.add_tween("whistle.errors.tweens.cookie_header_tween_factory",
                     under="whistle.security.headers.security_headers_tween_factory",
                     over="whistle.errors.tweens.undecodable_address_tween_factory")
