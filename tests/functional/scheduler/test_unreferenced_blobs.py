"""The tick's "unreferenced blobs" job: a blob no file names (what a crash between a blob's commit
and its row's leaves) is noted, and deleted only once it has stayed unnamed for the grace period;
a blob named meanwhile, and every file's blob, stays; ticks sweep at most hourly; and a store that
this database names almost none of is left alone, with a line saying why."""
from __future__ import annotations

import io
from datetime import timedelta

from sqlalchemy import func, select

from tests.functional.scheduler.conftest import ladder, submit_api
from whistle import crypto
from whistle.attachments.models import UnreferencedBlob
from whistle.attachments.unreferenced import GRACE, IMPLAUSIBLE_AT_LEAST
from whistle.cases.models import Attachment


def _stray(store) -> str:
    name = crypto.random_token(24)
    store.put(name, io.BytesIO(b"ciphertext nobody names"))
    return name


def _with_a_file(world) -> str:
    ladder(world, "staff")
    sent = submit_api(world.testapp, channel="staff")
    token = world.testapp.post_json("/api/v1/reporter/session", {"receipt": sent["receipt"]}).json["token"]
    world.testapp.post("/api/v1/reporter/attachments", b"%PDF- rota", status=201, headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/pdf", "X-Filename": "rota.pdf"})
    with world.session() as dbsession:
        return dbsession.scalars(select(Attachment.blob_name)).one()


def _sweep_lines(world) -> list[str]:
    return [line for line in world.tick() if line.startswith("unreferenced blobs")]


def test_a_blob_nobody_names_is_deleted_after_the_grace_period_and_files_stay(world):
    world = world()
    store = world.testapp.app.registry.blob_store
    filed = _with_a_file(world)
    stray, adopted = _stray(store), _stray(store)

    assert _sweep_lines(world) == ["unreferenced blobs: 2 noted, deleted if still unreferenced in 60 minutes"]
    world.clock.advance(timedelta(minutes=30))
    assert _sweep_lines(world) == [], "at most one sweep an hour"
    # A row names one of them meanwhile (as a slow request's would): its note is forgotten.
    with world.session() as dbsession:
        dbsession.get(Attachment, dbsession.scalars(select(Attachment.id)).one()).blob_name = adopted
    world.clock.advance(GRACE - timedelta(minutes=30))
    assert _sweep_lines(world) == ["unreferenced blobs: 1 deleted", "unreferenced blobs: 1 noted, deleted if still "
                                   "unreferenced in 60 minutes"]
    assert set(store.names()) == {adopted, filed}
    with world.session() as dbsession:
        assert dbsession.scalars(select(UnreferencedBlob.name)).all() == [filed]
        dbsession.get(Attachment, dbsession.scalars(select(Attachment.id)).one()).blob_name = filed
    # Unnamed again: noted afresh, so deleted a whole grace period later, not at once.
    world.clock.advance(GRACE)
    assert _sweep_lines(world) == ["unreferenced blobs: 1 noted, deleted if still unreferenced in 60 minutes"]
    assert set(store.names()) == {adopted, filed}
    world.clock.advance(GRACE)
    assert _sweep_lines(world) == ["unreferenced blobs: 1 deleted"]
    assert set(store.names()) == {filed}
    with world.session() as dbsession:
        assert dbsession.scalar(select(func.count()).select_from(UnreferencedBlob)) == 0


def test_a_store_this_database_names_almost_none_of_is_left_alone(world):
    world = world()
    store = world.testapp.app.registry.blob_store
    strays = {_stray(store) for _ in range(IMPLAUSIBLE_AT_LEAST)}
    lines = _sweep_lines(world)
    assert len(lines) == 1 and "20 of 20 blobs are named by no file in this database: nothing deleted" in lines[0]
    world.clock.advance(2 * GRACE)
    world.tick()
    assert set(store.names()) == strays
    with world.session() as dbsession:
        assert dbsession.scalar(select(func.count()).select_from(UnreferencedBlob)) == 0
