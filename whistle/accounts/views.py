"""Staff sign-in and sign-out, as pages and as API sessions.

Two ways in (docs/workspace.md): on the device, where the page's script derives the keys from the
password and sends only the auth key (the session holds no key, and the answer carries the
private key wrapped for the device); and server-assisted, where the password is posted (a page
without JavaScript, an API client) and the session holds the guardian's private key.
"""
from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from pyramid.csrf import BadCSRFToken
from pyramid.httpexceptions import HTTPFound, HTTPNoContent
from pyramid.response import Response
from pyramid.security import forget, remember
from pyramid.view import exception_view_config, view_config

from whistle import crypto, throttles
from whistle.accounts.identity import StaffIdentity
from whistle.accounts.models import Account
from whistle.accounts.services import (
    AUTH_KEY_LEN,
    LoginFailed,
    SignInParameters,
    SignInPaused,
    authenticate,
    authenticate_device,
    sign_in_parameters,
)
from whistle.errors import Problem, problem_response, validation_problem
from whistle.i18n import _, localized
from whistle.jsonapi import read_json, reject_unknown_members
from whistle.security.permissions import Permission
from whistle.sessions.models import STAFF
from whistle.sessions.services import close_session, open_session, open_staff_device_session
from whistle.words import EXPIRED_FORM, time_words

BUSY = _("The service is very busy just now, so nothing was checked yet. Please sign in again in a moment.")
# The same words for every failure (see accounts.services.authenticate): which of the three was
# wrong is not said to anyone.
LOGIN_FAILED = _("That username, password and code do not match. Check them and try again. "
                 "After several failed attempts sign-in from this device pauses for a few minutes: "
                 "if you are sure, wait and try again.")
SIGN_IN_PAUSED_TYPE = "/api/v1/problems/sign-in-paused"
SERVER_ASSISTED_OFF = _("This service decrypts cases only on your own device, so it does not take your password. "
                        "Turn JavaScript on in this browser and sign in again, or use the desk "
                        "(ask your administrator).")
SERVER_ASSISTED_OFF_TYPE = "/api/v1/problems/server-assisted-off"


@dataclass(frozen=True)
class SignedIn:
    """A new session: its token, the account, whether the session holds no key (device mode),
    and, for an account moved over by this sign-in, the salt and cost its device derives with."""

    token: str
    account: Account
    device: bool
    parameters: SignInParameters | None = None


class Refused(Exception):
    """A password sign-in that succeeded but may not open a session: server-assisted is off."""


class Paused(Exception):
    """A sign-in refused untried because of this client's failures (or the service's, and this
    client's last one was a moment ago): `paused` says until when."""

    def __init__(self, paused: SignInPaused) -> None:
        super().__init__(paused.args[0])
        self.paused = paused


def paused_words(request, paused: SignInPaused) -> str:
    """Why this sign-in was not checked, and when it will be, in the zone the pages use."""
    until = time_words(paused.until, request.whistle_settings.display_timezone)
    if paused.busy:
        return _("Many sign-ins have failed on this service in the last minute, and one from this device too, "
                 "so this one was not checked. Try again after ${until}.", mapping={"until": until})
    return _("Too many sign-ins from this device have failed, so this one was not checked. "
             "Try again after ${until}, or use your recovery key if you have forgotten your password.",
             mapping={"until": until})


def retry_after(request, until) -> str:
    """The seconds until `until`, for a Retry-After header."""
    return str(max(1, int((until - request.clock.now()).total_seconds()) + 1))


def _failed(request, failure: LoginFailed) -> None:
    """Audit a failed sign-in (the reason, never the client); raise Paused for one refused untried."""
    account_id = failure.account.id if failure.account else None
    request.audit("login.failed", actor=f"account:{account_id}" if account_id else "anonymous",
                  detail={"reason": failure.reason})
    if failure.paused is not None:
        raise Paused(failure.paused)


def sign_in_client(request) -> str | None:
    """The caller, for the sign-in and recovery-key throttles (whistle.throttles.client_hash); None
    when its address says nothing of the client, and the throttles then tell no client apart
    (accounts.services)."""
    return throttles.client_hash(request.environ, request.clock, "sign-in", request.whistle_settings.session_key)


def _password_sign_in(request, username: str, password: str, otp: str, *, device: bool) -> SignedIn | None:
    """Sign in with the password sent to the server. The session holds the key (server-assisted)
    unless `device` (a page with JavaScript, moving a legacy account over) or server-assisted
    sign-in is off. None: failed (audited; the caller answers 401). Raises Refused, or Paused
    (audited: the caller answers 429)."""
    settings, clock = request.whistle_settings, request.clock
    try:
        signed = authenticate(request.dbsession, settings, clock, username=username, password=password, otp=otp,
                              client=sign_in_client(request))
    except LoginFailed as failure:
        _failed(request, failure)
        return None
    account = signed.account
    if not settings.server_assisted and not signed.moved_over_now:
        request.audit("login.refused", actor=f"account:{account.id}")
        raise Refused
    if device or not settings.server_assisted:
        token = open_staff_device_session(request.dbsession, settings, clock, account_id=account.id)
    else:
        token = open_session(request.dbsession, settings, clock, kind=STAFF, private_key=signed.keypair.private,
                             account_id=account.id)
    request.audit("login.succeeded", actor=f"account:{account.id}")
    parameters = sign_in_parameters(request.dbsession, settings, account.username) if signed.moved_over_now else None
    return SignedIn(token, account, device or not settings.server_assisted, parameters)


