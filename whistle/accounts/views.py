"""Staff login and logout, as pages and as API sessions."""
from __future__ import annotations

from pyramid.csrf import BadCSRFToken
from pyramid.httpexceptions import HTTPFound, HTTPNoContent
from pyramid.security import forget, remember
from pyramid.view import exception_view_config, view_config

from whistle.accounts.identity import StaffIdentity
from whistle.accounts.services import LoginFailed, authenticate
from whistle.errors import Problem, problem_response, validation_problem
from whistle.jsonapi import read_json, reject_unknown_members
from whistle.security.permissions import Permission
from whistle.sessions.models import STAFF
from whistle.sessions.services import close_session, open_session
from whistle.words import EXPIRED_FORM

# The same words for every failure, a paused account included (see accounts.services.authenticate):
# the rightful user is told calmly what may be happening without an attacker learning which.
LOGIN_FAILED = ("That username, password and code do not match. Check them and try again. "
                "After several failed attempts sign-in pauses for a few minutes: if you are sure, wait and try again.")


def _login(request, username: str, password: str, otp: str):
    """(token, account) for a new session, or None (the failure is audited; the caller answers 401)."""
    settings, clock = request.whistle_settings, request.clock
    try:
        account, keypair = authenticate(request.dbsession, settings, clock, username=username, password=password,
                                        otp=otp)
    except LoginFailed as failure:
        account_id = failure.account.id if failure.account else None
        request.audit("login.failed", actor=f"account:{account_id}" if account_id else "anonymous",
                      detail={"reason": failure.reason})
        return None
    token = open_session(request.dbsession, settings, clock, kind=STAFF, private_key=keypair.private,
                         account_id=account.id)
    request.audit("login.succeeded", actor=f"account:{account.id}")
    return token, account


@view_config(route_name="accounts.login", request_method="GET", renderer="whistle:templates/accounts/login.jinja2",
             permission=Permission.STAFF_LOGIN)
def login_form(request):
    return {"username": "", "error": None}


@view_config(route_name="accounts.login", request_method="POST", renderer="whistle:templates/accounts/login.jinja2",
             permission=Permission.STAFF_LOGIN)
def login_submit(request):
    username = request.POST.get("username", "")
    opened = _login(request, username, request.POST.get("password", ""), request.POST.get("otp", ""))
    if opened is None:
        # Returned, not raised: the transaction commits, so the failed attempt stays audited.
        request.response.status = 401
        return {"username": username, "error": LOGIN_FAILED}
    token, account = opened
    # An admin who is not a guardian has no inbox: their home is the admin area.
    home = "cases.inbox" if account.is_guardian else "admin.overview"
    return HTTPFound(request.route_url(home), headers=remember(request, token, kind=STAFF))


@exception_view_config(BadCSRFToken, route_name="accounts.login", request_method="POST",
                       renderer="whistle:templates/accounts/login.jinja2")
def expired_login_form(exc: BadCSRFToken, request):
    """The sign-in form posted from a page older than this browser's session (signed in, or out,
    in another tab): nothing is tried, and the form comes back with the username."""
    request.response.status = 400
    return {"username": request.POST.get("username", ""), "error": EXPIRED_FORM}


@view_config(route_name="accounts.logout", request_method="POST", permission=Permission.STAFF_LOGOUT)
def logout(request):
    if isinstance(request.identity, StaffIdentity):
        close_session(request.dbsession, request.whistle_settings, request.identity.token)
        request.audit("logout")
    return HTTPFound(request.route_url("accounts.login"), headers=forget(request, kind=STAFF))


@view_config(route_name="api.staff_session", request_method="POST", renderer="json", permission=Permission.STAFF_LOGIN)
def api_login(request):
    data = read_json(request)
    errors = reject_unknown_members(data, {"username", "password", "otp"})
    for name in ("username", "password", "otp"):
        if not isinstance(data.get(name), str) or not data.get(name):
            errors[name] = "Required, as a string."
    if errors:
        raise validation_problem(errors)
    opened = _login(request, data["username"], data["password"], data["otp"])
    if opened is None:
        return problem_response(Problem(401, LOGIN_FAILED), {"WWW-Authenticate": "Bearer"})
    token, _account = opened
    expires_in = int(request.whistle_settings.staff_session_idle.total_seconds())
    return {"token": token, "expires_in": expires_in}


@view_config(route_name="api.staff_session", request_method="DELETE", permission=Permission.STAFF_LOGOUT)
def api_logout(request):
    close_session(request.dbsession, request.whistle_settings, request.identity.token)
    request.audit("logout")
    return HTTPNoContent()
