"""Acting on a case: reply, note, triage, move, grant, transfer, step aside — as forms and as JSON.

Each HTML form posts, and on success redirects back (post/redirect/get); a refused form re-renders
the case page with the problem named and the text kept, and the transaction is doomed so nothing
of the refused action is stored. The API raises the problem, which aborts the transaction too.
"""
from __future__ import annotations

from typing import Any

from pyramid.csrf import BadCSRFToken
from pyramid.httpexceptions import HTTPFound, HTTPNoContent
from pyramid.view import exception_view_config, view_config

from whistle import crypto
from whistle.cases import actions, lifecycle
from whistle.cases.context import CaseContext
from whistle.cases.services import CaseKeys, DeviceItem, DeviceSealedKeys
from whistle.db import checkpoint
from whistle.errors import Problem, validation_problem
from whistle.errors.views import bad_csrf_view
from whistle.i18n import _
from whistle.jsonapi import decode_base64, read_json, reject_unknown_members
from whistle.key_directory.services import Directory, DirectoryError, current_directory
from whistle.security.permissions import Permission
from whistle.words import EXPIRED_FORM
from whistle.workspace.views import case_page, case_summary, unlock

DIRECTORY_PROBLEM = "/api/v1/problems/key-directory"


def _account(request):
    return request.identity.account


# --- device mode: the guardian's device encrypts what they write (docs/workspace.md, docs/crypto.md 7.3) ---

PLAINTEXT_REFUSED = _("Not taken: this sign-in keeps no key on the server, so your device encrypts what you "
                      "write before it is sent. Reload the page and send it again.")
ITEM_REFUSED = _("Not taken: this sign-in encrypts on the server; send the text itself.")
SEALED_REFUSED = _("Not taken: this sign-in seals the case's keys on the server.")
PLAINTEXT_FIELDS = ("text", "learned", "changed", "reason")


def _device(request) -> bool:
    """Whether the caller's session holds no key (device mode): their device encrypts and decrypts."""
    return not request.identity.holds_key


def _keys(request, context: CaseContext) -> CaseKeys | None:
    """The guardian's keys to the case, or None in device mode (the server has none to unlock with)."""
    return None if _device(request) else unlock(request, context)


def _device_item(value, max_plaintext: int) -> DeviceItem:
    item = decode_base64(value)
    if item is None or not crypto.is_item_of_size(item, max_plaintext):
        raise validation_problem({"item": "What your device encrypted could not be taken: expected an item envelope "
                                          f"of version 2 (docs/crypto.md 5.2) in base64, of at most "
                                          f"{crypto.item_size(max_plaintext)} bytes."})
    return DeviceItem(item)


def _written(request, values, field: str, *, max_plaintext: int, required: bool = True) -> Any:
    """What the guardian wrote for `field`: its text (server-assisted mode), or in device mode the
    `item` their device encrypted in its place (None when optional and not given). Refused (422):
    a plaintext field from a keyless session, naming it; an `item` from a session holding a key."""
    if _device(request):
        present = [name for name in PLAINTEXT_FIELDS if name in values]
        if present:
            raise validation_problem(dict.fromkeys(present, PLAINTEXT_REFUSED))
        raw = values.get("item")
        if raw in (None, ""):
            if required:
                raise validation_problem({"item": _("Write something first.")})
            return None
        return _device_item(raw, max_plaintext)
    if "item" in values:
        raise validation_problem({"item": ITEM_REFUSED})
    return values.get(field)


def _sealed_keys(request, values) -> DeviceSealedKeys | None:
    """The case and team keys the granter's device sealed to the grantee (device mode), each checked
    for the shape of a sealed key; refused from a session holding a key, which seals them itself."""
    names = ("sealed_case_key", "sealed_team_key")
    if not _device(request):
        present = [name for name in names if name in values]
        if present:
            raise validation_problem(dict.fromkeys(present, SEALED_REFUSED))
        return None
    decoded = {name: decode_base64(values.get(name)) for name in names}
    errors = {name: "Expected a key your device sealed to the guardian's key in the signed key directory "
                    "(docs/crypto.md 5.1), in base64."
              for name, value in decoded.items() if value is None or not crypto.is_sealed_key(value)}
    if errors:
        raise validation_problem(errors)
    case_key, team_key = decoded["sealed_case_key"], decoded["sealed_team_key"]
    assert case_key is not None and team_key is not None  # checked above
    return DeviceSealedKeys(sealed_case_key=case_key, sealed_team_key=team_key)


