"""Files a guardian's device encrypts itself and uploads in chunks (device mode: the server holds no
key), to the reporter (stream kind "attachment", case key) or for guardians only ("internal-attachment",
team key): the reporter's chunked upload (docs/crypto.md 7.2, whistle.reporters.upload_views) on the
case, by the guardian. At /staff/cases/{ref}/uploads with the cookie session (and the X-CSRF-Token
header), and at /api/v1/cases/{ref}/uploads with a bearer token."""
from __future__ import annotations

from pyramid.view import view_config

from whistle.attachments.models import PendingUpload
from whistle.attachments.services import (
    cancel_upload,
    find_upload,
    finish_upload,
    limits_for,
    received_chunks,
    start_upload,
)
from whistle.attachments.views import put_chunk_run
from whistle.cases.context import CaseContext
from whistle.errors import Problem, validation_problem
from whistle.jsonapi import decode_base64, read_json, reject_unknown_members
from whistle.security.permissions import Permission

NO_SUCH_UPLOAD = "There is no such upload: it was finished, cancelled, or left unfinished for too long."


def _no_content(request):
    response = request.response
    response.status = 204
    response.content_type = None  # a 204 has no body, so no type either
    return response


def _upload(context: CaseContext, request) -> PendingUpload:
    upload = find_upload(request.dbsession, context.case, request.matchdict["upload"],
                         account_id=request.identity.account.id)
    if upload is None:
        raise Problem(404, NO_SUCH_UPLOAD)
    return upload


def _whole_number(value) -> bool:
    return type(value) is int and value >= 0


@view_config(route_name="cases.uploads", request_method="POST", renderer="json", permission=Permission.CASE_WRITE)
@view_config(route_name="api.case_uploads", request_method="POST", renderer="json", permission=Permission.CASE_WRITE)
def upload_start(context: CaseContext, request):
    """{"chunks", "size" (the stream envelope's bytes), "internal"}: an upload begins."""
    data = read_json(request)
    errors = reject_unknown_members(data, {"chunks", "size", "internal"})
    for name in ("chunks", "size"):
        if not _whole_number(data.get(name)):
            errors[name] = "Give a whole number, 0 or more."
    if not isinstance(data.get("internal", False), bool):
        errors["internal"] = "Give true (guardians only) or false (sent to the reporter)."
    if errors:
        raise validation_problem(errors)
    settings = request.whistle_settings
    try:
        upload = start_upload(request.dbsession, request.blob_store, request.tm.get(), context.case,
                              chunks=data["chunks"], total=data["size"], limits=limits_for(settings),
                              max_unfinished=settings.max_unfinished_uploads, today=request.clock.today(),
                              account_id=request.identity.account.id, internal=data.get("internal", False))
    except Problem as problem:
        # The reporter's service names the stream's bytes "bytes"; here they are "size".
        if problem.errors:
            raise validation_problem({"size" if e["field"] == "bytes" else e["field"]: e["message"]
                                      for e in problem.errors}) from None
        raise
    request.response.status = 201
    return {"id": upload.public_id, "chunks": upload.chunks, "internal": upload.internal}


@view_config(route_name="cases.upload", request_method="GET", renderer="json", permission=Permission.CASE_WRITE)
@view_config(route_name="api.case_upload", request_method="GET", renderer="json", permission=Permission.CASE_WRITE)
def upload_status(context: CaseContext, request):
    upload = _upload(context, request)
    return {"id": upload.public_id, "chunks": upload.chunks, "internal": upload.internal,
            "received": received_chunks(request.dbsession, upload)}


@view_config(route_name="cases.upload_chunk", request_method="PUT", permission=Permission.CASE_WRITE)
@view_config(route_name="api.case_upload_chunk", request_method="PUT", permission=Permission.CASE_WRITE)
def upload_chunk(context: CaseContext, request):
    """One chunk, or a run of up to 16 consecutive chunks from `index`, as application/octet-stream."""
    put_chunk_run(request, _upload(context, request))
    return _no_content(request)


@view_config(route_name="cases.upload_done", request_method="POST", renderer="json", permission=Permission.CASE_WRITE)
@view_config(route_name="api.case_upload_done", request_method="POST", renderer="json",
             permission=Permission.CASE_WRITE)
def upload_done(context: CaseContext, request):
    """{"meta"}: the file's attachment-meta item (kind internal-file for an internal file), as the
    device encrypted it; the upload becomes the case's attachment, by this guardian."""
    upload = _upload(context, request)
    data = read_json(request)
    errors = reject_unknown_members(data, {"meta"})
    meta = decode_base64(data.get("meta"))
    if meta is None:
        errors["meta"] = "Give the file's attachment-meta item, in standard base64."
    if errors:
        raise validation_problem(errors)
    assert meta is not None  # given when there is no error
    internal = upload.internal
    attachment = finish_upload(request.dbsession, request.blob_store, request.tm.get(), context.case, upload,
                               meta=meta, limits=limits_for(request.whistle_settings), today=request.clock.today())
    # As for a file the server encrypted (whistle.workspace.files_views).
    request.audit("case.attachment_added", case_id=context.case.id, detail={"internal": internal, "files": 1})
    request.response.status = 201
    return {"id": attachment.id, "bytes": attachment.stored_bytes, "internal": internal}


@view_config(route_name="cases.upload", request_method="DELETE", permission=Permission.CASE_WRITE)
@view_config(route_name="api.case_upload", request_method="DELETE", permission=Permission.CASE_WRITE)
def upload_cancel(context: CaseContext, request):
    cancel_upload(request.dbsession, request.blob_store, request.tm.get(), _upload(context, request))
    return _no_content(request)
