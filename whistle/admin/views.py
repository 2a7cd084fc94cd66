"""The admin area, as pages and as JSON. Nothing here unlocks or decrypts a case."""
from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPFound, HTTPNotFound
from pyramid.view import view_config

from whistle import words
from whistle.accounts.models import Account
from whistle.accounts.services import AccountError
from whistle.accounts.staff_views import on_the_page
from whistle.admin import services
from whistle.admin.models import StaffingProposal
from whistle.cases.inbox import MAX_PAGE
from whistle.errors import Problem, validation_problem
from whistle.i18n import _, localized
from whistle.jsonapi import read_json, reject_unknown_members
from whistle.key_directory.services import UNATTENDED_REASONS, unattended_reasons
from whistle.notifications.preferences import AddressError, set_notify_address
from whistle.numbers import whole_number
from whistle.security.permissions import Permission
from whistle.timeline import names_for
from whistle.words import event_words, reporter_dated

AUDIT_PER_PAGE = 50


def _actor(request) -> str:
    return f"account:{request.identity.account.id}"


@view_config(route_name="admin.overview", renderer="whistle:templates/admin/overview.jinja2",
             permission=Permission.ADMIN_VIEW)
def overview_page(request):
    overview = services.overview(request.dbsession, request.whistle_settings, request.clock)
    # The page capitalises these phrases, which only a plain string in the page's language survives.
    for row in overview["unattended_channels"] + overview["unassigned_by_channel"]:
        row["explanation"] = localized(row["explanation"])
    return {"overview": overview}


@view_config(route_name="api.admin_overview", request_method="GET", renderer="json", permission=Permission.ADMIN_VIEW)
def api_overview(request):
    return services.overview(request.dbsession, request.whistle_settings, request.clock)


def _guardians_page(request, *, errors=None, values=None, enrolment=None) -> dict:
    return {
        "accounts": services.accounts(request.dbsession),
        "channels": [c for c, _members in services.channels_with_members(request.dbsession)],
        "slugs_of": lambda account: services.channel_slugs_of(request.dbsession, account),
        "errors": on_the_page(errors or {}), "values": values or {}, "enrolment": enrolment,
        "held": request.whistle_settings.two_admin_rule,
        "waiting": services.waiting_for_signature(request.dbsession, request.whistle_settings, request.clock),
    }


@view_config(route_name="admin.guardians", request_method="GET", renderer="whistle:templates/admin/guardians.jinja2",
             permission=Permission.ADMIN_VIEW)
def guardians_page(request):
    return _guardians_page(request)


@view_config(route_name="admin.guardians", request_method="POST", renderer="whistle:templates/admin/guardians.jinja2",
             permission=Permission.ADMIN_MANAGE)
def guardian_add(request):
    post = request.POST
    values = {"username": post.get("username", ""), "guardian": bool(post.get("guardian")),
              "admin": bool(post.get("admin")), "channels": post.getall("channels")}
    errors = {}
    if post.get("password", "") != post.get("again", ""):
        errors["again"] = _("The two passwords differ.")
    elif not (values["guardian"] or values["admin"]):
        errors["roles"] = _("Choose at least one role.")
    else:
        try:
            enrolment = services.add_account(
                request.dbsession, request.whistle_settings, request.clock, username=values["username"],
                password=post.get("password", ""), is_guardian=values["guardian"], is_admin=values["admin"],
                channel_slugs=tuple(values["channels"]), actor=_actor(request), by=request.identity.account,
            )
        except AccountError as error:
            errors["password" if "password" in str(error) else "username"] = error.sentence
    if errors:
        request.tm.doom()
        request.response.status = 422
        return _guardians_page(request, errors=errors, values=values)
    # Shown once, on this response only: the recovery key and the TOTP secret are never stored readable.
    return _guardians_page(request, enrolment=enrolment)


def _account(request) -> Account:
    account = request.dbsession.get(Account, int(request.matchdict["id"]))
    if account is None:
        raise HTTPNotFound()
    return account


def _guardian_page(request, account: Account, *, form: dict, notify: dict, errors=None, confirm=None) -> dict:
    """The account page; `form` holds the roles, flag and channels to show ticked, `confirm`
    what the change asked for would leave behind (the page then asks before making it)."""
    return {"account": account, "channels": [c for c, _m in services.channels_with_members(request.dbsession)],
            "form": form, "member_of": sorted(form["channels"]), "errors": on_the_page(errors or {}), "notify": notify,
            "notification_channels": _notification_channels(request), "confirm": confirm,
            # A way of sending the account chose that is not enabled here stays chosen, saying so.
            "not_enabled": _("${name} (not enabled)", mapping={
                "name": words.label(words.NOTIFICATION_CHANNEL_LABELS, notify["channel"])}),
            "waiting": sorted(slug for slug, account_id in services.waiting_for_signature(
                request.dbsession, request.whistle_settings, request.clock) if account_id == account.id),
            "held": request.whistle_settings.two_admin_rule}


