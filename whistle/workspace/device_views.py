"""A case for the guardian's device (device mode, docs/crypto.md 7.4): its envelopes as JSON (on
the case page, at /staff/cases/{ref}/envelopes and at /api/v1/cases/{ref}/envelopes), a file's
ciphertext, the binding a device writes on its first visit, the team key a device replaces, and
the references of the cases a guardian holds (for searching them on the device). The server
decrypts nothing here: it hands out ciphertext and checks the shape of what comes back."""
from __future__ import annotations

import base64

from pyramid.view import view_config
from sqlalchemy import select

from whistle import crypto
from whistle.accounts.models import Account
from whistle.attachments.views import ciphertext_response
from whistle.cases.actions import mark_read, record_view
from whistle.cases.context import CaseContext
from whistle.cases.models import HOLDER_GUARDIAN, TEAM_KEY_ITEMS, Attachment, Case, CaseGrant, CaseItem
from whistle.cases.services import (
    DeviceTeamKey,
    NotGranted,
    as_sent,
    bind_grant_on_device,
    guardian_envelopes,
    replace_team_key_on_device,
    sealed_author,
)
from whistle.errors import Problem, validation_problem
from whistle.jsonapi import decode_base64, read_json, reject_unknown_members
from whistle.key_directory.services import try_current_directory
from whistle.security.permissions import Permission
from whistle.words import erased_words, metadata_removal_words


def _b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode("ascii")


def _directory_answer(request) -> dict | None:
    """The current signed key directory as GET /api/v1/channels/{slug}/keys answers it, or None."""
    settings = request.whistle_settings
    directory = try_current_directory(request.dbsession, settings, request.clock)
    if directory is None or settings.org_public_key is None:
        return None
    return {**directory.published(crypto.fingerprint(settings.org_public_key)), "version": directory.version,
            "public_key": _b64(settings.org_public_key)}


def case_envelopes(request, case: Case) -> dict:
    """The case as stored, for the signed-in guardian's device (the contract's shape, docs/crypto.md
    7.4): keys to check, their grant, the items they may read with exactly the author each item's
    encryption binds (None for version 1), the files with their details' items, the signed
    directory (to seal a replaced team key to), and what the page needs to word it: the guardians'
    names and the channel's questions."""
    account_id = request.identity.account.id
    try:
        found = guardian_envelopes(request.dbsession, case, account_id)
    except NotGranted:
        raise Problem(404, "There is no such case.") from None
    grant = found.grant
    account_ids = {item.account_id for item in found.items} | {row.account_id for row, _ in found.attachments}
    ids = sorted(i for i in account_ids if i)
    names = dict(request.dbsession.execute(
        select(Account.id, Account.username).where(Account.id.in_(ids))).all()) if ids else {}

    def item(entry: CaseItem) -> dict:
        if entry.erased_on is not None:  # erased: what it was and when, no ciphertext
            return {"id": entry.id, "kind": entry.kind, "author": None, "account_id": entry.account_id,
                    "from": entry.author, "at": entry.created_on.isoformat(), "ciphertext": None,
                    "erased_on": entry.erased_on.isoformat(), "erased_reason": entry.erased_reason,
                    "erased_words": erased_words(entry.erased_on, entry.erased_reason)}
        ciphertext = as_sent(entry, "ciphertext")
        sealed = crypto.item_author_sealed(ciphertext)
        return {"id": entry.id, "kind": entry.kind,
                "author": sealed_author(entry.author, entry.account_id) if sealed else None,
                "account_id": entry.account_id, "from": entry.author, "at": entry.created_on.isoformat(),
                "ciphertext": _b64(ciphertext)}

    def attachment(row: Attachment, meta: CaseItem | None) -> dict:
        return {"id": str(row.id), "meta_item_id": row.meta_item_id,
                "internal": meta is not None and meta.kind in TEAM_KEY_ITEMS,
                "author": sealed_author(row.author, row.account_id), "from": row.author, "account_id": row.account_id,
                "created_on": row.created_on.isoformat(), "bytes": row.stored_bytes,
                "metadata_removal": row.metadata_removal,
                "metadata_removal_words": metadata_removal_words(row.metadata_removal),
                "blob": request.route_path("attachments.blob", ref=case.ref, id=row.id)}

    return {
        "case": case.ref,
        "account_id": account_id,
        "public_key": _b64(case.public_key),
        "team_public_key": _b64(case.team_public_key),
        "team_key_mac": _b64(case.team_key_mac),
        "key_binding": _b64(case.key_binding),
        "grant": {"id": grant.id, "sealed_case_key": _b64(as_sent(grant, "sealed_case_key")),
                  "sealed_team_key": _b64(as_sent(grant, "sealed_team_key")),
                  "case_key_binding": _b64(grant.case_key_binding)},
        "team_key_to_replace": found.team_key_to_replace,
        "items": [item(entry) for entry in found.items],
        "attachments": [attachment(row, meta) for row, meta in found.attachments],
        # The signed directory: what a replaced team key and a grant made on the device are sealed to.
        "directory": _directory_answer(request),
        # What a device replacing the team key seals the new one to: every grant holding a team key.
        "team_key_grants": [{"id": row.id, "holder": row.holder, "account_id": row.account_id}
                            for row in sorted(case.grants, key=lambda grant: grant.id)
                            if row.sealed_team_key is not None]
        if found.team_key_to_replace else [],
        "names": {str(key): value for key, value in names.items()},
        "questions": [{"name": spec.get("name"), "label": spec.get("label")}
                      for spec in case.channel.questionnaire or [] if isinstance(spec, dict)],
    }


