"""`whistle -c FILE blobs move --to …`: every file's blob copied to another store and verified, the
command run again skips what is there, --delete-source empties the old store, and the app reads
every file from the new one. On a committed database of the engine under test; the S3 store is
moto's S3-protocol server on loopback (tests/s3.py)."""
from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select
from webtest import TestApp

from tests.factories import api_login, make_channel, make_staff, sign_directory, submit_api
from tests.functional.reporters.test_chunked_uploads import ClientFile, put
from tests.s3 import new_bucket, s3_server, s3_settings
from whistle import crypto
from whistle.attachments.blobs import make_blob_store
from whistle.cases.models import Attachment, Case
from whistle.cli import main as whistle_main
from whistle.clock import ManualClock
from whistle.config import make_configurator
from whistle.db import make_engine
from whistle.jobs import context_from_registry
from whistle.settings import load_settings


class Installation:
    """An app on a committed database, rebuilt with other settings as an operator restarts it."""

    def __init__(self, raw: dict, tmp_path: Path) -> None:
        self.raw, self.ini = raw, tmp_path / "whistle.ini"
        self.clock = ManualClock(datetime.now(UTC).replace(microsecond=0))
        self.start()

    def start(self, **changes) -> None:
        self.raw = dict(self.raw, **changes)
        self.ini.write_text("[app:main]\n" + "".join(f"{key} = {value}\n" for key, value in self.raw.items()))
        settings = load_settings(self.raw, environ={})
        app = make_configurator(self.raw, settings=settings, clock=self.clock).make_wsgi_app()
        self.testapp = TestApp(app, extra_environ={"HTTP_HOST": "example.com"})
        self.ctx = context_from_registry(app.registry)

    def whistle(self, *args: str) -> int:
        return whistle_main(["-c", str(self.ini), *args])


@pytest.fixture
def installation(committed_database, tmp_path):
    built = Installation(committed_database("move"), tmp_path)
    with built.ctx.session() as dbsession:
        make_channel(dbsession)
        guardian = make_staff(dbsession, built.ctx.settings, built.clock, channels=["staff"])
        sign_directory(dbsession, built.ctx.settings, built.clock)
        built.guardian = replace(guardian, account=SimpleNamespace(id=guardian.account.id,
                                                                   username=guardian.account.username))
    return built


def report_with_files(installation: Installation, count: int) -> tuple[str, dict[int, bytes]]:
    """A case whose reporter sent `count` files through the mailbox API: (ref, {id: plaintext})."""
    testapp = installation.testapp
    sent = submit_api(testapp)
    token = testapp.post_json("/api/v1/reporter/session", {"receipt": sent["receipt"]}).json["token"]
    files = {}
    for number in range(count):
        body = os.urandom(70_000 + number)  # more than one chunk of the stream
        answer = testapp.post("/api/v1/reporter/attachments", body, status=201, headers={
            "Authorization": f"Bearer {token}", "Content-Type": "application/octet-stream",
            "X-Filename": f"photo-{number}.jpg"}).json
        files[answer["id"]] = body
    return sent["case"], files


def downloads(installation: Installation, ref: str, files: dict[int, bytes]) -> None:
    testapp = installation.testapp
    headers = api_login(testapp, installation.guardian, installation.clock)
    for attachment_id, body in files.items():
        assert testapp.get(f"/api/v1/cases/{ref}/attachments/{attachment_id}", headers=headers).body == body


def blob_names(installation: Installation) -> list[str]:
    with installation.ctx.session() as dbsession:
        return list(dbsession.scalars(select(Attachment.blob_name)))


