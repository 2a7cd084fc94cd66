"""Blobs no attachment names: found, and deleted once they have stayed so for a grace period.

A file's blob is committed in the blob store before the row that names it is committed in the
database (the store is not the database), and deleted only after the row's deletion commits. A
process killed in between leaves a blob nobody names: ciphertext that no key in the database opens
any more once its row is gone, but kept, and counted in the store's size. Nothing can tell such a
blob from one whose request, on this node or another, is about to commit its row, except time: a
request commits its row seconds after its blob. So the tick's "unreferenced blobs" job, at most
once per SWEEP_EVERY, notes each published blob that no row names (table unreferenced_blobs),
forgets the notes of blobs named since, and deletes a blob still unnamed GRACE after it was first
noted. The staging area (uploads in chunks) is not swept here: its own job ends what nobody
finished.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from whistle import throttles
from whistle.attachments.blobs import BlobStore
from whistle.attachments.models import UnreferencedBlob
from whistle.cases.models import Attachment
from whistle.clock import Clock
from whistle.jobs import TickContext

GRACE = timedelta(hours=1)
SWEEP_EVERY = timedelta(hours=1)
# Crashes leave a few unnamed blobs. Most of the store unnamed says something else: a node pointed
# at the wrong (say, a new and empty) database, or a blob store shared with another installation.
# Then nothing is deleted and the tick says why, so a mistake in the configuration costs no file.
IMPLAUSIBLE_SHARE = 0.5
IMPLAUSIBLE_AT_LEAST = 20
# A throttles row, so that ticks on several nodes sweep once per SWEEP_EVERY between them.
SWEEP_KEY = "unreferenced-blobs-sweep"


class ImplausibleSweep(Exception):
    """Most of the blob store is named by no row of this database: nothing is deleted."""

    def __init__(self, unnamed: int, published: int) -> None:
        super().__init__(f"{unnamed} of {published} blobs are named by no file in this database: nothing deleted. "
                         "Is this node's database (whistle.db.url) the one this blob store belongs to?")


def sweep(dbsession: Session, store: BlobStore, clock: Clock, grace: timedelta = GRACE) -> tuple[int, list[str]]:
    """Note the published blobs no row names, forget the notes of those named (or gone) since, and
    return how many are noted and the names that have been unnamed for `grace`: the caller deletes
    their blobs once this transaction has committed (their notes go with it). ImplausibleSweep,
    with nothing changed, when most of the store is unnamed."""
    now = clock.now()
    referenced = set(dbsession.scalars(select(Attachment.blob_name)))
    published = list(store.names())
    unnamed = {name for name in published if name not in referenced}
    if len(unnamed) >= IMPLAUSIBLE_AT_LEAST and len(unnamed) > IMPLAUSIBLE_SHARE * len(published):
        raise ImplausibleSweep(len(unnamed), len(published))
    noted = {row.name: row for row in dbsession.scalars(select(UnreferencedBlob).with_for_update())}
    named_since = [name for name in noted if name not in unnamed]
    if named_since:
        dbsession.execute(delete(UnreferencedBlob).where(UnreferencedBlob.name.in_(named_since)))
    doomed = sorted(name for name, row in noted.items()
                    if name in unnamed and _aware(row.seen_at) + grace <= now)
    if doomed:
        dbsession.execute(delete(UnreferencedBlob).where(UnreferencedBlob.name.in_(doomed)))
    dbsession.add_all(UnreferencedBlob(name=name, seen_at=now) for name in sorted(unnamed) if name not in noted)
    dbsession.flush()
    return len(unnamed) - len(doomed), doomed


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything stored is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def unreferenced_blobs_job(store: BlobStore) -> Callable[[TickContext], list[str]]:
    """The tick's "unreferenced blobs" job for `store` (at most once per SWEEP_EVERY)."""

    def run(ctx: TickContext) -> list[str]:
        with ctx.session() as dbsession:
            if throttles.spent(dbsession, ctx.clock, SWEEP_KEY, SWEEP_EVERY, 1):
                return []
            # Locks the row until this transaction ends: a tick on another node waits, then finds
            # the window spent and leaves the sweep to this one.
            throttles.count_one(dbsession, ctx.clock, SWEEP_KEY, SWEEP_EVERY)
            if throttles.spent(dbsession, ctx.clock, SWEEP_KEY, SWEEP_EVERY, 2):
                return []
            try:
                noted, doomed = sweep(dbsession, store, ctx.clock)
            except ImplausibleSweep as refused:
                return [f"unreferenced blobs: {refused}"]
        # Only once the notes are gone: a crash in between leaves a blob to note again.
        for name in doomed:
            store.delete(name)
        lines = []
        if doomed:
            lines.append(f"unreferenced blobs: {len(doomed)} deleted")
        if noted:
            lines.append(f"unreferenced blobs: {noted} noted, deleted if still unreferenced in "
                         f"{int(GRACE.total_seconds() // 60)} minutes")
        return lines

    return run
