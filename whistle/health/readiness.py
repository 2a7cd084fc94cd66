"""Whether this node can serve now (GET /readyz): the database answers and its schema is at the
migrations' head, every key file the settings name can still be read, and the blob store answers.

A load balancer asks every second or so, so what costs a round trip elsewhere (the schema's
revision, the blob store, which may be a bucket across the network) is looked at most every
CACHE_SECONDS; the database is asked every time (one `SELECT 1` on a pooled connection) and the
key files are read every time (a few small local files). The answer says only ready or not; why
not goes to the log at WARNING, once each time the reasons change, with names of settings and
kinds of error, never an error's text (a database error may quote a connection string).
"""
from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

CACHE_SECONDS = 5.0


# The migrations' directory as a path: "whistle:migrations" would have Alembic extract it through
# importlib.resources, which registers a clean-up at exit for every app made.
MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


@functools.cache
def migration_heads() -> frozenset[str]:
    """The head revisions of whistle's migrations, as the code ships them (read once per process, when
    first asked: reading the scripts takes tens of milliseconds)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return frozenset(ScriptDirectory.from_config(config).get_heads())


class Readiness:
    """The checks of one node, with the slow ones' last results kept for CACHE_SECONDS."""

    def __init__(self, engine: Engine, key_files: Iterable[Path], blob_store: Callable[[], object],
                 heads: Callable[[], frozenset[str]] = migration_heads, *,
                 now: Callable[[], float] = time.monotonic) -> None:
        self.engine = engine
        self.key_files = tuple(key_files)
        self.blob_store = blob_store  # the store is made after this (whistle.attachments' includeme)
        self.heads = heads
        self.now = now
        self._lock = threading.Lock()
        self._slow_checked_at: float | None = None
        self._slow_reasons: list[str] = []
        self._said: tuple[str, ...] = ()
        self.blob_store_ok: bool | None = None  # the last check's result, for /metrics

    @classmethod
    def for_registry(cls, registry) -> Readiness:
        settings = registry.whistle_settings
        return cls(registry["db_engine"], settings.key_files, lambda: registry.blob_store)

    def ready(self) -> bool:
        reasons = self._database() + self._key_files()
        if not reasons:  # with no database, its schema cannot be looked at
            reasons += self._slow()
        self._tell(tuple(reasons))
        return not reasons

    def _database(self) -> list[str]:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as error:  # noqa: BLE001 - whatever it is, the node is not ready; its type says enough
            return [f"the database does not answer ({type(error).__name__})"]
        return []

    def _key_files(self) -> list[str]:
        reasons = []
        for path in self.key_files:
            try:
                with path.open("rb") as handle:
                    handle.read(1)
            except OSError as error:
                reasons.append(f"a key file cannot be read: {path} ({type(error).__name__})")
        return reasons

    def _slow(self) -> list[str]:
        with self._lock:
            moment = self.now()
            if self._slow_checked_at is not None and moment - self._slow_checked_at < CACHE_SECONDS:
                return list(self._slow_reasons)
            reasons = self._schema() + self._blobs()
            self._slow_checked_at, self._slow_reasons = moment, reasons
            return list(reasons)

    def _schema(self) -> list[str]:
        try:
            with self.engine.connect() as connection:
                current = frozenset(MigrationContext.configure(connection).get_current_heads())
        except Exception as error:  # noqa: BLE001 - as above
            return [f"the database's schema revision cannot be read ({type(error).__name__})"]
        if current != self.heads():
            return ["the database's schema is not at the migrations' head: run `whistle -c FILE db upgrade`"]
        return []

    def _blobs(self) -> list[str]:
        try:
            self.blob_store().check()  # type: ignore[attr-defined]
        except Exception as error:  # noqa: BLE001 - BlobStoreUnavailable, or anything a store's client raises
            self.blob_store_ok = False
            return [f"the blob store does not answer ({type(error).__name__})"]
        self.blob_store_ok = True
        return []

    def _tell(self, reasons: tuple[str, ...]) -> None:
        """Log the reasons when they change: a load balancer's polling does not fill the log."""
        with self._lock:
            if reasons == self._said:
                return
            self._said = reasons
        if reasons:
            log.warning("not ready: %s", "; ".join(reasons))
        else:
            log.info("ready")