def _device_sign_in(request, username: str, auth_key: bytes, otp: str) -> SignedIn | None:
    """Sign in with the auth key the device derived: a session that holds no key."""
    settings, clock = request.whistle_settings, request.clock
    try:
        account = authenticate_device(request.dbsession, settings, clock, username=username, auth_key=auth_key,
                                      otp=otp, client=sign_in_client(request))
    except LoginFailed as failure:
        _failed(request, failure)
        return None
    token = open_staff_device_session(request.dbsession, settings, clock, account_id=account.id)
    request.audit("login.succeeded", actor=f"account:{account.id}")
    return SignedIn(token, account, True)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _auth_key(value: object) -> bytes | None:
    """The auth key from its base64, or None if it is not 32 bytes of base64."""
    if not isinstance(value, str):
        return None
    try:
        key = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    return key if len(key) == AUTH_KEY_LEN else None


def _device_answer(signed: SignedIn) -> dict:
    """What a device needs after signing in: its private key, wrapped for it, and the public
    key to check it against; the salt and cost if this sign-in moved the account over."""
    answer: dict = {"key_by_device": _b64(signed.account.key_by_device or b""),
                    "public_key": _b64(signed.account.public_key), "account_id": signed.account.id}
    if signed.parameters is not None:
        answer.update(_parameters_answer(signed.parameters))
    return answer


def _parameters_answer(parameters: SignInParameters) -> dict:
    if parameters.salt is None or parameters.cost is None:
        return {"scheme": parameters.scheme}
    return {"scheme": parameters.scheme, "salt": _b64(parameters.salt), "opslimit": parameters.cost.opslimit,
            "memlimit": parameters.cost.memlimit}


def _home(request, account: Account, *, path_only: bool = False) -> str:
    # An admin who is not a guardian has no inbox: their home is the admin area. The page's script
    # gets a path: through the desk the page is on 127.0.0.1, not on the server's own address.
    name = "cases.inbox" if account.is_guardian else "admin.overview"
    return request.route_path(name) if path_only else request.route_url(name)


def wants_json(request) -> bool:
    """A page's script asks for JSON (Accept: application/json); a browser's form, HTML."""
    offers = request.accept.acceptable_offers(["text/html", "application/json"])
    return bool(offers) and offers[0][0] == "application/json"


def _form_problem(status: int, detail: str, field: str, **kwargs) -> Response:
    """The sign-in form's words as a problem document, naming the field the page shows them at: in
    the page's language, as the page's own script shows them (unlike the JSON API's, in English)."""
    detail = localized(detail)
    return problem_response(Problem(status, detail, errors=[{"field": field, "message": detail}], **kwargs))


@view_config(route_name="accounts.login", request_method="GET", renderer="whistle:templates/accounts/login.jinja2",
             permission=Permission.STAFF_LOGIN)
def login_form(request):
    return {"username": "", "error": None}


@view_config(route_name="accounts.login", request_method="POST", renderer="whistle:templates/accounts/login.jinja2",
             permission=Permission.STAFF_LOGIN)
def login_submit(request):
    post = request.POST
    username, otp = post.get("username", ""), post.get("otp", "")
    as_json = wants_json(request)
    try:
        if "auth_key" in post:
            auth_key = _auth_key(post.get("auth_key"))
            if auth_key is None:
                return problem_response(validation_problem({"auth_key": "Must be 32 bytes, in base64."}))
            signed = _device_sign_in(request, username, auth_key, otp)
        else:
            signed = _password_sign_in(request, username, post.get("password", ""), otp, device=as_json)
    except Refused:
        if as_json:
            return _form_problem(403, SERVER_ASSISTED_OFF, "password", type=SERVER_ASSISTED_OFF_TYPE,
                                 title="Server-assisted sign-in is off")
        request.response.status = 403
        return {"username": username, "error": SERVER_ASSISTED_OFF}
    except Paused as refused:
        # Returned, not raised: the refusal stays audited and counted.
        words, wait = paused_words(request, refused.paused), retry_after(request, refused.paused.until)
        if as_json:
            response = _form_problem(429, words, "username", type=SIGN_IN_PAUSED_TYPE, title="Sign-in paused")
            response.headers["Retry-After"] = wait
            return response
        request.response.status = 429
        request.response.headers["Retry-After"] = wait
        return {"username": username, "error": words}
    if signed is None:
        # Returned, not raised: the transaction commits, so the failed attempt stays audited.
        if as_json:
            return _form_problem(401, LOGIN_FAILED, "username")
        request.response.status = 401
        return {"username": username, "error": LOGIN_FAILED}
    headers = remember(request, signed.token, kind=STAFF)
    if as_json:
        # The page key of the new session (docs/crypto.md 6.3), which every staff page of it will
        # carry: the sign-in page keeps the private key for the tab under it at once.
        page_key = crypto.page_key(signed.token, request.whistle_settings.session_key)
        answer = {"next": _home(request, signed.account, path_only=True), **_device_answer(signed),
                  "page_key": _b64(page_key)}
        response = Response(json_body=answer)
        response.headers.extend(headers)
        return response
    return HTTPFound(_home(request, signed.account), headers=headers)