def _directory(request) -> Directory:
    """The signed key directory, verified: the only keys a case is sealed to (409 if unusable)."""
    try:
        return current_directory(request.dbsession, request.whistle_settings, request.clock)
    except DirectoryError as error:
        raise Problem(409, f"{error} Until then no case can be given to anyone.", type=DIRECTORY_PROBLEM,
                      title="No usable key directory") from None


def _html(request, context: CaseContext, form: str, work, *, anchor: str = "", leaves: bool = False):
    """Run `work()`; redirect on success, or re-render the case page naming the problem."""
    try:
        work()
    except Problem as problem:
        request.tm.doom()  # whatever the refused action had started is not kept
        return case_page(request, context, problem=problem, form=form, values=_posted_values(request))
    if leaves:
        return HTTPFound(request.route_url("cases.inbox"))
    return HTTPFound(request.route_url("cases.show", ref=context.case.ref) + (f"#{anchor}" if anchor else ""))


def _posted_values(request) -> dict:
    return {key: request.POST.getall(key) if key in ("changes", "factors") else request.POST.get(key, "")
            for key in request.POST if key != "csrf_token"}


# The case page's forms (those the CSRF view deriver checks), by route: the form a post came from.
_CASE_FORMS = {"cases.messages": "reply", "cases.notes": "note", "cases.triage": "triage", "cases.grants": "grant",
               "cases.transfer": "transfer", "cases.conflict": "conflict", "cases.protections": "protection",
               "cases.protection_alerts": "protection-alerts", "cases.transitions": "move",
               "cases.erasures": "erase"}


@exception_view_config(BadCSRFToken, route_name="cases.messages", request_method="POST")
@exception_view_config(BadCSRFToken, route_name="cases.notes", request_method="POST")
@exception_view_config(BadCSRFToken, route_name="cases.transitions", request_method="POST")
@exception_view_config(BadCSRFToken, route_name="cases.triage", request_method="POST")
@exception_view_config(BadCSRFToken, route_name="cases.grants", request_method="POST")
@exception_view_config(BadCSRFToken, route_name="cases.transfer", request_method="POST")
@exception_view_config(BadCSRFToken, route_name="cases.conflict", request_method="POST")
@exception_view_config(BadCSRFToken, route_name="cases.protections", request_method="POST")
@exception_view_config(BadCSRFToken, route_name="cases.protection_alerts", request_method="POST")
@exception_view_config(BadCSRFToken, route_name="cases.erasures", request_method="POST")
def expired_case_form(exc: BadCSRFToken, request):
    """A case form posted with a token from before this browser's session (the guardian signed in
    again in another tab): nothing is done, and the case page comes back with what was typed.

    The view deriver checks the permission before the token, so the caller may write to the case;
    checked again here all the same, since an exception view is not secured."""
    context = request.context
    if not isinstance(context, CaseContext) or not request.has_permission(Permission.CASE_WRITE, context):
        return bad_csrf_view(exc, request)
    request.tm.doom()
    values = _posted_values(request)
    form = _CASE_FORMS[request.matched_route.name]
    if form == "move":
        form = f"move-{values.get('to', '')}"
    return case_page(request, context, problem=Problem(400, EXPIRED_FORM), form=form, values=values)


def _body(request, allowed: set[str]) -> dict:
    data = read_json(request)
    errors = reject_unknown_members(data, allowed)
    if errors:
        raise validation_problem(errors)
    return data


def _outcome_from(case, data, learned=None) -> lifecycle.Outcome | None:
    lifecycle.check_move(case, data.get("to"))  # a forbidden move is 409 before the outcome is looked at
    if data.get("to") != lifecycle.CLOSED:
        return None
    return lifecycle.check_outcome(data.get("substantiated"), data.get("changes"),
                                   data.get("learned") if learned is None else learned,
                                   factors=data.get("factors"), changed=data.get("changed"))


def _move_written(request, case, values) -> tuple[Any, Any]:
    """(reason, learned) of a move: the texts, or in device mode the one `item` the device encrypted,
    the closing record (outcome) for a close and the reason for any other move."""
    lifecycle.check_move(case, values.get("to"))
    closing = values.get("to") == lifecycle.CLOSED
    most = actions.MAX_OUTCOME_ITEM_BYTES if closing else actions.MAX_RECORD_ITEM_BYTES
    if not _device(request):
        _written(request, values, "reason", max_plaintext=most)  # refuses an item
        return values.get("reason") or None, values.get("learned")
    item = _written(request, values, "reason", max_plaintext=most, required=closing)
    return (None, item) if closing else (item, None)