@view_config(route_name="cases.envelopes", request_method="GET", renderer="json", permission=Permission.CASE_READ)
def staff_envelopes(context: CaseContext, request):
    """For the page's own script (cookie session): the case page embeds the same, and the inbox's
    search on the device fetches each case's. Audited as a reading; it does not mark the case read
    (the page does, when the guardian opens it)."""
    record_view(request.dbsession, request.clock, context.case, request.identity.account.id)
    return case_envelopes(request, context.case)


@view_config(route_name="api.case_envelopes", request_method="GET", renderer="json", permission=Permission.CASE_READ)
def api_envelopes(context: CaseContext, request):
    """The same for another client (bearer token): reading it audits the case as viewed and marks it read."""
    record_view(request.dbsession, request.clock, context.case, request.identity.account.id)
    body = case_envelopes(request, context.case)
    mark_read(request.dbsession, context.case, request.identity.account.id)
    return body


@view_config(route_name="attachments.blob", request_method="GET", permission=Permission.CASE_READ)
def attachment_blob(context: CaseContext, request):
    """A file's stored ciphertext (a stream envelope, docs/crypto.md 5.3) for the guardian's device
    to decrypt. Internal files only to a holder of the team key, as on the server."""
    case = context.case
    try:
        wanted = int(request.matchdict["id"])
        found = guardian_envelopes(request.dbsession, case, request.identity.account.id)
    except (ValueError, NotGranted):
        raise Problem(404, "There is no such attachment.") from None
    row = next((row for row, _ in found.attachments if row.id == wanted), None)
    if row is None:
        raise Problem(404, "There is no such attachment.")
    response = ciphertext_response(request, row)
    request.audit("attachment.downloaded", case_id=case.id)
    return response


def _key(data: dict, name: str, errors: dict[str, str]) -> bytes:
    value = decode_base64(data.get(name))
    if value is None or len(value) != 32:
        errors[name] = "Expected 32 bytes in standard base64."
        return b""
    return value


@view_config(route_name="cases.binding", request_method="POST", renderer="json", permission=Permission.CASE_READ)
def binding(context: CaseContext, request):
    """{"case_public_key", "case_key_binding"}: the binding a guardian's device made on its first
    visit (docs/crypto.md 6.12, 7.4), stored once the case public key checks against the server's."""
    data = read_json(request)
    errors = reject_unknown_members(data, {"case_public_key", "case_key_binding"})
    case_public_key, made = _key(data, "case_public_key", errors), _key(data, "case_key_binding", errors)
    if errors:
        raise validation_problem(errors)
    bind_grant_on_device(request.dbsession, context.case, request.identity.account.id, case_public_key=case_public_key,
                         binding=made, server_key=request.whistle_settings.session_key)
    return {"case": context.case.ref, "case_key_binding": _b64(made)}