@exception_view_config(BadCSRFToken, route_name="accounts.login", request_method="POST",
                       renderer="whistle:templates/accounts/login.jinja2")
def expired_login_form(exc: BadCSRFToken, request):
    """The sign-in form posted from a page older than this browser's session (signed in, or out,
    in another tab): nothing is tried, and the form comes back with the username."""
    if wants_json(request):
        return _form_problem(400, EXPIRED_FORM, "username")
    request.response.status = 400
    return {"username": request.POST.get("username", ""), "error": EXPIRED_FORM}


@exception_view_config(crypto.KdfBusy, route_name="accounts.login", request_method="POST",
                       renderer="whistle:templates/accounts/login.jinja2")
def busy_login_form(exc: crypto.KdfBusy, request):
    """Every Argon2id slot stayed taken (docs/operations.md 6.1): nothing was tried, and the form
    comes back with the username, to send again in a moment."""
    request.response.headers["Retry-After"] = str(exc.retry_after)
    if wants_json(request):
        response = _form_problem(503, BUSY, "password")
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    request.response.status = 503
    return {"username": request.POST.get("username", ""), "error": BUSY}


@view_config(route_name="accounts.logout", request_method="POST", permission=Permission.STAFF_LOGOUT)
def logout(request):
    if isinstance(request.identity, StaffIdentity):
        close_session(request.dbsession, request.whistle_settings, request.identity.token)
        request.audit("logout")
    return HTTPFound(request.route_url("accounts.login"), headers=forget(request, kind=STAFF))


@view_config(route_name="api.staff_sign_in_parameters", request_method="POST", renderer="json",
             permission=Permission.STAFF_LOGIN)
def api_sign_in_parameters(request):
    """The salt and cost a device derives the sign-in keys of `username` with (stand-ins for an
    unknown username), or the "password" scheme for an account not moved over yet."""
    data = read_json(request)
    errors = reject_unknown_members(data, {"username"})
    if not isinstance(data.get("username"), str) or not data.get("username"):
        errors["username"] = "Required, as a string."
    if errors:
        raise validation_problem(errors)
    return _parameters_answer(sign_in_parameters(request.dbsession, request.whistle_settings, data["username"]))


@view_config(route_name="api.staff_session", request_method="POST", renderer="json", permission=Permission.STAFF_LOGIN)
def api_login(request):
    data = read_json(request)
    errors = reject_unknown_members(data, {"username", "password", "auth_key", "otp"})
    for name in ("username", "otp"):
        if not isinstance(data.get(name), str) or not data.get(name):
            errors[name] = "Required, as a string."
    if ("password" in data) == ("auth_key" in data):
        errors["password"] = "Give either the password (server-assisted) or the auth_key (device), not both."
    elif "password" in data and (not isinstance(data["password"], str) or not data["password"]):
        errors["password"] = "Required, as a string."
    elif "auth_key" in data and _auth_key(data["auth_key"]) is None:
        errors["auth_key"] = "Must be 32 bytes, in base64."
    if errors:
        raise validation_problem(errors)
    try:
        if "auth_key" in data:
            signed = _device_sign_in(request, data["username"], _auth_key(data["auth_key"]) or b"", data["otp"])
        else:
            signed = _password_sign_in(request, data["username"], data["password"], data["otp"], device=False)
    except Refused:
        return problem_response(Problem(403, SERVER_ASSISTED_OFF, type=SERVER_ASSISTED_OFF_TYPE,
                                        title="Server-assisted sign-in is off"))
    except Paused as refused:
        return problem_response(Problem(429, paused_words(request, refused.paused), type=SIGN_IN_PAUSED_TYPE,
                                        title="Sign-in paused"),
                                {"Retry-After": retry_after(request, refused.paused.until)})
    if signed is None:
        return problem_response(Problem(401, LOGIN_FAILED), {"WWW-Authenticate": "Bearer"})
    expires_in = int(request.whistle_settings.staff_session_idle.total_seconds())
    answer = {"token": signed.token, "expires_in": expires_in}
    if signed.device:
        answer.update(_device_answer(signed))
    return answer


@view_config(route_name="api.staff_session", request_method="DELETE", permission=Permission.STAFF_LOGOUT)
def api_logout(request):
    close_session(request.dbsession, request.whistle_settings, request.identity.token)
    request.audit("logout")
    return HTTPNoContent()
