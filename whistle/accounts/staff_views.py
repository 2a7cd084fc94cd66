"""A staff member's own account: password change, forgotten password, lost authenticator, their
sessions. (Where and about what they are notified: whistle.notifications.views.)"""
from __future__ import annotations

from pyramid.csrf import BadCSRFToken
from pyramid.httpexceptions import HTTPFound, HTTPNoContent
from pyramid.response import Response
from pyramid.security import forget
from pyramid.view import exception_view_config, view_config

from whistle.accounts.identity import StaffIdentity
from whistle.accounts.qrcode import qr_svg
from whistle.accounts.services import (
    AUTH_KEY_LEN,
    RECOVERY_MISMATCH_SENTENCE,
    AccountError,
    DeviceKeys,
    DeviceKeysRefused,
    RecoveryPaused,
    change_password,
    change_password_on_device,
    end_sessions,
    failed_sign_ins_seen,
    reset_authenticator,
    reset_password,
    staff_sessions,
)
from whistle.accounts.views import retry_after, sign_in_client, wants_json
from whistle.errors import Problem, problem_response, validation_problem
from whistle.i18n import _, localized
from whistle.jsonapi import decode_base64, read_json, reject_unknown_members
from whistle.security.permissions import Permission
from whistle.sessions.models import STAFF
from whistle.words import EXPIRED_FORM, time_words


def _session_rows(request) -> list[dict]:
    current = request.identity.session.id
    return [{"id": row.id, "created": row.created_at, "idle_expires": row.idle_expires_at,
             "absolute_expires": row.absolute_expires_at, "current": row.id == current}
            for row in staff_sessions(request.dbsession, request.identity.account)]


@view_config(route_name="accounts.sessions", request_method="GET",
             renderer="whistle:templates/accounts/sessions.jinja2", permission=Permission.STAFF_ACCOUNT)
def sessions_page(request):
    return {"sessions": _session_rows(request)}


@view_config(route_name="accounts.sessions", request_method="POST", permission=Permission.STAFF_ACCOUNT)
def log_out_everywhere(request):
    count = end_sessions(request.dbsession, request.identity.account)
    request.audit("logout.everywhere", detail={"sessions": count})
    return HTTPFound(request.route_url("accounts.login"), headers=forget(request, kind=STAFF))


@view_config(route_name="api.staff_sessions", request_method="GET", renderer="json",
             permission=Permission.STAFF_ACCOUNT)
def api_sessions(request):
    return {"sessions": _session_rows(request)}


@view_config(route_name="api.staff_sessions", request_method="DELETE", permission=Permission.STAFF_ACCOUNT)
def api_log_out_everywhere(request):
    count = end_sessions(request.dbsession, request.identity.account)
    request.audit("logout.everywhere", detail={"sessions": count})
    return HTTPNoContent()


def _change(request, current: str, new: str, again: str | None = None) -> dict[str, str]:
    if again is not None and again != new:
        return {"again": PASSWORDS_DIFFER}
    try:
        change_password(request.dbsession, request.whistle_settings, request.clock, request.identity.account,
                        current=current, new=new, client=sign_in_client(request),
                        keep_session_id=request.identity.session.id)
    except AccountError as error:
        field = "current" if "current" in str(error) else "new"
        return {field: error.sentence}
    return {}


# A password change done on the device (password.js, or an API client): the current password
# proved by its auth key, the new one's keys derived there. Neither password reaches the server.
DEVICE_FIELDS = ("current_auth_key", "new_salt", "new_opslimit", "new_memlimit", "new_auth_key", "new_key_by_device")
PASSWORD_FIELDS = ("current", "new", "again")
PASSWORD_CHANGED = _("Your password is changed. Your other sessions have ended.")


PASSWORDS_DIFFER = _("The two new passwords differ.")


def _whole_number(value: object) -> int | None:
    """A non-negative whole number from JSON (an int) or a form (its decimal digits)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if value >= 0 else None
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 20:
        return int(value)
    return None


def _device_change(request, fields) -> dict[str, str]:
    """Check the device's fields by name, then change the password with them; the errors by field."""
    errors: dict[str, str] = {}
    current = decode_base64(fields.get("current_auth_key"))
    if current is None or len(current) != AUTH_KEY_LEN:
        errors["current_auth_key"] = f"Required: {AUTH_KEY_LEN} bytes, in base64."
    keys = {name: decode_base64(fields.get(name)) for name in ("new_salt", "new_auth_key", "new_key_by_device")}
    errors.update({name: "Required, in base64." for name, value in keys.items() if value is None})
    costs = {name: _whole_number(fields.get(name)) for name in ("new_opslimit", "new_memlimit")}
    errors.update({name: "Required, as a whole number." for name, value in costs.items() if value is None})
    if errors:
        return errors
    # None of them is None past the checks above; the `or` defaults are for the type checker.
    new = DeviceKeys(salt=keys["new_salt"] or b"", opslimit=costs["new_opslimit"] or 0,
                     memlimit=costs["new_memlimit"] or 0, auth_key=keys["new_auth_key"] or b"",
                     key_by_device=keys["new_key_by_device"] or b"")
    try:
        change_password_on_device(request.dbsession, request.whistle_settings, request.clock,
                                  request.identity.account, current_auth_key=current or b"", new=new,
                                  client=sign_in_client(request), keep_session_id=request.identity.session.id)
    except DeviceKeysRefused as refused:
        return refused.errors
    except AccountError as error:  # the current password's auth key is wrong (counted, audited)
        return {"current_auth_key": error.sentence}
    return {}