def _change_signature(form: dict) -> str:
    """The change a confirmation is for: a confirmed form whose ticks were altered asks again."""
    return (f"guardian={int(form['guardian'])};admin={int(form['admin'])};disabled={int(form['disabled'])};"
            f"channels={','.join(sorted(form['channels']))}")


def _confirm_button(account: Account, form: dict) -> str:
    """In the page's language: the page quotes it inside a sentence as well as on the button."""
    if form["disabled"] and not account.disabled:
        return localized(_("Yes, disable"))
    if not form["guardian"]:
        return localized(_("Yes, remove the guardian role"))
    return localized(_("Yes, take them off those channels"))


@view_config(route_name="admin.guardian", request_method="GET", renderer="whistle:templates/admin/guardian.jinja2",
             permission=Permission.ADMIN_VIEW)
def guardian_page(request):
    account = _account(request)
    form = {"guardian": account.is_guardian, "admin": account.is_admin, "disabled": account.disabled,
            "channels": services.channel_slugs_of(request.dbsession, account)}
    return _guardian_page(request, account, form=form,
                          notify={"channel": account.notify_channel or "", "address": account.notify_address or ""})


@view_config(route_name="admin.guardian", request_method="POST", renderer="whistle:templates/admin/guardian.jinja2",
             permission=Permission.ADMIN_MANAGE)
def guardian_update(request):
    account, post = _account(request), request.POST
    me = request.identity.account
    form: dict[str, Any] = {"guardian": bool(post.get("guardian")), "admin": bool(post.get("admin")),
            "disabled": bool(post.get("disabled")), "channels": set(post.getall("channels"))}
    # Where the guardian is notified; a form without these fields leaves them as they are.
    notify = {"channel": post.get("notify_channel", account.notify_channel or ""),
              "address": post.get("notify_address", account.notify_address or "")}
    errors = {}
    proposal = None
    try:
        proposal = services.change_account(request.dbsession, request.whistle_settings, request.clock, account, by=me,
                                           guardian=form["guardian"],
                                           admin=form["admin"], disabled=form["disabled"], channels=form["channels"],
                                           confirmed=post.get("confirm") == _change_signature(form))
    except services.ConfirmationNeeded as needed:
        request.tm.doom()  # nothing changes until the admin says yes
        return _guardian_page(request, account, form=form, notify=notify, confirm={
            "sentences": needed.consequences.sentences(account.username), "change": _change_signature(form),
            "button": _confirm_button(account, form)})
    except AccountError as error:
        errors["roles"] = error.sentence
    if not errors:
        try:
            set_notify_address(request.dbsession, request.clock, account, notify["channel"], notify["address"],
                               available=request.registry.notification_channels, actor=_actor(request))
        except AddressError as error:
            errors[f"notify_{error.field}"] = error.sentence
    if errors:
        request.tm.doom()
        request.response.status = 422
        return _guardian_page(request, account, form=form, notify=notify, errors=errors)
    if proposal is not None:
        return HTTPFound(request.route_url("admin.proposals", _query={"proposed": proposal.id}))
    return HTTPFound(request.route_url("admin.guardians"))


@view_config(route_name="admin.channels", renderer="whistle:templates/admin/channels.jinja2",
             permission=Permission.ADMIN_VIEW)
def channels_page(request):
    unattended = unattended_reasons(request.dbsession, request.whistle_settings, request.clock)
    usernames = {account.id: account.username for account in services.accounts(request.dbsession)}
    waiting = {(slug, usernames.get(account_id)) for slug, account_id in
               services.waiting_for_signature(request.dbsession, request.whistle_settings, request.clock)}
    return {"channels": services.channels_with_members(request.dbsession), "waiting": waiting,
            "not_taking_reports": {channel_id: localized(UNATTENDED_REASONS[reason])
                                   for channel_id, reason in unattended.items()}}


def _paging(request) -> tuple[int, int]:
    try:
        page = int(request.params.get("page", 1))
        per_page = int(request.params.get("per_page", AUDIT_PER_PAGE))
    except ValueError:
        raise validation_problem({"page": "Expected whole numbers for page and per_page."}) from None
    if not 1 <= page <= MAX_PAGE or not 1 <= per_page <= 500:
        raise validation_problem({"page": f"page from 1 to {MAX_PAGE} and per_page between 1 and 500."})
    return page, per_page


