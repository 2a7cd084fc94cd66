"""The case's envelopes for the guardian's device (device mode): what it decrypts and the keys it
checks, in the shape docs/workspace.md gives ("Case pages in device mode"). Embedded in the case
page as data (`<script type="application/json" id="case-envelopes">`), never run."""
from __future__ import annotations

import base64
import json

from markupsafe import Markup
from sqlalchemy import select

from whistle import crypto
from whistle.cases.models import ITEM_INTERNAL_ATTACHMENT_META, Attachment, CaseItem
from whistle.cases.services import guardian_grant, needs_new_team_key, sealed_author
from whistle.key_directory.services import try_current_directory


def _b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode("ascii")


def case_envelopes(request, case) -> dict:
    """The case as stored, for the signed-in guardian's device: their grant, every item with the
    author its encryption binds, the files with where their ciphertext is, and the signed key
    directory (with the organisation's key) that grants are sealed to."""
    dbsession, account_id = request.dbsession, request.identity.account.id
    grant = guardian_grant(dbsession, case, account_id)
    rows = dbsession.execute(select(Attachment, CaseItem).outerjoin(CaseItem, CaseItem.id == Attachment.meta_item_id)
                             .where(Attachment.case_id == case.id).order_by(Attachment.id)).all()
    settings = request.whistle_settings
    directory = try_current_directory(dbsession, settings, request.clock)
    return {
        "case": case.ref,
        "account_id": account_id,
        "public_key": _b64(case.public_key),
        "team_public_key": _b64(case.team_public_key),
        "team_key_mac": _b64(case.team_key_mac),
        "key_binding": _b64(case.key_binding),
        "grant": None if grant is None else {
            "id": grant.id, "sealed_case_key": _b64(grant.sealed_case_key),
            "sealed_team_key": _b64(grant.sealed_team_key), "case_key_binding": _b64(grant.case_key_binding)},
        "team_key_to_replace": needs_new_team_key(case),
        "items": [{"id": item.id, "kind": item.kind,
                   "author": sealed_author(item.author, item.account_id)
                   if crypto.item_author_sealed(item.ciphertext) else None,
                   "account_id": item.account_id, "at": item.created_on.isoformat(),
                   "ciphertext": _b64(item.ciphertext)} for item in case.items],
        "attachments": [{"id": str(row.id), "meta_item_id": row.meta_item_id,
                         "internal": item is not None and item.kind == ITEM_INTERNAL_ATTACHMENT_META,
                         "author": sealed_author(row.author, row.account_id), "account_id": row.account_id,
                         "created_on": row.created_on.isoformat(),
                         "blob": f"/staff/cases/{case.ref}/attachments/{row.id}/blob"} for row, item in rows],
        "directory": None if directory is None else {
            "version": directory.version, **directory.published(crypto.fingerprint(settings.org_public_key)),
            "public_key": _b64(settings.org_public_key)},
    }


def envelopes_script(request, case) -> Markup:
    """The envelopes as a JSON data block for the page (the CSP runs no inline script; `<` escaped so
    nothing in it can close the element)."""
    data = json.dumps(case_envelopes(request, case), separators=(",", ":")).replace("<", "\\u003c")
    return Markup('<script type="application/json" id="case-envelopes">{}</script>').format(Markup(data))