def _team_key_limit(request, case: Case) -> int:
    """The most a team-key body can take: every team-key item in base64, every grant's sealed key, and room."""
    stored = sum(len(item.ciphertext) for item in case.items if item.kind in TEAM_KEY_ITEMS)
    return request.whistle_settings.max_json_bytes + (stored * 4) // 3 + 256 * len(case.grants) + 65536


def _listed(data: dict, name: str, members: set[str], errors: dict[str, str]) -> list[dict]:
    value = data.get(name)
    if not isinstance(value, list) or not all(isinstance(entry, dict) for entry in value):
        errors[name] = "Expected a list of objects."
        return []
    for index, entry in enumerate(value):
        unknown = reject_unknown_members(entry, members)
        errors.update({f"{name}[{index}].{member}": words for member, words in unknown.items()})
        if type(entry.get("id")) is not int:
            errors[f"{name}[{index}].id"] = "Expected a whole number."
    return value


@view_config(route_name="cases.team_key", request_method="POST", renderer="json", permission=Permission.CASE_READ)
def team_key(context: CaseContext, request):
    """{"directory_version", "team_public_key", "team_key_mac", "grants": [{"id", "sealed_team_key"}],
    "items": [{"id", "ciphertext"}]}: the team key of a case built on the client, replaced on the
    first guardian device to open it (docs/crypto.md 7.1, 7.4). A refusal changes nothing."""
    case = context.case
    data = read_json(request, limit=_team_key_limit(request, case))
    errors = reject_unknown_members(data, {"directory_version", "team_public_key", "team_key_mac", "grants", "items"})
    if type(data.get("directory_version")) is not int:
        errors["directory_version"] = "Expected the version of the key directory the new key is sealed with."
    team_public_key, mac = _key(data, "team_public_key", errors), _key(data, "team_key_mac", errors)
    grants: list[tuple[int, bytes | None]] = []
    for index, entry in enumerate(_listed(data, "grants", {"id", "sealed_team_key"}, errors)):
        sealed = entry.get("sealed_team_key")
        value = None if sealed is None else decode_base64(sealed)
        if sealed is not None and value is None:
            errors[f"grants[{index}].sealed_team_key"] = "Expected standard base64, or null."
        grants.append((entry.get("id"), value))  # type: ignore[arg-type]  # checked: an int, else errors
    items: list[tuple[int, bytes]] = []
    for index, entry in enumerate(_listed(data, "items", {"id", "ciphertext"}, errors)):
        value = decode_base64(entry.get("ciphertext"))
        if value is None:
            errors[f"items[{index}].ciphertext"] = "Expected standard base64."
        items.append((entry.get("id"), value or b""))  # type: ignore[arg-type]
    if errors:
        raise validation_problem(errors)
    directory = try_current_directory(request.dbsession, request.whistle_settings, request.clock)
    new = DeviceTeamKey(directory_version=data["directory_version"], team_public_key=team_public_key,
                        team_key_mac=mac, grants=grants, items=items)
    replace_team_key_on_device(request.dbsession, request.clock, case, request.identity.account.id, new,
                               directory=directory)
    return {"case": case.ref, "team_public_key": _b64(team_public_key)}


@view_config(route_name="cases.held", request_method="GET", renderer="json", permission=Permission.CASES_LIST)
def held_cases(request):
    """The references of the cases the signed-in guardian holds, newest first: what the inbox's
    search on the device reads, one case's envelopes at a time. No content, nothing searched here."""
    refs = request.dbsession.scalars(
        select(Case.ref).join(CaseGrant, CaseGrant.case_id == Case.id)
        .where(CaseGrant.account_id == request.identity.account.id, CaseGrant.holder == HOLDER_GUARDIAN)
        .order_by(Case.opened_on.desc(), Case.id.desc()))
    return {"cases": list(refs)}
