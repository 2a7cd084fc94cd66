"""Downloading an attachment, decrypted as it streams out: guardians (page and API) and reporters."""
from __future__ import annotations

from urllib.parse import quote

from pyramid.response import Response
from pyramid.view import view_config

from whistle.attachments.services import find_attachment, read_attachment
from whistle.cases.services import CaseKeys, unlock_for_guardian
from whistle.errors import Problem
from whistle.security.acl import CaseContext
from whistle.security.permissions import Permission


def content_disposition(name: str) -> str:
    """RFC 6266: an ASCII fallback and the exact UTF-8 name; always a download, never shown inline."""
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\' else "_" for ch in name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def attachment_response(request, case, keys: CaseKeys, attachment_id: str) -> Response:
    found = find_attachment(request.dbsession, case, keys, attachment_id)
    if found is None:
        raise Problem(404, "There is no such attachment.")
    info, blob_name = found
    # Served as opaque bytes whatever type the uploader claimed: nothing a reporter or
    # guardian uploads can ever run as a page of this site.
    response = Response(app_iter=read_attachment(request.blob_store, case, keys, blob_name, internal=info.internal),
                        content_type="application/octet-stream")
    response.content_length = info.size
    response.headers["Content-Disposition"] = content_disposition(info.name)
    return response


@view_config(route_name="attachments.download", request_method="GET", permission=Permission.CASE_READ)
@view_config(route_name="api.case_attachment", request_method="GET", permission=Permission.CASE_READ)
def guardian_download(context: CaseContext, request):
    identity = request.identity
    keys = unlock_for_guardian(request.dbsession, context.case, identity.account.id, identity.keypair)
    response = attachment_response(request, context.case, keys, request.matchdict["id"])
    request.audit("attachment.downloaded", case_id=context.case.id)
    return response

