"""Downloading any attachment, decrypted as it streams out (guardians and reporters), and the API's
raw-body upload that guardians' and reporters' uploads share; for clients that encrypt on their own
device (the reporter's and the guardian's), a run of upload chunks taken from a request and a stored
file's ciphertext sent back as it is. (The case page's file forms: whistle.workspace.files_views.)"""
from __future__ import annotations

import logging
from urllib.parse import quote

from pyramid.response import FileIter, Response
from pyramid.view import view_config

from whistle import audit, crypto
from whistle.attachments.models import PendingUpload
from whistle.attachments.services import (
    AttachmentTooLarge,
    describe_limit,
    find_attachment,
    limits_for,
    open_blob,
    put_chunks,
    read_attachment,
    reencrypt_internal_files,
    run_bytes_at_most,
    store_attachment,
)
from whistle.attachments.uploads import body_chunks, filename_header
from whistle.cases.context import CaseContext
from whistle.cases.models import ITEM_ATTACHMENT_META, ITEM_INTERNAL_ATTACHMENT_META, Attachment
from whistle.cases.services import CaseKeys, DeviceModeOnly, TeamKeyRenewal, record_unverifiable, unlock_for_guardian
from whistle.errors import Problem, validation_problem
from whistle.errors.views import respond
from whistle.key_directory.services import try_current_directory
from whistle.security.permissions import Permission
from whistle.security.policy import session_kind
from whistle.sessions.models import REPORTER

log = logging.getLogger(__name__)
ATTACHMENT_UNVERIFIABLE = "attachment.unverifiable"
NOT_VERIFIED = "This file could not be verified, so it is not offered for download."
CIPHERTEXT_READ_SIZE = 64 * 1024


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
        except Exception as error:  # noqa: BLE001 - the download is cut either way; say that the record failed
            dbsession.rollback()
            log.error("could not record that attachment %s was cut short: %s", attachment_id, type(error).__name__)
        finally:
            dbsession.close()

    return record


def attachment_response(request, case, keys: CaseKeys, attachment_id: str) -> Response:
    found = find_attachment(request.dbsession, case, keys, attachment_id)
    if found is None:
        raise Problem(404, "There is no such attachment.")
    info, row = found
    reporter_path = session_kind(request) == REPORTER
    # A file that fails to verify is answered (not raised), so the audit event is kept.
    if not info.verified:
        kind = ITEM_INTERNAL_ATTACHMENT_META if info.internal else ITEM_ATTACHMENT_META
        record_unverifiable(request.dbsession, request.clock, case, [{"id": info.meta_item_id, "kind": kind}],
                            reporter_path=reporter_path)
        return respond(request, Problem(404, NOT_VERIFIED))
    try:
        body = read_attachment(request.blob_store, case, keys, row, author=info.sealed_author,
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


def guardian_keys(request, case) -> CaseKeys:
    """The signed-in guardian's keys to `case` (whistle.cases.services.unlock_for_guardian); on the
    first unlock of a case built on the client, with the team key replaced, its internal files
    re-encrypted in this request's blob store and transaction. DeviceModeOnly for a session that
    holds no key: its guardian's device decrypts, the server cannot."""
    identity, dbsession = request.identity, request.dbsession
    if not identity.holds_key:
        raise DeviceModeOnly()

    def reencrypt_files(case, old, new) -> None:
        reencrypt_internal_files(dbsession, request.blob_store, request.tm.get(), case, old, new)

    renewal = TeamKeyRenewal(
        clock=request.clock, reencrypt_files=reencrypt_files,
        directory=lambda: try_current_directory(dbsession, request.whistle_settings, request.clock))
    return unlock_for_guardian(dbsession, case, identity.account.id, identity.keypair,
                               server_key=request.whistle_settings.session_key, renewal=renewal)


@view_config(route_name="attachments.download", request_method="GET", permission=Permission.CASE_READ)
@view_config(route_name="api.case_attachment", request_method="GET", permission=Permission.CASE_READ)
def guardian_download(context: CaseContext, request):
    keys = guardian_keys(request, context.case)
    response = attachment_response(request, context.case, keys, request.matchdict["id"])
    if response.status_int == 200:
        request.audit("attachment.downloaded", case_id=context.case.id)
    return response


def store_request_body(request, case, keys, *, author: str, account_id: int | None = None, internal: bool = False):
    """The API's upload: the raw body is the file, its name in X-Filename, encrypted to the case's
    key checked against `keys` (the uploader's). Returns (row, size); a Problem (413 past a
    limit, 422 without a name) or KeyMismatch leaves nothing stored."""
    file_limits = limits_for(request.whistle_settings)
    if request.content_length is not None and request.content_length > file_limits.max_file_bytes:
        raise Problem(413, f"Each file can be at most {describe_limit(file_limits.max_file_bytes)}.")
    name = filename_header(request)
    if not name:
        raise validation_problem({"X-Filename": "Give the file's name, UTF-8 and percent-encoded."})
    try:
        return store_attachment(request.dbsession, request.blob_store, request.tm.get(), case, keys, name=name,
                                content_type=request.content_type, chunks=body_chunks(request), limits=file_limits,
                                author=author, account_id=account_id, today=request.clock.today(), internal=internal)
    except AttachmentTooLarge as error:
        raise Problem(413, error.args[0]) from None


def put_chunk_run(request, upload: PendingUpload) -> None:
    """The request's body as one chunk, or a run of consecutive chunks from the route's `index` (up
    to 16: the body's length says how many, since the upload's shape gives each chunk's length)."""
    if request.content_type != "application/octet-stream":
        raise Problem(415, "Send the chunks' bytes as application/octet-stream.")
    index = int(request.matchdict["index"])
    most = run_bytes_at_most(upload, index)
    if request.content_length is not None and request.content_length > most:
        raise validation_problem({"body": f"A run of chunks from chunk {index} of this upload is at most {most} "
                                          f"bytes, not {request.content_length}."})
    # At most one run (about 1 MiB) is ever read into memory; a longer body is not read on.
    data = request.body_file.read(most + 1)
    put_chunks(request.dbsession, request.blob_store, upload, index, data)


def ciphertext_response(request, attachment: Attachment) -> Response:
    """The file's stored ciphertext (a stream envelope, docs/crypto.md 5.3), streamed from the open
    blob after the request's transaction has ended; 404 if its blob is gone."""
    try:
        source = open_blob(request.blob_store, attachment)
    # Its blob is gone (a restore without the blobs, say), or its shred key: nothing to send.
    except (OSError, crypto.DecryptionFailed):
        log.warning("attachment %s has no blob", attachment.id)
        raise Problem(404, "There is no such attachment.") from None
    response = Response(app_iter=FileIter(source, CIPHERTEXT_READ_SIZE), content_type="application/octet-stream")
    response.content_length = attachment.stored_bytes
    response.headers["Content-Disposition"] = "attachment"
    return response
