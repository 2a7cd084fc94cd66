"""Exporting a case (whistle.workspace.export): the case page's form, and its two routes.

Server-assisted mode: POST /staff/cases/{ref}/export decrypts the case with the session's keys
and answers with the ZIP archive, streamed as it is built. Device mode: the server holds no key,
so the guardian's browser builds the archive (whistle/static/js/export.js) and first POSTs
/staff/cases/{ref}/export/device, which records the export and hands back what needs no key: the
page's frame with empty places for the content, the timeline and the README. Either way the audit
log says "case exported" and whether it was encrypted; the passphrase itself never leaves the
request that carries it (server-assisted) or the device (device mode)."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from pyramid.renderers import render
from pyramid.response import Response
from pyramid.view import view_config
from sqlalchemy import select

from whistle import crypto, words
from whistle.accounts.models import Account
from whistle.attachments.services import AttachmentInfo, read_attachment
from whistle.attachments.views import ATTACHMENT_UNVERIFIABLE, content_disposition
from whistle.cases.actions import labels_of
from whistle.cases.context import CaseContext
from whistle.cases.models import (
    ITEM_ATTACHMENT_META,
    ITEM_INTERNAL_ATTACHMENT_META,
    ITEM_MESSAGE,
    ITEM_NOTE,
    ITEM_OUTCOME,
    ITEM_REASON,
    Attachment,
    Case,
)
from whistle.errors import validation_problem
from whistle.jsonapi import read_json, reject_unknown_members
from whistle.security.permissions import Permission
from whistle.workspace.export import (
    MIN_PASSPHRASE_CHARS,
    Entry,
    archive_name,
    passphrase_errors,
    readme_text,
    safe_names,
    stream_zip,
)
from whistle.workspace.views import _read, _timeline, case_page, unlock

EXPORTED = "case.exported"


@dataclass
class ExportFile:
    """A file as the archive lists it: its name in files/ (None when it is not in the archive)."""

    info: AttachmentInfo
    path: str | None = None
    erased_on: date | None = None
    chunks: Iterator[bytes] | None = field(default=None, repr=False)


def _names(dbsession, account_ids) -> dict[int, str]:
    ids = sorted({i for i in account_ids if i})
    return dict(dbsession.execute(select(Account.id, Account.username).where(Account.id.in_(ids))).all()) if ids else {}


def _erased(case: Case) -> dict[int, dict]:
    """The case's erased items, by id: {"id", "item_kind", "at", "erased_on", "author", "account_id"}:
    what is left of them."""
    return {item.id: {"id": item.id, "item_kind": item.kind,
                      "at": item.created_on, "erased_on": item.erased_on, "author": item.author,
                      "account_id": item.account_id}
            for item in case.items if item.erased_on is not None}


def _with_erased(entries: list[dict], erased: dict[int, dict], kinds: tuple[str, ...]) -> list[dict]:
    """`entries` (messages, notes or records) with each erased one shown as erased, in order."""
    shown = [erased.get(entry["id"], entry) for entry in entries]
    present = {entry.get("id") for entry in shown}
    shown += [marker for marker in erased.values() if marker["item_kind"] in kinds and marker["id"] not in present]
    return sorted(shown, key=lambda entry: (entry["at"], entry.get("id") or 0))


def _page_values(request, case: Case, *, device: bool) -> dict:
    """What case.html and timeline.html show about the case without decrypting anything."""
    exported_at = request.clock.now()
    return {
        "case": case,
        "device": device,
        "labels": labels_of(request.dbsession, case),
        "events": _timeline(request, case, every_read=True)[0],
        "exported_by": request.identity.account.username,
        "exported_at": exported_at,
    }


def _page(name: str, values: dict, request) -> str:
    """One of the archive's pages (templates/export/), starting at its doctype."""
    return render(f"whistle:templates/export/{name}.jinja2", values, request=request).lstrip()


def _readme(request, case: Case, *, encrypted: bool, files: int | None, when) -> str:
    zone = request.whistle_settings.display_timezone
    return readme_text(ref=case.ref, exported_by=request.identity.account.username, encrypted=encrypted, files=files,
                       exported_at=words.time_words(when, zone) if zone else words.time_words(when))


def _audit(request, case: Case, *, encrypted: bool, mode: str) -> None:
    request.audit(EXPORTED, case_id=case.id, detail={"encrypted": encrypted, "mode": mode})


