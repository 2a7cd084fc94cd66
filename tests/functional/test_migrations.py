"""The Alembic migrations build exactly the schema the models describe, on this engine."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from whistle.cli.database import alembic_config
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


def test_the_history_has_one_head(settings):
    """Parallel work that each added a revision on the same parent needs a merge revision:
    autogenerate and downgrade need one head (docs/development.md, "A new model")."""
    heads = ScriptDirectory.from_config(alembic_config(settings.db_url)).get_heads()
    assert len(heads) == 1, f"several heads, add a merge revision: {sorted(heads)}"
