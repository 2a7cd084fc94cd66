"""Files from a guardian's device (device mode): encrypted there, uploaded in chunks as the reporter's
are, stored byte for byte as the guardian's attachment, to the reporter or for guardians only."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from tests.factories import b64, device_login, holder_keys
from tests.functional.workspace.conftest import events
from whistle import crypto
from whistle.attachments.services import list_attachments, open_blob
from whistle.cases.models import Attachment, Case

FILE = b"Rota for ward 7, week 12.\n" * 5000  # two chunks and a bit


@pytest.fixture
def device(testapp, dbsession, settings, clock, guardian, submitted):
    token = device_login(testapp, dbsession, settings, clock, guardian)
    ref = submitted["case"]
    case = dbsession.scalars(select(Case).where(Case.ref == ref)).one()
    page = testapp.get(f"/staff/cases/{ref}")
    csrf = page.html.find("meta", attrs={"name": "csrf-token"})["content"]
    return case, holder_keys(dbsession, case), csrf, token


def _encrypted(public_key, ref, author, internal) -> bytes:
    encryptor = crypto.StreamEncryptor(public_key, case=ref, author=author,
                                       kind="internal-attachment" if internal else "attachment")
    return encryptor.header + encryptor.push(FILE) + encryptor.finish()


def _upload(testapp, case, keys, account_id, headers, *, internal: bool, base: str) -> dict:
    author = f"guardian:{account_id}"
    public = keys.team.public if internal else keys.case.public
    stream = _encrypted(public, case.ref, author, internal)
    chunks = crypto.stream_chunk_count(len(FILE))
    started = testapp.post_json(f"{base}/{case.ref}/uploads", {"chunks": chunks, "size": len(stream),
                                                                "internal": internal}, headers=headers,
                                status=201).json
    testapp.put(f"{base}/{case.ref}/uploads/{started['id']}/0", stream,
                headers={**headers, "Content-Type": "application/octet-stream"}, status=204)
    kind = "internal-file" if internal else "attachment-meta"
    meta = crypto.encrypt_item(public, json.dumps({"name": "rota.txt", "size": len(FILE), "type": "text/plain"})
                               .encode(), case=case.ref, kind=kind, author=author)
    return testapp.post_json(f"{base}/{case.ref}/uploads/{started['id']}/done", {"meta": b64(meta)},
                             headers=headers, status=201).json


@pytest.mark.parametrize("internal", [False, True])
def test_a_file_from_the_device_becomes_the_guardians_attachment(testapp, dbsession, guardian, device, internal):
    case, keys, csrf, _ = device
    done = _upload(testapp, case, keys, guardian.account.id, {"X-CSRF-Token": csrf}, internal=internal,
                   base="/staff/cases")
    assert done["internal"] is internal
    row = dbsession.get(Attachment, done["id"])
    assert (row.author, row.account_id) == ("guardian", guardian.account.id)
    [listed] = list_attachments(dbsession, case, keys)
    assert (listed.name, listed.size, listed.internal, listed.verified) == ("rota.txt", len(FILE), internal, True)
    with open_blob(testapp.app.registry.blob_store, row) as stored:
        pair = keys.team if internal else keys.case
        plain = b"".join(crypto.decrypt_stream(pair, stored, case=case.ref, author=f"guardian:{guardian.account.id}",
                                               kind="internal-attachment" if internal else "attachment"))
    assert plain == FILE
    assert [e.detail for e in events(dbsession, "case.attachment_added")] == [{"internal": internal, "files": 1}]


def test_the_api_twin_takes_a_bearer(testapp, dbsession, guardian, device):
    case, keys, _, token = device
    _upload(testapp, case, keys, guardian.account.id, {"Authorization": f"Bearer {token}"}, internal=True,
            base="/api/v1/cases")
    assert len(list_attachments(dbsession, case, keys)) == 1


def test_the_cookie_routes_need_the_csrf_header(testapp, device):
    case, _, _, _ = device
    testapp.post_json(f"/staff/cases/{case.ref}/uploads", {"chunks": 3, "size": 1000}, status=400)


def test_refusals(testapp, dbsession, device):
    case, _, csrf, _ = device
    headers = {"X-CSRF-Token": csrf, "Accept": "application/json"}
    base = f"/staff/cases/{case.ref}/uploads"
    for body, field in (({"chunks": 3, "size": 5}, "size"), ({"chunks": "x", "size": 5}, "chunks"),
                        ({"chunks": 2, "size": 379, "internal": "yes"}, "internal"), ({"bytes": 1}, "bytes")):
        problem = testapp.post_json(base, body, headers=headers, status=422).json
        assert field in {e["field"] for e in problem["errors"]}
    testapp.get(f"{base}/nope", headers=headers, status=404)
    started = testapp.post_json(base, {"chunks": 2, "size": 106 + 273}, headers=headers, status=201).json
    octets = {**headers, "Content-Type": "application/octet-stream"}
    testapp.put(f"{base}/{started['id']}/0", b"x" * 106, headers=octets, status=422)
    testapp.post_json(f"{base}/{started['id']}/done", {"meta": b64(b"x" * 400)}, headers=headers, status=422)
    testapp.delete(f"{base}/{started['id']}", headers=headers, status=204)
    testapp.get(f"{base}/{started['id']}", headers=headers, status=404)
    assert dbsession.scalars(select(Attachment)).all() == []


def test_an_upload_is_only_its_starters(testapp, app, dbsession, settings, clock, guardian, colleague, submitted,
                                        device):
    """Another guardian of the same case, and the case's reporter, find nothing at a guardian's upload:
    they cannot read its progress, add chunks, finish it as theirs or cancel it."""
    from webtest import TestApp

    from whistle.cases.models import HOLDER_GUARDIAN, CaseGrant

    case, keys, csrf, _ = device
    case.grants.append(CaseGrant(holder=HOLDER_GUARDIAN, account_id=colleague.account.id, granted_on=clock.today(),
                                 sealed_case_key=crypto.seal(colleague.account.public_key, keys.case.private),
                                 sealed_team_key=crypto.seal(colleague.account.public_key, keys.team.private)))
    dbsession.flush()
    headers = {"X-CSRF-Token": csrf, "Accept": "application/json"}
    base = f"/staff/cases/{case.ref}/uploads"
    started = testapp.post_json(base, {"chunks": 2, "size": 106 + 273}, headers=headers, status=201).json

    other = TestApp(app, extra_environ=testapp.extra_environ)
    device_login(other, dbsession, settings, clock, colleague)
    theirs = {"X-CSRF-Token": other.get(f"/staff/cases/{case.ref}").html.find(
        "meta", attrs={"name": "csrf-token"})["content"], "Accept": "application/json"}
    other.get(f"{base}/{started['id']}", headers=theirs, status=404)
    other.put(f"{base}/{started['id']}/0", b"x" * 106,
              headers={**theirs, "Content-Type": "application/octet-stream"}, status=404)
    other.post_json(f"{base}/{started['id']}/done", {"meta": b64(b"x" * 400)}, headers=theirs, status=404)
    other.delete(f"{base}/{started['id']}", headers=theirs, status=404)

    reporter = TestApp(app, extra_environ=testapp.extra_environ)
    token = reporter.post_json("/api/v1/reporter/session", {"receipt": submitted["receipt"]}).json["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    reporter.get(f"/api/v1/reporter/uploads/{started['id']}", headers=bearer, status=404)
    reporter.post_json(f"/api/v1/reporter/uploads/{started['id']}/done", {"meta": b64(b"x" * 400)}, headers=bearer,
                       status=404)
    testapp.get(f"{base}/{started['id']}", headers=headers, status=200)