def _labels_text(text: str) -> list[str]:
    return [part for part in text.replace(",", " ").split() if part]


# --- replies and notes ---

@view_config(route_name="cases.messages", request_method="POST", permission=Permission.CASE_WRITE)
def reply_form(context: CaseContext, request):
    return _html(request, context, "reply", lambda: actions.reply(
        request.dbsession, request.clock, context.case, _keys(request, context), _account(request),
        _written(request, request.POST, "text", max_plaintext=actions.MAX_TEXT_ITEM_BYTES) or ""),
        anchor="conversation")


@view_config(route_name="cases.notes", request_method="POST", permission=Permission.CASE_WRITE)
def note_form(context: CaseContext, request):
    return _html(request, context, "note", lambda: actions.add_note(
        request.dbsession, request.clock, context.case, _keys(request, context), _account(request),
        _written(request, request.POST, "text", max_plaintext=actions.MAX_TEXT_ITEM_BYTES) or ""),
        anchor="notes")


@view_config(route_name="api.case_messages", request_method="POST", renderer="json", permission=Permission.CASE_WRITE)
def api_reply(context: CaseContext, request):
    data = _body(request, {"text", "item"})
    item = actions.reply(request.dbsession, request.clock, context.case, _keys(request, context), _account(request),
                         _written(request, data, "text", max_plaintext=actions.MAX_TEXT_ITEM_BYTES))
    request.response.status = 201
    return {"id": item.id}


@view_config(route_name="api.case_notes", request_method="POST", renderer="json", permission=Permission.CASE_WRITE)
def api_note(context: CaseContext, request):
    data = _body(request, {"text", "item"})
    text = _written(request, data, "text", max_plaintext=actions.MAX_TEXT_ITEM_BYTES)
    item = actions.add_note(request.dbsession, request.clock, context.case, _keys(request, context),
                            _account(request), text)
    request.response.status = 201
    return {"id": item.id}


# --- the lifecycle ---

@view_config(route_name="cases.transitions", request_method="POST", permission=Permission.CASE_WRITE)
def transition_form(context: CaseContext, request):
    post = request.POST
    data = {"to": post.get("to", ""), "substantiated": post.get("substantiated"),
            "changes": post.getall("changes"), "factors": post.getall("factors"), "learned": post.get("learned"),
            "changed": post.get("changed")}

    def work():
        reason, learned = _move_written(request, context.case, post)
        actions.change_status(request.dbsession, request.clock, context.case, _keys(request, context),
                              _account(request), data["to"],
                              reason=reason, outcome=_outcome_from(context.case, data, learned),
                              call_hook=request.call_hook, deadline_profiles=request.registry.deadline_profiles)

    return _html(request, context, f"move-{data['to']}", work, anchor="status")


@view_config(route_name="api.case_transitions", request_method="POST", renderer="json",
             permission=Permission.CASE_WRITE)
def api_transition(context: CaseContext, request):
    data = _body(request, {"to", "reason", "substantiated", "changes", "factors", "learned", "changed", "item"})
    if not isinstance(data.get("to"), str):
        raise validation_problem({"to": "Required: the status to move to."})
    reason = data.get("reason")
    if reason is not None and not isinstance(reason, str):
        raise validation_problem({"reason": "Text, if given."})
    reason, learned = _move_written(request, context.case, data)
    actions.change_status(request.dbsession, request.clock, context.case, _keys(request, context),
                          _account(request), data["to"], reason=reason,
                          outcome=_outcome_from(context.case, data, learned),
                          call_hook=request.call_hook,
                          deadline_profiles=request.registry.deadline_profiles)
    return case_summary(request, context.case)


# --- triage: priority and labels ---

@view_config(route_name="cases.triage", request_method="POST", permission=Permission.CASE_WRITE)
def triage_form(context: CaseContext, request):
    post = request.POST
    return _html(request, context, "triage", lambda: actions.triage(
        request.dbsession, request.clock, context.case, _account(request),
        priority=post.get("priority") or None, add=_labels_text(post.get("add_labels", "")),
        remove=post.getall("remove_labels")), anchor="triage")


@view_config(route_name="api.case_triage", request_method="POST", renderer="json", permission=Permission.CASE_WRITE)
def api_triage(context: CaseContext, request):
    data = _body(request, {"priority", "add_labels", "remove_labels"})
    actions.triage(request.dbsession, request.clock, context.case, _account(request), priority=data.get("priority"),
                   add=data.get("add_labels", []), remove=data.get("remove_labels", []))
    return case_summary(request, context.case)


# --- who holds the case ---