@view_config(route_name="admin.audit", renderer="whistle:templates/admin/audit.jinja2",
             permission=Permission.ADMIN_VIEW)
def audit_page(request):
    page, per_page = _paging(request)
    events, total = services.audit_page(request.dbsession, page, per_page)
    exports = {name: export.title for name, export in services.statistics_exports(request.call_hook).items()}
    # A case by its number in the log: its reference stays with the guardians who hold it.
    names = names_for(request.dbsession, events, exports=exports, case_refs=False)
    rows = [{"event": e, "words": event_words(e.action, e.actor, services.detail_for_admins(e.action, e.detail), names),
             "dated": reporter_dated(e.actor),
             "case": _("Case ${number}", mapping={"number": e.case_id}) if e.case_id is not None else ""}
            for e in events]
    return {"rows": rows, "total": total, "page": page, "pages": max(1, -(-total // per_page))}


@view_config(route_name="api.admin_audit", request_method="GET", renderer="json", permission=Permission.ADMIN_VIEW)
def api_audit(request):
    page, per_page = _paging(request)
    events, total = services.audit_page(request.dbsession, page, per_page)
    return {"events": [{"seq": e.seq, "at": e.at, "actor": e.actor, "action": e.action, "case_id": e.case_id,
                        "detail": services.detail_for_admins(e.action, e.detail)} for e in events],
            "total": total, "page": page}


# --- the same, as JSON ---

@view_config(route_name="api.admin_accounts", request_method="GET", renderer="json", permission=Permission.ADMIN_VIEW)
def api_accounts(request):
    return {"accounts": [services.describe_account(request.dbsession, a) for a in services.accounts(request.dbsession)]}


def _flags(data: dict, errors: dict, names: tuple[str, ...], defaults: dict) -> dict:
    values = {}
    for name in names:
        value = data.get(name, defaults.get(name))
        if not isinstance(value, bool):
            errors[name] = "true or false."
        values[name] = value
    return values


def _channels(data: dict, errors: dict, default: list[str]) -> set[str]:
    channels = data.get("channels", default)
    if not isinstance(channels, list) or not all(isinstance(c, str) for c in channels):
        errors["channels"] = "A list of channel slugs."
        return set()
    return set(channels)


@view_config(route_name="api.admin_accounts", request_method="POST", renderer="json",
             permission=Permission.ADMIN_MANAGE)
def api_account_add(request):
    """Enrol an account; the answer carries the recovery key and TOTP secret, once."""
    data = read_json(request)
    errors = reject_unknown_members(data, {"username", "password", "guardian", "admin", "channels"})
    for name in ("username", "password"):
        if not isinstance(data.get(name), str) or not data.get(name):
            errors[name] = "Required, as a string."
    flags = _flags(data, errors, ("guardian", "admin"), {"guardian": True, "admin": False})
    channels = _channels(data, errors, [])
    if not errors and not (flags["guardian"] or flags["admin"]):
        errors["guardian"] = "An account needs at least one role."
    if errors:
        raise validation_problem(errors)
    try:
        enrolment = services.add_account(request.dbsession, request.whistle_settings, request.clock,
                                         username=data["username"], password=data["password"],
                                         is_guardian=flags["guardian"], is_admin=flags["admin"],
                                         channel_slugs=tuple(sorted(channels)), actor=_actor(request),
                                         by=request.identity.account)
    except AccountError as error:
        raise validation_problem({"password" if "password" in str(error) else "username": str(error)}) from None
    request.response.status = 201
    body = services.describe_account(request.dbsession, enrolment.account)
    body.update(recovery_key=enrolment.recovery_key, totp_secret=enrolment.totp_secret, totp_uri=enrolment.totp_uri)
    return body


@view_config(route_name="api.admin_account", request_method="PATCH", renderer="json",
             permission=Permission.ADMIN_MANAGE)
def api_account_update(request):
    account = _account(request)
    data = read_json(request)
    errors = reject_unknown_members(data, {"guardian", "admin", "disabled", "channels", "confirm"})
    flags = _flags(data, errors, ("guardian", "admin", "disabled", "confirm"),
                   {"guardian": account.is_guardian, "admin": account.is_admin, "disabled": account.disabled,
                    "confirm": False})
    channels = _channels(data, errors, services.channel_slugs_of(request.dbsession, account))
    if errors:
        raise validation_problem(errors)
    try:
        proposal = services.change_account(request.dbsession, request.whistle_settings, request.clock, account,
                                           by=request.identity.account,
                                           guardian=flags["guardian"], admin=flags["admin"],
                                           disabled=flags["disabled"], channels=channels, confirmed=flags["confirm"])
    except services.ConfirmationNeeded as needed:
        consequences = needed.consequences
        raise Problem(409, " ".join(consequences.sentences(account.username)) + " Nothing was changed: send the "
                      'same change with "confirm": true to make it anyway.',
                      type=CONFIRMATION_NEEDED, title="Confirmation needed",
                      members={"channels": [channel.slug for channel in consequences.channels],
                               "sole_cases": consequences.sole_cases}) from None
    except AccountError as error:
        raise validation_problem({"guardian": str(error)}) from None
    if proposal is not None:
        request.response.status = 202
        return {"proposal": proposal.id, "state": proposal.state, "account": account.id}
    return services.describe_account(request.dbsession, account)


CONFIRMATION_NEEDED = "/api/v1/problems/confirmation-needed"


@view_config(route_name="api.admin_channels", request_method="GET", renderer="json", permission=Permission.ADMIN_VIEW)
def api_channels(request):
    unattended = unattended_reasons(request.dbsession, request.whistle_settings, request.clock)
    return {"channels": [
        {"slug": c.slug, "title": c.title, "active": c.active, "deadline_profile": c.deadline_profile,
         "retention_days": c.retention_days, "retention_untaken_days": c.retention_untaken_days,
         "retention_withdrawn_days": c.retention_withdrawn_days, "guardians": members,
         "accepting_reports": c.active and c.id not in unattended}
        for c, members in services.channels_with_members(request.dbsession)
    ]}


# --- the notification outbox ---


def _notification_channels(request) -> list[str]:
    return sorted(getattr(request.registry, "notification_channels", {}))


@view_config(route_name="admin.notifications", renderer="whistle:templates/admin/notifications.jinja2",
             permission=Permission.ADMIN_VIEW)
def notifications_page(request):
    outbox = services.notification_overview(request.dbsession, _notification_channels(request))
    for guardian in outbox["unreachable"]:
        way = localized(words.label(words.NOTIFICATION_CHANNEL_LABELS, guardian["channel"])).lower()
        guardian["not_enabled"] = _("Sends by ${way}, which is not enabled here", mapping={"way": way})
    return {"outbox": outbox, "channels": _notification_channels(request), "retried": request.GET.get("retried")}


@view_config(route_name="admin.notifications_retry", request_method="POST", permission=Permission.ADMIN_MANAGE)
def notifications_retry(request):
    """Dead-lettered notices back to pending: one (`id`) or, without it, all of them."""
    raw = request.POST.get("id")
    notice_id = None if raw is None else whole_number(raw)
    if raw is not None and notice_id is None:
        raise HTTPNotFound()
    retried = services.retry_notifications(request.dbsession, request.clock.now(),
                                           None if notice_id is None else [notice_id])
    if raw is not None and not retried:
        raise HTTPNotFound()  # not (or no longer) dead-lettered
    if retried:
        request.audit("notification.retried", detail={"count": len(retried), "ids": retried[:100]})
    return HTTPFound(request.route_url("admin.notifications", _query={"retried": len(retried)}))


# --- the two-admin rule: proposals a second admin approves ---


def _proposals_page(request, *, error: str | None = None) -> dict:
    raw = request.GET.get("proposed")
    return {**services.proposals(request.dbsession), "me": request.identity.account.id, "error": error,
            "proposed": whole_number(raw) if raw is not None else None,
            "held": request.whistle_settings.two_admin_rule}


@view_config(route_name="admin.proposals", request_method="GET", renderer="whistle:templates/admin/proposals.jinja2",
             permission=Permission.ADMIN_VIEW)
def proposals_page(request):
    return _proposals_page(request)


def _proposal(request) -> StaffingProposal:
    number = whole_number(request.matchdict["id"])
    proposal = request.dbsession.get(StaffingProposal, number) if number is not None else None
    if proposal is None:
        raise HTTPNotFound()
    return proposal


@view_config(route_name="admin.proposal_decide", request_method="POST",
             renderer="whistle:templates/admin/proposals.jinja2", permission=Permission.ADMIN_MANAGE)
def proposal_decide(request):
    """Approve or reject a proposal (`decision`); a refusal re-renders the list saying why."""
    proposal, decision = _proposal(request), request.POST.get("decision")
    me = request.identity.account
    try:
        if decision == "approve":
            services.approve(request.dbsession, request.whistle_settings, request.clock, proposal, by=me)
        elif decision == "reject":
            services.reject(request.dbsession, request.clock, proposal, by=me)
        else:
            raise services.ProposalError("choose approve or reject")
    except AccountError as error:  # ProposalError, or a change no longer possible
        request.tm.doom()
        request.response.status = 422
        return _proposals_page(request, error=error.sentence)
    return HTTPFound(request.route_url("admin.proposals"))
