"""A staff member's own account: password change, forgotten password, lost authenticator, their
sessions, and where and about what they are notified."""
from __future__ import annotations

from pyramid.httpexceptions import HTTPFound, HTTPNoContent
from pyramid.security import forget
from pyramid.view import view_config

from whistle.accounts.qrcode import qr_svg
from whistle.accounts.services import (
    RECOVERY_MISMATCH,
    AccountError,
    AddressError,
    EventsError,
    change_password,
    check_notify_events,
    end_sessions,
    notify_events,
    reset_authenticator,
    reset_password,
    set_notify_address,
    set_notify_events,
    staff_sessions,
)
from whistle.errors import problem_response, validation_problem
from whistle.escalations.events import EVENTS
from whistle.jsonapi import read_json, reject_unknown_members
from whistle.security.permissions import Permission
from whistle.security.policy import StaffIdentity
from whistle.sessions.models import STAFF


def _session_rows(request) -> list[dict]:
    current = request.identity.session.id
    return [{"id": row.id, "created": row.created_at, "idle_expires": row.idle_expires_at,
             "absolute_expires": row.absolute_expires_at, "current": row.id == current}
            for row in staff_sessions(request.dbsession, request.identity.account)]


@view_config(route_name="accounts.sessions", request_method="GET", renderer="whistle:templates/accounts/sessions.jinja2",
             permission=Permission.STAFF_ACCOUNT)
def sessions_page(request):
    return {"sessions": _session_rows(request)}


@view_config(route_name="accounts.sessions", request_method="POST", permission=Permission.STAFF_ACCOUNT)
def log_out_everywhere(request):
    count = end_sessions(request.dbsession, request.identity.account)
    request.audit("logout.everywhere", detail={"sessions": count})
    return HTTPFound(request.route_url("accounts.login"), headers=forget(request, kind=STAFF))


@view_config(route_name="api.staff_sessions", request_method="GET", renderer="json", permission=Permission.STAFF_ACCOUNT)
def api_sessions(request):
    return {"sessions": _session_rows(request)}


@view_config(route_name="api.staff_sessions", request_method="DELETE", permission=Permission.STAFF_ACCOUNT)
def api_log_out_everywhere(request):
    count = end_sessions(request.dbsession, request.identity.account)
    request.audit("logout.everywhere", detail={"sessions": count})
    return HTTPNoContent()


def _change(request, current: str, new: str, again: str | None = None) -> dict[str, str]:
    if again is not None and again != new:
        return {"again": "The two new passwords differ."}
    try:
        change_password(request.dbsession, request.whistle_settings, request.clock, request.identity.account,
                        current=current, new=new, keep_session_id=request.identity.session.id)
    except AccountError as error:
        field = "current" if "current" in str(error) else "new"
        return {field: str(error).capitalize() + "."}
    return {}


@view_config(route_name="accounts.password", request_method="GET", renderer="whistle:templates/accounts/password.jinja2",
             permission=Permission.STAFF_ACCOUNT)
def password_form(request):
    return {"errors": {}, "done": False}


@view_config(route_name="accounts.password", request_method="POST", renderer="whistle:templates/accounts/password.jinja2",
             permission=Permission.STAFF_ACCOUNT)
def password_submit(request):
    errors = _change(request, request.POST.get("current", ""), request.POST.get("new", ""), request.POST.get("again", ""))
    if errors:
        # Returned, not raised: nothing changed, and a wrong current password stays on record.
        request.response.status = 422
    return {"errors": errors, "done": not errors}


@view_config(route_name="api.staff_password", request_method="POST", permission=Permission.STAFF_ACCOUNT)
def api_password(request):
    data = read_json(request)
    errors = reject_unknown_members(data, {"current", "new"})
    for name in ("current", "new"):
        if not isinstance(data.get(name), str) or not data.get(name):
            errors[name] = "Required, as a string."
    if errors:
        raise validation_problem(errors)
    errors = _change(request, data["current"], data["new"])
    if errors:  # returned, not raised: a wrong current password stays on record (nothing else changed)
        return problem_response(validation_problem(errors))
    return HTTPNoContent()


