"""The database: declarative base, engine, and one transaction-bound session per request."""
from __future__ import annotations

import zope.sqlalchemy
from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from zope.sqlalchemy.datamanager import STATUS_ACTIVE, ZopeStatus, join_transaction

from whistle.shredding import INFO_KEY, ShredStore, open_shred_store

# Stable constraint names, so Alembic migrations read the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def make_engine(url: str, **kwargs) -> Engine:
    """An engine for `url`; SQLite gets WAL, foreign keys and a busy timeout."""
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    # Deleted rows are overwritten, so removed ciphertext does not linger in free pages.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def checkpoint(engine: Engine) -> None:
    """SQLite: copy the write-ahead log into the database file and empty it, so rows just deleted or
    overwritten (secure_delete zeroes them in their pages) leave no older copy in the log. Elsewhere
    nothing (docs/operations.md: what PostgreSQL's VACUUM does and does not remove)."""
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


# Where a session carries the audit key (whistle.audit.services.audit_key_of): every append MACs
# the chain's head with it.
AUDIT_KEY_INFO = "audit_key"


# Where a session made by get_tm_session names the zope transaction manager it is joined to.
TRANSACTION_MANAGER_INFO = "transaction_manager"


def _manager(session: Session):
    return session.info.get(TRANSACTION_MANAGER_INFO)


class _JoinZopeTransaction:
    """zope.sqlalchemy's session listeners (zope.sqlalchemy.ZopeTransactionEvents, with its
    defaults: joined active, the session closed at the end), registered once on each session
    factory instead of on every request's session, which cost a quarter of a bare request. Each
    session finds its transaction manager in its info; a session without one (the command line's,
    the tick's own) is left alone, as it was when nothing registered it."""

    def after_begin(self, session, transaction, connection) -> None:
        if (manager := _manager(session)) is not None:
            join_transaction(session, STATUS_ACTIVE, manager, False)

    def after_attach(self, session, instance) -> None:
        if (manager := _manager(session)) is not None:
            join_transaction(session, STATUS_ACTIVE, manager, False)

    def after_flush(self, session, flush_context) -> None:
        if (manager := _manager(session)) is not None:
            zope.sqlalchemy.mark_changed(session, manager, False)

    def after_bulk_update(self, update_context) -> None:
        self.after_flush(update_context.session, None)

    def after_bulk_delete(self, delete_context) -> None:
        self.after_flush(delete_context.session, None)

    def before_commit(self, session) -> None:
        if (manager := _manager(session)) is not None:
            assert session.in_nested_transaction() or manager.get().status == ZopeStatus.COMMITTING, (
                "Transaction must be committed using the transaction manager")

    def do_orm_execute(self, execute_state) -> None:
        if execute_state.is_orm_statement and (execute_state.is_update or execute_state.is_insert
                                               or execute_state.is_delete):
            self.after_flush(execute_state.session, None)


def make_session_factory(engine: Engine, shred_store: ShredStore | None = None, *,
                         audit_key: bytes | None = None) -> sessionmaker:
    """Sessions on `engine`, each carrying `shred_store` (whistle.shredding.shred_store_of) and
    `audit_key` (whistle.audit.services.audit_key_of) in its info."""
    info: dict = {}
    if shred_store is not None:
        info[INFO_KEY] = shred_store
    if audit_key is not None:
        info[AUDIT_KEY_INFO] = audit_key
    factory = sessionmaker(bind=engine, info=info or None)
    listeners = _JoinZopeTransaction()
    for name in ("after_begin", "after_attach", "after_flush", "after_bulk_update", "after_bulk_delete",
                 "before_commit", "do_orm_execute"):
        event.listen(factory, name, getattr(listeners, name))
    return factory


def get_tm_session(session_factory: sessionmaker, transaction_manager, request=None) -> Session:
    """A session joined to the zope transaction `transaction_manager` (commit/abort happens there)."""
    return session_factory(info={"request": request, TRANSACTION_MANAGER_INFO: transaction_manager})


def commit_veto(request, response) -> bool:
    """Whether pyramid_tm must abort the request's transaction rather than commit it: when an
    exception ended the request (pyramid_tm's own rule), unless the exception says that it came
    before the request changed anything and that what its error view recorded (an audit event)
    is to be kept: `keep_transaction` true (cases.services.KeyMismatch)."""
    exc_info = getattr(request, "exc_info", None)
    if exc_info is None:
        return False
    return not getattr(exc_info[1], "keep_transaction", False)


def includeme(config) -> None:
    """Set up `request.dbsession`, one session per request, committed by pyramid_tm."""
    settings = config.registry.whistle_settings
    config.registry.settings.setdefault("tm.commit_veto", "whistle.db.commit_veto")
    config.include("pyramid_tm")

    engine = make_engine(settings.db_url)
    shred_store = open_shred_store(settings.shred_store_url)
    session_factory = make_session_factory(engine, shred_store, audit_key=settings.audit_key)
    config.registry["dbsession_factory"] = session_factory
    config.registry["shred_store"] = shred_store
    config.registry["db_engine"] = engine

    def dbsession(request) -> Session:
        # Tests hand in a session bound to a doomed transaction through the environ.
        session = request.environ.get("app.dbsession")
        if session is None:
            session = get_tm_session(session_factory, request.tm, request=request)
        return session

    config.add_request_method(dbsession, reify=True)