def _server_files(request, case: Case, keys, attachments: list[AttachmentInfo], erased: dict[int, dict]):
    """The files for the archive, each opened and its first piece checked now, while the request
    can still say so: one that does not verify is listed as such and left out."""
    rows = {row.id: row for row in request.dbsession.scalars(select(Attachment).where(Attachment.case_id == case.id))}
    files = []
    for info in attachments:
        gone = erased.get(info.meta_item_id or 0)
        if gone is not None:
            files.append(ExportFile(info, erased_on=gone["erased_on"]))
            continue
        if not info.verified:
            files.append(ExportFile(info))
            continue
        try:
            chunks = read_attachment(request.blob_store, case, keys, rows[info.id],
                                     author=info.sealed_author, internal=info.internal, size=info.size)
        except crypto.DecryptionFailed:
            request.audit(ATTACHMENT_UNVERIFIABLE, case_id=case.id, detail={"attachment_id": info.id}, actor="system")
            files.append(ExportFile(AttachmentInfo(info.id, "", 0, "", info.author, info.created_on,
                                                   internal=info.internal, account_id=info.account_id,
                                                   verified=False, meta_item_id=info.meta_item_id)))
            continue
        files.append(ExportFile(info, chunks=chunks))
    # A file erased with its stored copy: only its details' item is left to say it was there.
    listed = {info.meta_item_id for info in attachments}
    files += [ExportFile(AttachmentInfo(0, "", 0, "", marker["author"], marker["at"],
                                        internal=marker["item_kind"] == ITEM_INTERNAL_ATTACHMENT_META,
                                        account_id=marker["account_id"], verified=False, meta_item_id=marker["id"]),
                         erased_on=marker["erased_on"])
              for marker in erased.values()
              if marker["item_kind"] in (ITEM_ATTACHMENT_META, ITEM_INTERNAL_ATTACHMENT_META)
              and marker["id"] not in listed]
    for file, path in zip([f for f in files if f.chunks is not None],
                          safe_names(f.info.name for f in files if f.chunks is not None), strict=True):
        file.path = f"files/{path}"
    return files


@view_config(route_name="cases.export", request_method="POST", permission=Permission.CASE_READ)
def export_archive(context: CaseContext, request):
    """Server-assisted mode: the case as a ZIP archive, encrypted if a passphrase was given twice
    (at least 12 characters). A refused passphrase re-renders the case page naming the field."""
    case = context.case
    passphrase, again = request.POST.get("passphrase", ""), request.POST.get("passphrase_again", "")
    errors = passphrase_errors(passphrase, again)
    if errors:
        request.tm.doom()
        return case_page(request, context, problem=validation_problem(errors), form="export", values={})
    keys = unlock(request, context)
    content, attachments = _read(request, case, keys)
    erased = _erased(case)
    files = _server_files(request, case, keys, attachments, erased)
    names = _names(request.dbsession, [item.account_id for item in case.items] + [a.account_id for a in attachments])
    values = _page_values(request, case, device=False)
    values.update({
        "content": content,
        "messages": _with_erased(content.messages, erased, (ITEM_MESSAGE,)),
        "notes": _with_erased(content.notes, erased, (ITEM_NOTE,)),
        "records": _with_erased(content.records, erased, (ITEM_OUTCOME, ITEM_REASON)),
        "files": files,
        "author_of": {item.id: names.get(item.account_id, "a guardian") for item in case.items},
        "name_of": lambda account_id: names.get(account_id, "a guardian"),
    })
    encrypted = bool(passphrase)
    stored = [file for file in files if file.chunks is not None]
    when = values["exported_at"]
    pages = [
        ("case.html", _page("case", values, request)),
        ("timeline.html", _page("timeline", values, request)),
        ("README.txt", _readme(request, case, encrypted=encrypted, files=len(stored), when=when)),
    ]
    entries = [Entry(name, [text.encode("utf-8")], len(text.encode("utf-8"))) for name, text in pages]
    entries += [Entry(file.path, file.chunks, file.info.size) for file in stored if file.path and file.chunks]
    _audit(request, case, encrypted=encrypted, mode="server")
    response = Response(app_iter=stream_zip(entries, when=when, passphrase=passphrase or None),
                        content_type="application/zip")
    response.headers["Content-Disposition"] = content_disposition(archive_name(case.ref, when.date()))
    response.headers["Cache-Control"] = "no-store"
    return response


@view_config(route_name="cases.export_device", request_method="POST", renderer="json",
             permission=Permission.CASE_READ)
def export_on_device(context: CaseContext, request):
    """Device mode, {"encrypted": bool}: records that the guardian's device is exporting the case,
    and answers with what it fills in and zips: {"filename", "case_html" (the frame, with empty
    places marked data-case-content), "timeline_html", "readme", "erased"
    (the erased items, by id: they are shown as erased)}. Nothing here is decrypted."""
    case = context.case
    data = read_json(request)
    errors = reject_unknown_members(data, {"encrypted"})
    if type(data.get("encrypted")) is not bool:
        errors["encrypted"] = "Expected true (the device encrypts the archive to a passphrase) or false."
    if errors:
        raise validation_problem(errors)
    encrypted = data["encrypted"]
    values = _page_values(request, case, device=True)
    when = values["exported_at"]
    _audit(request, case, encrypted=encrypted, mode="device")
    return {
        "filename": archive_name(case.ref, when.date()),
        "case_html": _page("case", values, request),
        "timeline_html": _page("timeline", values, request),
        "readme": _readme(request, case, encrypted=encrypted, files=None, when=when),
        "erased": [{"id": marker["id"], "kind": marker["item_kind"], "at": marker["at"].isoformat(),
                    "from": marker["author"], "account_id": marker["account_id"],
                    "erased_on": marker["erased_on"].isoformat(),
                    "erased_words": f"erased on {words.day_words(marker['erased_on'])}"}
                   for marker in _erased(case).values()],
    }


def export_section(request, page) -> dict | None:
    """The case page's "Export this case" form (the "case-page" slot)."""
    if page.get("case") is None:
        return None
    return {"device": page.get("device", False), "min_passphrase": MIN_PASSPHRASE_CHARS}