def test_moving_to_the_database_copies_verifies_resumes_and_the_app_reads_every_file_there(installation, capsys):
    ref, files = report_with_files(installation, 3)
    local = make_blob_store(installation.ctx.settings, make_engine(installation.raw["whistle.db.url"]))
    names = blob_names(installation)
    assert set(names) <= set(local.names())

    assert installation.whistle("blobs", "move", "--to", "database") == 0
    assert sorted(blob_names(installation)) == sorted(names), "the blobs keep their names: no row changes"
    out = capsys.readouterr().out
    assert "3 blobs copied to the database store and verified (size and SHA-256), 0 there already." in out
    assert "whistle.attachments.blob_store = database" in out
    assert set(names) <= set(local.names()), "nothing is deleted from the source unless asked"

    # Interrupted and run again, or run again with the app stopped: what is there is skipped.
    ref_more, more = report_with_files(installation, 1)
    assert installation.whistle("blobs", "move", "--to", "database", "--delete-source") == 0
    out = capsys.readouterr().out
    assert "1 blobs copied to the database store and verified (size and SHA-256), 3 there already; deleted" in out
    assert not set(blob_names(installation)) & set(local.names()), "deleted from the source once verified"

    installation.start(**{"whistle.attachments.blob_store": "database"})
    downloads(installation, ref, files)
    downloads(installation, ref_more, more)


def test_moving_to_s3_and_back(installation, capsys):
    ref, files = report_with_files(installation, 2)
    with s3_server() as endpoint:
        new_bucket(endpoint, "whistle-move")
        installation.start(**{**s3_settings(endpoint, "whistle-move"), "whistle.attachments.blob_store": "local"})
        assert installation.whistle("blobs", "move", "--to", "s3") == 0
        assert "2 blobs copied to the s3 store" in capsys.readouterr().out
        installation.start(**{"whistle.attachments.blob_store": "s3"})
        downloads(installation, ref, files)
        ref_s3, on_s3 = report_with_files(installation, 1)  # written to the bucket
        downloads(installation, ref_s3, on_s3)
        assert installation.whistle("blobs", "move", "--from", "s3", "--to", "local") == 0
        assert "1 blobs copied to the local store and verified (size and SHA-256), 2 there already." in \
            capsys.readouterr().out
    installation.start(**{"whistle.attachments.blob_store": "local"})
    downloads(installation, ref, files)
    downloads(installation, ref_s3, on_s3)


def test_a_blob_in_neither_store_is_named_and_the_command_fails(installation, capsys):
    report_with_files(installation, 2)
    local = make_blob_store(installation.ctx.settings, make_engine(installation.raw["whistle.db.url"]))
    lost = blob_names(installation)[0]
    local.delete(lost)
    assert installation.whistle("blobs", "move", "--to", "database") == 1
    out = capsys.readouterr().out
    assert f"not in the source store: blob {lost}" in out and "1 missing from the source store" in out
    assert installation.whistle("blobs", "move", "--to", "local") == 1
    assert "in the local store already" in capsys.readouterr().err


def test_an_upload_unfinished_when_the_blobs_moved_is_started_again_not_an_error(installation, capsys):
    testapp = installation.testapp
    sent = submit_api(testapp)
    headers = {"Authorization": "Bearer " + testapp.post_json(
        "/api/v1/reporter/session", {"receipt": sent["receipt"]}).json["token"]}
    with installation.ctx.session() as dbsession:
        file = ClientFile(dbsession.scalars(select(Case).where(Case.ref == sent["case"])).one(),
                          os.urandom(2 * crypto.CHUNK_SIZE))
    begun = testapp.post_json("/api/v1/reporter/uploads", file.shape, headers=headers, status=201).json
    put(testapp, headers, begun["id"], 0, file.chunks[0], status=204)
    assert installation.whistle("blobs", "move", "--to", "database") == 0
    installation.start(**{"whistle.attachments.blob_store": "database"})
    testapp = installation.testapp
    gone = put(testapp, headers, begun["id"], 1, file.chunks[1], status=404).json
    assert gone["detail"] == "This upload's chunks are no longer kept: start the upload again."
    again = testapp.post_json("/api/v1/reporter/uploads", file.shape, headers=headers, status=201).json
    for index, chunk in enumerate(file.chunks):
        put(testapp, headers, again["id"], index, chunk, status=204)
    testapp.post_json(f"/api/v1/reporter/uploads/{again['id']}/done", {"meta": file.meta}, headers=headers,
                      status=201)
