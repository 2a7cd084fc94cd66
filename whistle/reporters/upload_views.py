"""Files a reporter's client encrypts itself and uploads in chunks, and the stored ciphertext of the
case's files, under /api/v1/reporter/ (docs/attachments.md, docs/crypto.md 7.2). For either kind of
reporter session: none of this needs a key."""
from __future__ import annotations

import base64
import binascii

from pyramid.view import view_config

from whistle.attachments.models import PendingUpload
from whistle.attachments.services import (
    cancel_upload,
    find_upload,
    finish_upload,
    limits_for,
    received_chunks,
    reporter_blob,
    start_upload,
)
from whistle.attachments.views import ciphertext_response, put_chunk_run
from whistle.errors import Problem, validation_problem
from whistle.jsonapi import read_json, reject_unknown_members
from whistle.reporters.limits import TooManyUploads, check_uploads, count_uploads
from whistle.reporters.services import send_files
from whistle.reporters.views import refuse_withdrawn, too_many_uploads_problem
from whistle.security.permissions import Permission

NO_SUCH_UPLOAD = "There is no such upload: it was finished, cancelled, or left unfinished for too long."


def _no_content(request):
    response = request.response
    response.status = 204
    response.content_type = None  # a 204 has no body, so no type either
    return response


def _upload(request) -> PendingUpload:
    upload = find_upload(request.dbsession, request.identity.case, request.matchdict["upload"])
    if upload is None:
        raise Problem(404, NO_SUCH_UPLOAD)
    return upload


def _whole_number(value) -> bool:
    return type(value) is int and value >= 0


@view_config(route_name="api.reporter_uploads", request_method="POST", renderer="json",
             permission=Permission.MAILBOX_CIPHERTEXT)
def upload_start(request):
    refuse_withdrawn(request.identity.case)
    data = read_json(request)
    errors = reject_unknown_members(data, {"chunks", "bytes"})
    for name in ("chunks", "bytes"):
        if not _whole_number(data.get(name)):
            errors[name] = "Give a whole number, 0 or more."
    if errors:
        raise validation_problem(errors)
    try:
        check_uploads(request)
    except TooManyUploads as refused:
        return too_many_uploads_problem(request, refused)
    settings = request.whistle_settings
    upload = start_upload(request.dbsession, request.blob_store, request.tm.get(), request.identity.case,
                          chunks=data["chunks"], total=data["bytes"], limits=limits_for(settings),
                          max_unfinished=settings.max_unfinished_uploads, today=request.clock.today())
    count_uploads(request)
    request.response.status = 201
    return {"id": upload.public_id, "chunks": upload.chunks}


@view_config(route_name="api.reporter_upload", request_method="GET", renderer="json",
             permission=Permission.MAILBOX_CIPHERTEXT)
def upload_status(request):
    upload = _upload(request)
    return {"id": upload.public_id, "chunks": upload.chunks, "received": received_chunks(request.dbsession, upload)}


@view_config(route_name="api.reporter_upload_chunk", request_method="PUT", permission=Permission.MAILBOX_CIPHERTEXT)
def upload_chunk(request):
    """One chunk, or a run of up to 16 consecutive chunks from `index` (whistle.attachments.wire)."""
    put_chunk_run(request, _upload(request))
    return _no_content(request)


@view_config(route_name="api.reporter_upload_done", request_method="POST", renderer="json",
             permission=Permission.MAILBOX_CIPHERTEXT)
def upload_done(request):
    upload = _upload(request)
    refuse_withdrawn(request.identity.case)
    data = read_json(request)
    errors = reject_unknown_members(data, {"meta"})
    meta = None
    if isinstance(data.get("meta"), str):
        try:
            meta = base64.b64decode(data["meta"], validate=True)
        except (binascii.Error, ValueError):
            meta = None
    if meta is None:
        errors["meta"] = "Give the file's attachment-meta item, in standard base64."
    if errors:
        raise validation_problem(errors)
    assert meta is not None  # given when there is no error
    case = request.identity.case
    attachment = finish_upload(request.dbsession, request.blob_store, request.tm.get(), case, upload, meta=meta,
                               limits=limits_for(request.whistle_settings), today=request.clock.today())
    # The same as for a file the server encrypted: recorded, and the case's guardians told.
    request.audit("reporter.attachment_added", case_id=case.id, actor="reporter", detail={"files": 1})
    send_files(case, call_hook=request.call_hook)
    request.response.status = 201
    return {"id": attachment.id, "bytes": attachment.stored_bytes}


@view_config(route_name="api.reporter_upload", request_method="DELETE", permission=Permission.MAILBOX_CIPHERTEXT)
def upload_cancel(request):
    cancel_upload(request.dbsession, request.blob_store, request.tm.get(), _upload(request))
    return _no_content(request)


@view_config(route_name="api.reporter_attachment_blob", request_method="GET",
             permission=Permission.MAILBOX_CIPHERTEXT)
def attachment_blob(request):
    """The file's stored ciphertext (a stream envelope, docs/crypto.md 5.3), for a client that
    decrypts it itself. Sent from the open blob after the request's transaction has ended."""
    attachment = reporter_blob(request.dbsession, request.identity.case, request.matchdict["id"])
    if attachment is None:
        raise Problem(404, "There is no such attachment.")
    return ciphertext_response(request, attachment)