@view_config(route_name="accounts.forgot", request_method="GET", renderer="whistle:templates/accounts/forgot.jinja2",
             permission=Permission.STAFF_LOGIN)
def forgot_form(request):
    return {"username": "", "errors": {}, "done": False}


@view_config(route_name="accounts.forgot", request_method="POST", renderer="whistle:templates/accounts/forgot.jinja2",
             permission=Permission.STAFF_LOGIN)
def forgot_submit(request):
    post = request.POST
    username, new = post.get("username", ""), post.get("new", "")
    errors = {}
    if new != post.get("again", ""):
        errors["again"] = "The two new passwords differ."
    else:
        try:
            reset_password(request.dbsession, request.whistle_settings, request.clock, username=username,
                           recovery_key=post.get("recovery_key", ""), new=new)
        except AccountError as error:
            errors["new" if "password" in str(error) else "recovery_key"] = str(error).capitalize() + "."
    if errors:
        # Returned, not raised: reset_password changes nothing until every check passes, and the
        # failed attempt stays on record (no username or key in it).
        request.audit("account.password_reset_failed", actor="anonymous")
        request.response.status = 422
    return {"username": username, "errors": errors, "done": not errors}


RECOVERY_MISMATCH_SENTENCE = RECOVERY_MISMATCH.capitalize() + "."
QR_LABEL = ("QR code for your authenticator app. It holds the same setup key as the text "
            "shown with it, which you can type or paste instead.")


def _reset_authenticator(request, username: str, recovery_key: str):
    """The new authenticator, or None (the failure is audited; the caller answers 422)."""
    try:
        return reset_authenticator(request.dbsession, request.clock, username=username, recovery_key=recovery_key)
    except AccountError:
        # No username or key in the record: it would name an account to anyone reading the log.
        request.audit("account.authenticator_reset_failed", actor="anonymous")
        return None


@view_config(route_name="accounts.authenticator", request_method="GET",
             renderer="whistle:templates/accounts/authenticator.jinja2", permission=Permission.STAFF_LOGIN)
def authenticator_form(request):
    return {"username": "", "errors": {}, "new": None}


@view_config(route_name="accounts.authenticator", request_method="POST",
             renderer="whistle:templates/accounts/authenticator.jinja2", permission=Permission.STAFF_LOGIN)
def authenticator_submit(request):
    username = request.POST.get("username", "")
    new = _reset_authenticator(request, username, request.POST.get("recovery_key", ""))
    if new is None:
        # Returned, not raised: nothing changed, and the failed attempt stays on record.
        request.response.status = 422
        return {"username": username, "errors": {"recovery_key": RECOVERY_MISMATCH_SENTENCE}, "new": None}
    identity = request.identity
    if isinstance(identity, StaffIdentity) and identity.account.id == new.account.id:
        # This browser's own session has just ended with the others: let go of its cookie too.
        request.response.headers.extend(forget(request, kind=STAFF))
    return {"username": new.account.username, "errors": {}, "new": new,
            "qr": qr_svg(new.totp_uri, label=QR_LABEL)}


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
    new = _reset_authenticator(request, data["username"], data["recovery_key"])
    if new is None:  # returned, not raised: the failed attempt stays on record (nothing else changed)
        return problem_response(validation_problem({"recovery_key": RECOVERY_MISMATCH_SENTENCE}))
    return {"totp_secret": new.totp_secret, "totp_uri": new.totp_uri}


# --- where and about what I am notified ---


# Posted with the event boxes: unticked boxes send nothing, so without it a post from a page that
# had no boxes could not be told from one where every box was unticked.
EVENTS_SHOWN = "events_shown"


