"""Guardians' files, streamed into encryption as they arrive: sent to the reporter, or internal
(page and API); and downloading any attachment, decrypted as it streams out (guardians and
reporters)."""
from __future__ import annotations

import logging
from urllib.parse import quote

from pyramid.httpexceptions import HTTPFound
from pyramid.response import Response
from pyramid.view import view_config

from whistle import audit, crypto
from whistle.attachments.services import (
    AttachmentTooLarge, describe_limit, find_attachment, limits_for, read_attachment, store_attachment,
)
from whistle.attachments.uploads import FilePart, MalformedForm, body_chunks, csrf_ok, filename_header, form_parts
from whistle.cases.models import ITEM_ATTACHMENT_META, ITEM_INTERNAL_ATTACHMENT_META
from whistle.cases.services import CaseKeys, record_unverifiable, unlock_for_guardian
from whistle.workspace.views import case_page
from whistle.errors import Problem, validation_problem
from whistle.errors.views import respond
from whistle.security.acl import CaseContext
from whistle.security.permissions import Permission
from whistle.security.policy import ReporterIdentity

log = logging.getLogger(__name__)
ATTACHMENT_UNVERIFIABLE = "attachment.unverifiable"
NOT_VERIFIED = "This file could not be verified, so it is not offered for download."


def content_disposition(name: str) -> str:
    """RFC 6266: an ASCII fallback and the exact UTF-8 name; always a download, never shown inline."""
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\' else "_" for ch in name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _record_cut(request, case_id: int, attachment_id: int, reporter_path: bool):
    """What to do when a download fails authentication after its headers went out: by then the
    request's transaction has ended, so the audit event gets a transaction of its own."""
    factory, clock = request.registry["dbsession_factory"], request.clock

    def record() -> None:
        log.warning("attachment %s failed authentication while it was sent; the download was cut short",
                    attachment_id)
        dbsession = factory()
        try:
            audit.record(dbsession, clock, actor="system", action=ATTACHMENT_UNVERIFIABLE, case_id=case_id,
                         detail={"attachment_id": attachment_id, "cut_short": True}, dated_to_day=reporter_path)
            dbsession.commit()
        except Exception as error:  # the download is cut either way; say that the record failed
            dbsession.rollback()
            log.error("could not record that attachment %s was cut short: %s", attachment_id, type(error).__name__)
        finally:
            dbsession.close()

    return record


def attachment_response(request, case, keys: CaseKeys, attachment_id: str) -> Response:
    found = find_attachment(request.dbsession, case, keys, attachment_id)
    if found is None:
        raise Problem(404, "There is no such attachment.")
    info, blob_name = found
    reporter_path = isinstance(request.identity, ReporterIdentity)
    # A file that fails to verify is answered (not raised), so the audit event is kept.
    if not info.verified:
        kind = ITEM_INTERNAL_ATTACHMENT_META if info.internal else ITEM_ATTACHMENT_META
        record_unverifiable(request.dbsession, request.clock, case, [{"id": info.meta_item_id, "kind": kind}],
                            reporter_path=reporter_path)
        return respond(request, Problem(404, NOT_VERIFIED))
    try:
        body = read_attachment(request.blob_store, case, keys, blob_name, author=info.sealed_author,
                               internal=info.internal, size=info.size,
                               on_cut=_record_cut(request, case.id, info.id, reporter_path))
    except crypto.DecryptionFailed:
        audit.record(request.dbsession, request.clock, actor="system", action=ATTACHMENT_UNVERIFIABLE,
                     case_id=case.id, detail={"attachment_id": info.id}, dated_to_day=reporter_path)
        return respond(request, Problem(404, NOT_VERIFIED))
    # Served as opaque bytes whatever type the uploader claimed: nothing a reporter or
    # guardian uploads can ever run as a page of this site.
    response = Response(app_iter=body, content_type="application/octet-stream")
    response.content_length = info.size
    response.headers["Content-Disposition"] = content_disposition(info.name)
    return response


@view_config(route_name="attachments.download", request_method="GET", permission=Permission.CASE_READ)
@view_config(route_name="api.case_attachment", request_method="GET", permission=Permission.CASE_READ)
def guardian_download(context: CaseContext, request):
    identity = request.identity
    keys = unlock_for_guardian(request.dbsession, context.case, identity.account.id, identity.keypair)
    response = attachment_response(request, context.case, keys, request.matchdict["id"])
    if response.status_int == 200:
        request.audit("attachment.downloaded", case_id=context.case.id)
    return response


