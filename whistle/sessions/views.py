"""Staying signed in (WCAG 2.2.1): the warning a signed-in page shows before its session ends on idle,
and the "Stay signed in" call behind it (static/js/session-timeout.js).

The call is a POST with the page's CSRF token, so another site cannot keep a session alive. Staff and
reporters each have their own address: the reporter's sits under /mailbox, where the security policy
looks at the reporter's cookie first, so a guardian reading their own report in the same browser keeps
the right session going.
"""
from __future__ import annotations

from pyramid.events import BeforeRender, subscriber
from pyramid.view import view_config

from whistle.sessions.models import REPORTER, STAFF, LoginSession
from whistle.sessions.services import extend_session, idle_limit, seconds_left

# Where each kind of session is kept alive from, and the page's own sign-out form the warning's
# "Sign out" submits (so what that form does on submit, such as forgetting a device key, still happens).
KEEP_ALIVE = {STAFF: ("sessions.staff_keep_alive", "form[data-sign-out]"),
              REPORTER: ("reporters.keep_alive", "#leave-form")}


# Pages anyone may ask for (Permission.PUBLIC): the view itself says who has a session to keep. Named
# by its value, as routes.py names it, because whistle.security imports this package.
PUBLIC = "public:view"


def _login_session(request, kind: str) -> LoginSession | None:
    """The caller's login session row if it is one of `kind` (the security policy's SessionIdentity
    carries it as `session`), else None."""
    identity = request.identity
    if getattr(identity, "kind", None) != kind:
        return None
    return getattr(identity, "session", None)


def _keep_alive(request, kind: str) -> dict:
    session = _login_session(request, kind)
    if session is None:
        # No session to extend (ended, or never there): nothing is opened or changed.
        request.response.status = 401
        return {"signed_in": False}
    expires_in = extend_session(session, request.whistle_settings, request.clock)
    return {"signed_in": True, "expires_in": expires_in}


@view_config(route_name="sessions.staff_keep_alive", request_method="POST", renderer="json",
             permission=PUBLIC)
def staff_keep_alive(request):
    return _keep_alive(request, STAFF)


@view_config(route_name="reporters.keep_alive", request_method="POST", renderer="json",
             permission=PUBLIC)
def reporter_keep_alive(request):
    return _keep_alive(request, REPORTER)


def session_timeout(request) -> dict | None:
    """What templates/_session_timeout.jinja2 needs on a signed-in page: the idle limit in minutes (said
    on the page, for readers without JavaScript), the seconds left, where to keep the session alive
    and which form signs out; None on a page without a staff or reporter session."""
    for kind, (route, sign_out_form) in KEEP_ALIVE.items():
        session = _login_session(request, kind)
        if session is not None:
            limit = idle_limit(request.whistle_settings, kind)
            return {"minutes": int(limit.total_seconds() // 60), "idle_seconds": int(limit.total_seconds()),
                    "expires_in": seconds_left(session, request.clock.now()),
                    "keep_alive": request.route_path(route), "sign_out_form": sign_out_form}
    return None


@subscriber(BeforeRender)
def _template_global(event) -> None:
    request = event["request"]
    if request is not None:
        event["session_timeout"] = lambda: session_timeout(request)