@view_config(route_name="cases.grants", request_method="POST", permission=Permission.CASE_WRITE)
def grant_form(context: CaseContext, request):
    return _html(request, context, "grant", lambda: actions.grant(
        request.dbsession, request.clock, context.case, _keys(request, context), _account(request),
        request.POST.get("guardian", ""), call_hook=request.call_hook, directory=_directory(request),
        sealed=_sealed_keys(request, request.POST)), anchor="access")


@view_config(route_name="api.case_grants", request_method="POST", renderer="json", permission=Permission.CASE_WRITE)
def api_grant(context: CaseContext, request):
    data = _body(request, {"guardian", "sealed_case_key", "sealed_team_key"})
    grantee = actions.grant(request.dbsession, request.clock, context.case, _keys(request, context),
                            _account(request), data.get("guardian"), call_hook=request.call_hook,
                            directory=_directory(request), sealed=_sealed_keys(request, data))
    request.response.status = 201
    return {"guardian": grantee.username}


@view_config(route_name="cases.transfer", request_method="POST", permission=Permission.CASE_WRITE)
def transfer_form(context: CaseContext, request):
    post = request.POST
    return _html(request, context, "transfer", lambda: actions.transfer(
        request.dbsession, request.clock, context.case, _keys(request, context), _account(request),
        post.get("guardian", ""),
        _written(request, post, "reason", max_plaintext=actions.MAX_RECORD_ITEM_BYTES, required=False) or None,
        call_hook=request.call_hook, directory=_directory(request), sealed=_sealed_keys(request, post)), leaves=True)


@view_config(route_name="api.case_transfer", request_method="POST", renderer="json", permission=Permission.CASE_WRITE)
def api_transfer(context: CaseContext, request):
    data = _body(request, {"guardian", "reason", "item", "sealed_case_key", "sealed_team_key"})
    reason = _written(request, data, "reason", max_plaintext=actions.MAX_RECORD_ITEM_BYTES, required=False)
    grantee = actions.transfer(request.dbsession, request.clock, context.case, _keys(request, context),
                               _account(request), data.get("guardian"), reason, call_hook=request.call_hook,
                               directory=_directory(request), sealed=_sealed_keys(request, data))
    return {"transferred_to": grantee.username}


@view_config(route_name="cases.conflict", request_method="POST", permission=Permission.CASE_WRITE)
def conflict_form(context: CaseContext, request):
    return _html(request, context, "conflict", lambda: actions.declare_conflict(
        request.dbsession, request.clock, context.case, _keys(request, context), _account(request),
        _written(request, request.POST, "reason", max_plaintext=actions.MAX_RECORD_ITEM_BYTES,
                 required=False) or None),
        leaves=True)


@view_config(route_name="api.case_conflict", request_method="POST", permission=Permission.CASE_WRITE)
def api_conflict(context: CaseContext, request):
    data = _body(request, {"reason", "item"})
    actions.declare_conflict(request.dbsession, request.clock, context.case, _keys(request, context),
                             _account(request),
                             _written(request, data, "reason", max_plaintext=actions.MAX_RECORD_ITEM_BYTES,
                                      required=False))
    return HTTPNoContent()


# --- erasing one message, note or file (no key needed: it destroys keys, it reads nothing) ---

def _erase(request, context: CaseContext, item_id, reason) -> actions.Erased:
    erased = actions.erase_item(request.dbsession, request.clock, context.case, _account(request), item_id, reason)
    if erased.blob_name is not None:
        store, name = request.blob_store, erased.blob_name
        request.tm.get().addAfterCommitHook(lambda committed: store.delete(name) if committed else None)
    # What the erased rows held is overwritten in the database file too, not left in its journal.
    request.tm.get().addAfterCommitHook(lambda committed: checkpoint(request.registry["db_engine"]) if committed
                                        else None)
    return erased


@view_config(route_name="cases.erasures", request_method="POST", permission=Permission.CASE_WRITE)
def erase_form(context: CaseContext, request):
    post = request.POST
    return _html(request, context, "erase", lambda: _erase(request, context, post.get("item_id"), post.get("reason")),
                 anchor="erase")


@view_config(route_name="api.case_erasures", request_method="POST", renderer="json", permission=Permission.CASE_WRITE)
def api_erase(context: CaseContext, request):
    data = _body(request, {"item_id", "reason"})
    erased = _erase(request, context, data.get("item_id"), data.get("reason"))
    return {"item_id": erased.item.id, "kind": erased.item.kind, "erased_on": erased.item.erased_on,
            "erased_reason": erased.item.erased_reason}