def on_the_page(errors: dict) -> dict[str, str]:
    """A form's errors as plain text in the page's language: the form macros put each together
    with its field's label (whistle.words.field_error), which a marked value would not survive."""
    return {name: localized(message) for name, message in errors.items()}


def _on_the_form(errors: dict[str, str]) -> dict[str, str]:
    """The device's field names as the page's fields, for the HTML answer."""
    return {("current" if name.startswith("current") else "new"): message for name, message in errors.items()}


@view_config(route_name="accounts.failed_sign_ins", request_method="POST", permission=Permission.STAFF_ACCOUNT)
def failed_sign_ins_read(request):
    """The owner has read how many sign-ins failed on their account (the notice on every staff page)."""
    failed_sign_ins_seen(request.dbsession, request.identity.account)
    home = "cases.inbox" if request.identity.account.is_guardian else "admin.overview"
    return HTTPFound(request.route_url(home))


@view_config(route_name="accounts.password", request_method="GET",
             renderer="whistle:templates/accounts/password.jinja2", permission=Permission.STAFF_ACCOUNT)
def password_form(request):
    return {"errors": {}, "done": False}


@view_config(route_name="accounts.password", request_method="POST",
             renderer="whistle:templates/accounts/password.jinja2", permission=Permission.STAFF_ACCOUNT)
def password_submit(request):
    post = request.POST
    on_device = any(name in post for name in DEVICE_FIELDS)
    if on_device and any(name in post for name in PASSWORD_FIELDS):
        errors = {"current": _("Send either the passwords or the keys derived on the device, not both.")}
    elif on_device:
        errors = _device_change(request, post)
    else:
        errors = _change(request, post.get("current", ""), post.get("new", ""), post.get("again", ""))
    # Errors are returned, not raised: nothing changed, and a wrong current password stays on record.
    if wants_json(request):
        # The page's own script shows these words: in the page's language, unlike the JSON API's.
        if errors:
            return problem_response(validation_problem({name: localized(message) for name, message in errors.items()}))
        return Response(json_body={"message": localized(PASSWORD_CHANGED)})
    if errors:
        request.response.status = 422
    return {"errors": on_the_page(_on_the_form(errors) if on_device else errors), "done": not errors}


@view_config(route_name="api.staff_password", request_method="POST", permission=Permission.STAFF_ACCOUNT)
def api_password(request):
    data = read_json(request)
    on_device = any(name in data for name in DEVICE_FIELDS)
    errors = reject_unknown_members(data, set(DEVICE_FIELDS) if on_device else {"current", "new"})
    if on_device and ("current" in data or "new" in data):
        errors = {name: "Send either current and new, or the keys derived on the device, not both."
                  for name in ("current", "new") if name in data}
    elif not on_device:
        for name in ("current", "new"):
            if not isinstance(data.get(name), str) or not data.get(name):
                errors[name] = "Required, as a string."
    if errors:
        raise validation_problem(errors)
    errors = _device_change(request, data) if on_device else _change(request, data["current"], data["new"])
    if errors:  # returned, not raised: a wrong current password stays on record (nothing else changed)
        return problem_response(validation_problem(errors))
    return HTTPNoContent()


@view_config(route_name="accounts.forgot", request_method="GET", renderer="whistle:templates/accounts/forgot.jinja2",
             permission=Permission.STAFF_LOGIN)
def forgot_form(request):
    return {"username": "", "errors": {}, "done": False}


def paused_sentence(request, paused: RecoveryPaused) -> str:
    """Why a recovery key was not tried, and when it will be, in the zone the pages use."""
    until = time_words(paused.until, request.whistle_settings.display_timezone)
    return _("Too many wrong recovery keys have been tried lately from this device, or on this service after one "
             "from this device, so yours was not tried. Try again after ${until}, or ask your administrator.",
             mapping={"until": until})


def _retry_after(request, paused: RecoveryPaused) -> str:
    """The seconds until recovery keys are tried again, for a Retry-After header."""
    return retry_after(request, paused.until)


@view_config(route_name="accounts.forgot", request_method="POST", renderer="whistle:templates/accounts/forgot.jinja2",
             permission=Permission.STAFF_LOGIN)
