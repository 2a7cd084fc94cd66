"""Uploads in chunks nobody finished are deleted by the tick, with their staged chunks; finished and
cancelled ones leave nothing staged behind once committed."""
from __future__ import annotations

import base64
import os
from datetime import date
from pathlib import Path

from sqlalchemy import func, select

from tests.functional.scheduler.conftest import ladder, submit_api
from whistle import crypto
from whistle.attachments.blobs import STAGING
from whistle.attachments.models import PendingUpload, PendingUploadChunk
from whistle.cases.models import Attachment, Case


def _begin(world, headers, case: Case, size: int) -> tuple[str, list[bytes]]:
    encryptor = crypto.StreamEncryptor(case.public_key, case=case.ref, kind="attachment", author="reporter")
    chunks = [encryptor.header, encryptor.push(os.urandom(size)) + encryptor.finish()]
    upload = world.testapp.post_json("/api/v1/reporter/uploads", {"chunks": 2, "bytes": sum(map(len, chunks))},
                                     headers=headers, status=201).json["id"]
    world.testapp.put(f"/api/v1/reporter/uploads/{upload}/0", chunks[0],
                      headers=dict(headers, **{"Content-Type": "application/octet-stream"}), status=204)
    return upload, chunks


def _staged(world) -> list[str]:
    directory = Path(world.ctx.settings.storage_dir) / STAGING
    return sorted(path.name for path in directory.iterdir()) if directory.exists() else []


def test_the_tick_deletes_an_upload_left_unfinished_once_the_next_day_is_over(world):
    world = world(start=date(2026, 3, 2))
    ladder(world, "staff")
    sent = submit_api(world.testapp, channel="staff")
    token = world.testapp.post_json("/api/v1/reporter/session", {"receipt": sent["receipt"]}).json["token"]
    headers = {"Authorization": f"Bearer {token}"}
    with world.session() as dbsession:
        case = dbsession.scalars(select(Case).where(Case.ref == sent["case"])).one()
        dbsession.expunge(case)

    left, _ = _begin(world, headers, case, 10)
    cancelled, _ = _begin(world, headers, case, 20)
    finished, chunks = _begin(world, headers, case, 30)
    assert len(_staged(world)) == 3
    world.testapp.delete(f"/api/v1/reporter/uploads/{cancelled}", headers=headers, status=204)
    world.testapp.put(f"/api/v1/reporter/uploads/{finished}/1", chunks[1],
                      headers=dict(headers, **{"Content-Type": "application/octet-stream"}), status=204)
    meta = crypto.encrypt_item(case.public_key, b'{"name": "a", "size": 30, "type": "text/plain"}', case=case.ref,
                               kind="attachment-meta", author="reporter")
    world.testapp.post_json(f"/api/v1/reporter/uploads/{finished}/done", {"meta": base64.b64encode(meta).decode()},
                            headers=headers, status=201)
    with world.session() as dbsession:
        staged_left = dbsession.scalars(select(PendingUpload.staged_name)).one()
        blob = dbsession.scalars(select(Attachment.blob_name)).one()
    assert _staged(world) == [staged_left], "cancelled and finished: nothing staged is left once committed"
    assert (Path(world.ctx.settings.storage_dir) / blob).exists()

    world.go_to(date(2026, 3, 3), hour=23)
    assert not any(line.startswith("unfinished uploads") for line in world.tick()), "kept through the next day"
    with world.session() as dbsession:
        assert dbsession.scalars(select(PendingUpload.public_id)).all() == [left]

    world.go_to(date(2026, 3, 4), hour=0)
    assert "unfinished uploads: 1 deleted" in world.tick()
    assert _staged(world) == []
    with world.session() as dbsession:
        assert dbsession.scalar(select(func.count()).select_from(PendingUpload)) == 0
        assert dbsession.scalar(select(func.count()).select_from(PendingUploadChunk)) == 0
    assert (Path(world.ctx.settings.storage_dir) / blob).exists(), "the finished file stays"
    assert not any(line.startswith("unfinished uploads") for line in world.tick()), "nothing more to say"
