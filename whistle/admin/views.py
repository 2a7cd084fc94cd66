"""The admin area, as pages and as JSON. Nothing here unlocks or decrypts a case."""
from __future__ import annotations

from pyramid.httpexceptions import HTTPFound, HTTPNotFound
from pyramid.view import view_config

from whistle.accounts.models import Account
from whistle.accounts.services import AccountError, add_account, set_channels, set_disabled, set_roles
from whistle.admin import services
from whistle.errors import validation_problem
from whistle.security.permissions import Permission

AUDIT_PER_PAGE = 50


def _actor(request) -> str:
    return f"account:{request.identity.account.id}"


@view_config(route_name="admin.overview", renderer="whistle:templates/admin/overview.jinja2", permission=Permission.ADMIN_VIEW)
def overview_page(request):
    return {"overview": services.overview(request.dbsession, request.clock.today())}


@view_config(route_name="api.admin_overview", renderer="json", permission=Permission.ADMIN_VIEW)
def api_overview(request):
    return services.overview(request.dbsession, request.clock.today())


def _guardians_page(request, *, errors=None, values=None, enrolment=None) -> dict:
    return {
        "accounts": services.accounts(request.dbsession),
        "channels": [c for c, _members in services.channels_with_members(request.dbsession)],
        "slugs_of": lambda account: services.channel_slugs_of(request.dbsession, account),
        "errors": errors or {}, "values": values or {}, "enrolment": enrolment,
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
        errors["again"] = "The two passwords differ."
    elif not (values["guardian"] or values["admin"]):
        errors["roles"] = "Choose at least one role."
    else:
        try:
            enrolment = add_account(
                request.dbsession, request.whistle_settings, request.clock, username=values["username"],
                password=post.get("password", ""), is_guardian=values["guardian"], is_admin=values["admin"],
                channel_slugs=tuple(values["channels"]), actor=_actor(request),
            )
        except AccountError as error:
            errors["password" if "password" in str(error) else "username"] = str(error).capitalize() + "."
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


@view_config(route_name="admin.guardian", request_method="GET", renderer="whistle:templates/admin/guardian.jinja2",
             permission=Permission.ADMIN_VIEW)
def guardian_page(request):
    account = _account(request)
    return {"account": account, "channels": [c for c, _m in services.channels_with_members(request.dbsession)],
            "member_of": services.channel_slugs_of(request.dbsession, account), "errors": {}}


@view_config(route_name="admin.guardian", request_method="POST", renderer="whistle:templates/admin/guardian.jinja2",
             permission=Permission.ADMIN_MANAGE)
def guardian_update(request):
    account, post = _account(request), request.POST
    me = request.identity.account
    guardian, admin, disabled = bool(post.get("guardian")), bool(post.get("admin")), bool(post.get("disabled"))
    slugs = set(post.getall("channels"))
    errors = {}
    if account.id == me.id and (disabled or not admin):
        errors["admin"] = "You cannot disable yourself or remove your own admin role; ask another admin."
    else:
        try:
            actor = _actor(request)
            set_roles(request.dbsession, request.clock, account, guardian=guardian, admin=admin, actor=actor)
            set_channels(request.dbsession, request.clock, account, slugs if guardian else set(), actor=actor)
            set_disabled(request.dbsession, request.clock, account, disabled, actor=actor)
        except AccountError as error:
            errors["roles"] = str(error).capitalize() + "."
    if errors:
        request.tm.doom()
        request.response.status = 422
        return {"account": account, "channels": [c for c, _m in services.channels_with_members(request.dbsession)],
                "member_of": sorted(slugs), "errors": errors}
    return HTTPFound(request.route_url("admin.guardians"))


@view_config(route_name="admin.channels", renderer="whistle:templates/admin/channels.jinja2", permission=Permission.ADMIN_VIEW)
def channels_page(request):
    return {"channels": services.channels_with_members(request.dbsession)}


def _paging(request) -> tuple[int, int]:
    try:
        page = int(request.params.get("page", 1))
        per_page = int(request.params.get("per_page", AUDIT_PER_PAGE))
    except ValueError:
        raise validation_problem({"page": "Expected whole numbers for page and per_page."}) from None
    if page < 1 or not 1 <= per_page <= 500:
        raise validation_problem({"page": "page ≥ 1 and per_page between 1 and 500."})
    return page, per_page


@view_config(route_name="admin.audit", renderer="whistle:templates/admin/audit.jinja2", permission=Permission.ADMIN_VIEW)
def audit_page(request):
    page, per_page = _paging(request)
    events, total = services.audit_page(request.dbsession, page, per_page)
    return {"events": events, "total": total, "page": page, "pages": max(1, -(-total // per_page))}


@view_config(route_name="api.admin_audit", renderer="json", permission=Permission.ADMIN_VIEW)
def api_audit(request):
    page, per_page = _paging(request)
    events, total = services.audit_page(request.dbsession, page, per_page)
    return {"events": [{"seq": e.seq, "at": e.at, "actor": e.actor, "action": e.action, "case_id": e.case_id,
                        "detail": e.detail} for e in events], "total": total, "page": page}