def forgot_submit(request):
    post = request.POST
    username, new = post.get("username", ""), post.get("new", "")
    errors, reset = {}, None
    if new != post.get("again", ""):
        errors["again"] = PASSWORDS_DIFFER
    else:
        try:
            reset = reset_password(request.dbsession, request.whistle_settings, request.clock, username=username,
                                   recovery_key=post.get("recovery_key", ""), new=new, call_hook=request.call_hook,
                                   client=sign_in_client(request))
        except RecoveryPaused as paused:
            errors["recovery_key"] = paused_sentence(request, paused)
            request.response.headers["Retry-After"] = _retry_after(request, paused)
            request.response.status = 429
        except AccountError as error:
            errors["new" if "password" in str(error) else "recovery_key"] = error.sentence
    if errors:
        # Returned, not raised: reset_password changes nothing until every check passes but the
        # count of wrong recovery keys (audited once an hour, with no username or key in it).
        if request.response.status_int != 429:
            request.response.status = 422
        return {"username": username, "errors": on_the_page(errors), "done": False, "recovery_key": None}
    return {"username": username, "errors": {}, "done": True, "recovery_key": reset.recovery_key if reset else None}


QR_LABEL = _("QR code for your authenticator app. It holds the same setup key as the text "
             "shown with it, which you can type or paste instead.")


def _reset_authenticator(request, username: str, recovery_key: str):
    """The new authenticator; raises AccountError (RecoveryPaused past the hour's budget), after
    which the caller answers without dooming the transaction, so the wrong key is counted."""
    return reset_authenticator(request.dbsession, request.whistle_settings, request.clock, username=username,
                               recovery_key=recovery_key, call_hook=request.call_hook, client=sign_in_client(request))


@view_config(route_name="accounts.authenticator", request_method="GET",
             renderer="whistle:templates/accounts/authenticator.jinja2", permission=Permission.STAFF_LOGIN)
def authenticator_form(request):
    return {"username": "", "errors": {}, "new": None}


@view_config(route_name="accounts.authenticator", request_method="POST",
             renderer="whistle:templates/accounts/authenticator.jinja2", permission=Permission.STAFF_LOGIN)
def authenticator_submit(request):
    username = request.POST.get("username", "")
    try:
        new = _reset_authenticator(request, username, request.POST.get("recovery_key", ""))
    except RecoveryPaused as paused:
        request.response.headers["Retry-After"] = _retry_after(request, paused)
        request.response.status = 429
        return {"username": username, "errors": on_the_page({"recovery_key": paused_sentence(request, paused)}),
                "new": None}
    except AccountError:
        # Returned, not raised: nothing changed but the count of wrong keys, which is kept.
        request.response.status = 422
        return {"username": username, "errors": {"recovery_key": RECOVERY_MISMATCH_SENTENCE}, "new": None}
    identity = request.identity
    if isinstance(identity, StaffIdentity) and identity.account.id == new.account.id:
        # This browser's own session has just ended with the others: let go of its cookie too.
        request.response.headers.extend(forget(request, kind=STAFF))
    return {"username": new.account.username, "errors": {}, "new": new,
            "qr": qr_svg(new.totp_uri, label=localized(QR_LABEL))}


@view_config(route_name="api.staff_authenticator", request_method="POST", renderer="json",
             permission=Permission.STAFF_LOGIN)
def api_reset_authenticator(request):
    data = read_json(request)
    errors = reject_unknown_members(data, {"username", "recovery_key"})
    for name in ("username", "recovery_key"):
        if not isinstance(data.get(name), str) or not data.get(name):
            errors[name] = "Required, as a string."
    if errors:
        raise validation_problem(errors)
    # Returned, not raised: nothing changed but the count of wrong keys, which is kept.
    try:
        new = _reset_authenticator(request, data["username"], data["recovery_key"])
    except RecoveryPaused as paused:
        return problem_response(Problem(429, paused_sentence(request, paused)),
                                {"Retry-After": _retry_after(request, paused)})
    except AccountError:
        return problem_response(validation_problem({"recovery_key": RECOVERY_MISMATCH_SENTENCE}))
    return {"totp_secret": new.totp_secret, "totp_uri": new.totp_uri, "recovery_key": new.recovery_key}


# --- a form posted from a page older than this browser's session (signed in again in another
# tab): nothing is done, and the form comes back with what was typed, passwords and keys apart.
# The error page's "reload and try again" would lose it (the pages are no-store).

@exception_view_config(BadCSRFToken, route_name="accounts.password", request_method="POST",
                       renderer="whistle:templates/accounts/password.jinja2")
def expired_password_form(exc: BadCSRFToken, request):
    if wants_json(request):
        return problem_response(Problem(400, EXPIRED_FORM, errors=[{"field": "current", "message": EXPIRED_FORM}]))
    request.response.status = 400
    return {"errors": {"page": EXPIRED_FORM}, "done": False}


@exception_view_config(BadCSRFToken, route_name="accounts.forgot", request_method="POST",
                       renderer="whistle:templates/accounts/forgot.jinja2")
def expired_forgot_form(exc: BadCSRFToken, request):
    request.response.status = 400
    return {"username": request.POST.get("username", ""), "errors": {"page": EXPIRED_FORM}, "done": False}


@exception_view_config(BadCSRFToken, route_name="accounts.authenticator", request_method="POST",
                       renderer="whistle:templates/accounts/authenticator.jinja2")
def expired_authenticator_form(exc: BadCSRFToken, request):
    request.response.status = 400
    return {"username": request.POST.get("username", ""), "errors": {"page": EXPIRED_FORM}, "new": None}