def store_request_body(request, case, *, author: str, account_id: int | None = None, internal: bool = False):
    """The API's upload: the raw body is the file, its name in X-Filename. Returns (row, size);
    a Problem (413 past a limit, 422 without a name) leaves nothing stored."""
    file_limits = limits_for(request.whistle_settings)
    if request.content_length is not None and request.content_length > file_limits.max_file_bytes:
        raise Problem(413, f"Each file can be at most {describe_limit(file_limits.max_file_bytes)}.")
    name = filename_header(request)
    if not name:
        raise validation_problem({"X-Filename": "Give the file's name, UTF-8 and percent-encoded."})
    try:
        return store_attachment(request.dbsession, request.blob_store, request.tm.get(), case, name=name,
                                content_type=request.content_type, chunks=body_chunks(request), limits=file_limits,
                                author=author, account_id=account_id, today=request.clock.today(), internal=internal)
    except AttachmentTooLarge as error:
        raise Problem(413, str(error)) from None


# --- guardians' files: to the reporter (case key) or internal (team key) ---

# The upload form's only text field is its CSRF token.
FORM_FIELD_BYTES = 4096


def internal_flag(request) -> bool:
    """`?internal=true` for a file only guardians see; absent or `false` for one the reporter
    reads. Read from the query string: request.params would parse the body."""
    value = request.GET.get("internal", "false")
    if value not in ("true", "false"):
        raise validation_problem({"internal": "Give true (guardians only) or false (sent to the reporter)."})
    return value == "true"


def _audit_added(request, case, *, internal: bool, files: int) -> None:
    request.audit("case.attachment_added", case_id=case.id, detail={"internal": internal, "files": files})


@view_config(route_name="cases.attachments", request_method="POST", permission=Permission.CASE_WRITE,
             require_csrf=False)
def upload_form(context: CaseContext, request):
    """The case page's file forms (multipart): each file is encrypted as it arrives.

    Never request.POST: WebOb would spool the file to a plaintext temporary file. CSRF is checked
    by hand before the first file is stored. A refused post stores nothing: the files already
    stored are rolled back with the savepoint (so the page does not list them) and their blobs
    are deleted when the doomed transaction aborts."""
    internal = internal_flag(request)
    form = "internal-file" if internal else "send-file"
    account = request.identity.account
    fields: dict[str, str] = {}
    problem: Problem | None = None
    stored = 0
    savepoint = request.dbsession.begin_nested()
    try:
        for part in form_parts(request, max_field_bytes=FORM_FIELD_BYTES):
            if not isinstance(part, FilePart):
                fields[part.name] = part.value
                continue
            if not part.filename:
                continue  # a file input left empty
            if not csrf_ok(request, fields.get("csrf_token")):
                break  # stop before storing anything; answered below
            store_attachment(request.dbsession, request.blob_store, request.tm.get(), context.case,
                             name=part.filename, content_type=part.content_type, chunks=part.chunks,
                             limits=limits_for(request.whistle_settings), author="guardian", account_id=account.id,
                             today=request.clock.today(), internal=internal)
            stored += 1
    except MalformedForm as error:
        problem = Problem(400, str(error))
    except AttachmentTooLarge as error:
        problem = _files_problem(413, f"{error} No file was stored: choose smaller files.")
    if problem is None and not csrf_ok(request, fields.get("csrf_token")):
        problem = Problem(400, "This page had expired, so no file was stored. Choose the files again and send them.")
    if problem is None and not stored:
        problem = _files_problem(422, "Choose a file first.")
    if problem is not None:
        savepoint.rollback()
        request.tm.doom()  # and the blobs of files stored before the refusal are deleted
        return case_page(request, context, problem=problem, form=form)
    savepoint.commit()
    _audit_added(request, context.case, internal=internal, files=stored)
    return HTTPFound(request.route_url("cases.show", ref=context.case.ref, _anchor="files"))


def _files_problem(status: int, message: str) -> Problem:
    return Problem(status, message, errors=[{"field": "files", "message": message}])


@view_config(route_name="api.case_attachments", request_method="POST", renderer="json",
             permission=Permission.CASE_WRITE)
def api_upload(context: CaseContext, request):
    """One file as the raw body, its name in X-Filename; `?internal=true` for guardians only."""
    internal = internal_flag(request)
    attachment, size = store_request_body(request, context.case, author="guardian",
                                          account_id=request.identity.account.id, internal=internal)
    _audit_added(request, context.case, internal=internal, files=1)
    request.response.status = 201
    return {"id": attachment.id, "size": size, "internal": internal}
