"""The Alembic migrations build exactly the schema the models describe, on this engine."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from whistle.db import make_engine
from whistle.models import Base


def test_migrations_match_the_models(settings):
    engine = make_engine(settings.db_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_the_audit_chain_head_is_seeded(dbsession):
    from whistle.audit.models import AuditHead

    assert dbsession.get(AuditHead, 1) is not None
