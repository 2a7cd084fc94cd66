"""The case page's files: a guardian sends the reporter a file (case key) or adds an internal one
(team key), as a form and as the API's raw-body upload."""
from __future__ import annotations

from pyramid.httpexceptions import HTTPFound
from pyramid.view import view_config

from whistle.attachments.services import AttachmentTooLarge, limits_for, store_attachment
from whistle.attachments.uploads import FilePart, MalformedForm, csrf_ok, form_parts
from whistle.attachments.views import store_request_body
from whistle.cases.context import CaseContext
from whistle.cases.models import ITEM_ATTACHMENT_META, ITEM_INTERNAL_ATTACHMENT_META
from whistle.cases.services import check_keys
from whistle.errors import Problem, validation_problem
from whistle.i18n import _
from whistle.security.permissions import Permission
from whistle.workspace.views import case_page, unlock

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
    keys = unlock(request, context)
    # A stored key that is not this guardian's is refused before any file is read or stored.
    check_keys(context.case, keys, kinds=[ITEM_INTERNAL_ATTACHMENT_META if internal else ITEM_ATTACHMENT_META])
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
            store_attachment(request.dbsession, request.blob_store, request.tm.get(), context.case, keys,
                             name=part.filename, content_type=part.content_type, chunks=part.chunks,
                             limits=limits_for(request.whistle_settings), author="guardian", account_id=account.id,
                             today=request.clock.today(), internal=internal)
            stored += 1
    except MalformedForm as error:
        problem = Problem(400, str(error))
    except AttachmentTooLarge as error:
        problem = _files_problem(413, _("${error} No file was stored: choose smaller files.",
                                        mapping={"error": error.args[0]}))
    if problem is None and not csrf_ok(request, fields.get("csrf_token")):
        problem = Problem(400, _("This page had expired, so no file was stored. Choose the files again and send them."))
    if problem is None and not stored:
        problem = _files_problem(422, _("Choose a file first."))
    if problem is not None:
        savepoint.rollback()
        request.tm.doom()  # and the blobs of files stored before the refusal are deleted
        return case_page(request, context, problem=problem, form=form)
    savepoint.commit()
    _audit_added(request, context.case, internal=internal, files=stored)
    return HTTPFound(request.route_url("cases.show", ref=context.case.ref, _anchor="files"))


def _files_problem(status: int, message) -> Problem:
    return Problem(status, message, errors=[{"field": "files", "message": message}])


@view_config(route_name="api.case_attachments", request_method="POST", renderer="json",
             permission=Permission.CASE_WRITE)
def api_upload(context: CaseContext, request):
    """One file as the raw body, its name in X-Filename; `?internal=true` for guardians only."""
    internal = internal_flag(request)
    attachment, size = store_request_body(request, context.case, unlock(request, context), author="guardian",
                                          account_id=request.identity.account.id, internal=internal)
    _audit_added(request, context.case, internal=internal, files=1)
    request.response.status = 201
    return {"id": attachment.id, "size": size, "internal": internal}