def notify_form_values(account, post=None) -> dict:
    """The form's values: from the account, or as posted (the ticked event boxes kept as ticked;
    the account's own when the post had no boxes)."""
    told = [event for event, on in notify_events(account).items() if on]
    if post is None:
        return {"channel": account.notify_channel or "", "address": account.notify_address or "", "events": told}
    return {"channel": post.get("channel", ""), "address": post.get("address", ""),
            "events": post.getall("events") if EVENTS_SHOWN in post else told}


def available_channels(request) -> list[str]:
    return sorted(getattr(request.registry, "notification_channels", {}))


def _notifications_page(request, *, values: dict, errors: dict, done: bool = False) -> dict:
    current = _notification_settings(request)
    return {"values": values, "errors": errors, "done": done, "channels": current["channels"],
            "usable": current["usable"], "events": EVENTS}


def _notification_settings(request) -> dict:
    account = request.identity.account
    return {"channel": account.notify_channel, "address": account.notify_address,
            "channels": available_channels(request),
            "usable": account.notify_channel in available_channels(request) and bool(account.notify_address),
            "events": notify_events(account)}


@view_config(route_name="api.staff_notifications", request_method="GET", renderer="json",
             permission=Permission.STAFF_ACCOUNT)
def api_notifications(request):
    return _notification_settings(request)


@view_config(route_name="api.staff_notifications", request_method="PUT", renderer="json",
             permission=Permission.STAFF_ACCOUNT)
def api_set_notifications(request):
    """Set where I am notified, {"channel", "address"} (a null or empty channel means no notices),
    and which events I am told about, {"events": {event: true or false}}. What is left out of the
    body stays as it is."""
    data = read_json(request)
    errors = reject_unknown_members(data, {"channel", "address", "events"})
    for name in ("channel", "address"):
        if data.get(name) is not None and not isinstance(data[name], str):
            errors[name] = "A string, or null."
    account = request.identity.account
    if "events" in data:
        try:
            check_notify_events(account, data["events"])
        except EventsError as error:
            errors["events"] = error.sentence
    if errors:
        raise validation_problem(errors)
    actor = f"account:{account.id}"
    if "channel" in data or "address" in data:
        try:
            set_notify_address(request.dbsession, request.clock, account, data.get("channel") or "",
                               data.get("address") or "", available=available_channels(request), actor=actor)
        except AddressError as error:
            raise validation_problem({error.field: error.sentence}) from None
    if "events" in data:
        set_notify_events(request.dbsession, request.clock, account, data["events"], actor=actor)
    return _notification_settings(request)


@view_config(route_name="accounts.notifications", request_method="GET",
             renderer="whistle:templates/accounts/notifications.jinja2", permission=Permission.STAFF_ACCOUNT)
def notifications_form(request):
    return _notifications_page(request, values=notify_form_values(request.identity.account), errors={})


@view_config(route_name="accounts.notifications", request_method="POST",
             renderer="whistle:templates/accounts/notifications.jinja2", permission=Permission.STAFF_ACCOUNT)
def notifications_submit(request):
    """One form for both: the channel and address, and a box per event (unticked: not told)."""
    account = request.identity.account
    values = notify_form_values(account, request.POST)
    wanted = {**{event: False for event in EVENTS}, **{event: True for event in values["events"]}}
    errors = {}
    try:
        check_notify_events(account, wanted)
    except EventsError as error:
        errors["events"] = error.sentence
    if not errors:
        try:
            set_notify_address(request.dbsession, request.clock, account, values["channel"], values["address"],
                               available=available_channels(request), actor=f"account:{account.id}")
        except AddressError as error:
            errors[error.field] = error.sentence
    if errors:
        request.tm.doom()  # nothing changed; the form keeps what was typed and ticked
        request.response.status = 422
        return _notifications_page(request, values=values, errors=errors)
    set_notify_events(request.dbsession, request.clock, account, wanted, actor=f"account:{account.id}")
    return _notifications_page(request, values=notify_form_values(account), errors={}, done=True)
