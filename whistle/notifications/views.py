"""A guardian's own notices, as a page (/staff/notifications) and as JSON: where they are told,
in which language, and about which events."""
from __future__ import annotations

from pyramid.csrf import BadCSRFToken
from pyramid.view import exception_view_config, view_config

from whistle.accounts.staff_views import on_the_page
from whistle.errors import validation_problem
from whistle.errors.views import bad_csrf_view
from whistle.i18n import LANGUAGES, _, english
from whistle.jsonapi import read_json, reject_unknown_members
from whistle.notifications.preferences import (
    ALWAYS_ON,
    EVENTS,
    AddressError,
    EventsError,
    LanguageError,
    check_notify_events,
    check_notify_language,
    notify_events,
    set_notify_address,
    set_notify_events,
    set_notify_language,
    shipped_notice_language,
)
from whistle.security.permissions import Permission
from whistle.words import EXPIRED_FORM, NOTIFICATION_CHANNEL_LABELS, label

# Posted with the event boxes: unticked boxes send nothing, so without it a post from a page that
# had no boxes could not be told from one where every box was unticked.
EVENTS_SHOWN = "events_shown"


def notify_form_values(account, post=None) -> dict:
    """The form's values: from the account, or as posted (the ticked event boxes kept as ticked;
    the account's own when the post had no boxes)."""
    told = [event for event, on in notify_events(account).items() if on]
    language = shipped_notice_language(account) or ""
    if post is None:
        return {"channel": account.notify_channel or "", "address": account.notify_address or "",
                "language": language, "events": told}
    return {"channel": post.get("channel", ""), "address": post.get("address", ""),
            "language": post.get("language", language),
            "events": post.getall("events") if EVENTS_SHOWN in post else told}


def available_channels(request) -> list[str]:
    return sorted(getattr(request.registry, "notification_channels", {}))


def _notifications_page(request, *, values: dict, errors: dict, done: bool = False) -> dict:
    current = _notification_settings(request)
    # A channel the guardian chose that no plugin offers any more stays chosen, saying so.
    not_available = _("${name} (not available)",
                      mapping={"name": label(NOTIFICATION_CHANNEL_LABELS, values["channel"])})
    return {"values": values, "errors": on_the_page(errors), "done": done, "channels": current["channels"],
            "not_available": not_available,
            # Each language in its own name, as the home page offers them.
            "notice_languages": [(language.code, language.name, language) for language in LANGUAGES.values()],
            "usable": current["usable"],
            "events": {event: words for event, words in EVENTS.items() if event not in ALWAYS_ON},
            "always_on": [words for event, words in EVENTS.items() if event in ALWAYS_ON]}


def _notification_settings(request) -> dict:
    account = request.identity.account
    return {"channel": account.notify_channel, "address": account.notify_address,
            "language": shipped_notice_language(account),
            "channels": available_channels(request),
            "usable": account.notify_channel in available_channels(request) and bool(account.notify_address),
            "events": notify_events(account)}


@view_config(route_name="api.staff_notifications", request_method="GET", renderer="json",
             permission=Permission.STAFF_ACCOUNT)
def api_notifications(request):
    return english(_notification_settings(request))  # the API answers in English


@view_config(route_name="api.staff_notifications", request_method="PUT", renderer="json",
             permission=Permission.STAFF_ACCOUNT)
def api_set_notifications(request):
    """Set where I am notified, {"channel", "address"} (a null or empty channel means no notices),
    in which language, {"language": a code, or null for the channel's own}, and which events I am
    told about, {"events": {event: true or false}}. What is left out of the body stays as it is."""
    data = read_json(request)
    errors = reject_unknown_members(data, {"channel", "address", "language", "events"})
    for name in ("channel", "address", "language"):
        if data.get(name) is not None and not isinstance(data[name], str):
            errors[name] = "A string, or null."
    account = request.identity.account
    if "language" in data and "language" not in errors:
        try:
            check_notify_language(data["language"])
        except LanguageError as error:
            errors["language"] = error.sentence
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
                               data.get("address") or "", available=request.registry.notification_channels,
                               actor=actor)
        except AddressError as error:
            raise validation_problem({error.field: error.sentence}) from None
    if "language" in data:
        set_notify_language(request.dbsession, request.clock, account, data["language"], actor=actor)
    if "events" in data:
        set_notify_events(request.dbsession, request.clock, account, data["events"], actor=actor)
    return english(_notification_settings(request))


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
    # The events nobody can turn off have no box: they are left out of what is set.
    wanted = {**dict.fromkeys((event for event in EVENTS if event not in ALWAYS_ON), False),
              **dict.fromkeys(values["events"], True)}
    errors = {}
    try:
        check_notify_language(values["language"])
    except LanguageError as error:
        errors["language"] = error.sentence
    try:
        check_notify_events(account, wanted)
    except EventsError as error:
        errors["events"] = error.sentence
    if not errors:
        try:
            set_notify_address(request.dbsession, request.clock, account, values["channel"], values["address"],
                               available=request.registry.notification_channels, actor=f"account:{account.id}")
        except AddressError as error:
            errors[error.field] = error.sentence
    if errors:
        request.tm.doom()  # nothing changed; the form keeps what was typed and ticked
        request.response.status = 422
        return _notifications_page(request, values=values, errors=errors)
    set_notify_language(request.dbsession, request.clock, account, values["language"], actor=f"account:{account.id}")
    set_notify_events(request.dbsession, request.clock, account, wanted, actor=f"account:{account.id}")
    return _notifications_page(request, values=notify_form_values(account), errors={}, done=True)


@exception_view_config(BadCSRFToken, route_name="accounts.notifications", request_method="POST",
                       renderer="whistle:templates/accounts/notifications.jinja2")
def expired_notifications_form(exc: BadCSRFToken, request):
    """The form posted from a page older than this browser's session (signed in again in another
    tab): nothing is changed, and the form comes back as it was filled in. The view deriver checks
    the permission before the token, so the caller is signed in."""
    account = getattr(request.identity, "account", None)
    if account is None:
        return bad_csrf_view(exc, request)
    request.response.status = 400
    return _notifications_page(request, values=notify_form_values(account, request.POST),
                               errors={"page": EXPIRED_FORM})
