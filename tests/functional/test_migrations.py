"""The Alembic migrations build exactly the schema the models describe, on this engine."""
import subprocess
import sys

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

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


def test_whistle_models_alone_maps_every_table(settings):
    """Alembic sees only what whistle.models imports (migrations/env.py): a model it leaves out
    looks, to autogenerate, like a table to drop. In a fresh interpreter, so that nothing else
    this test run imported can fill the gap."""
    script = "from whistle.models import Base; print(' '.join(sorted(Base.metadata.tables)))"
    mapped = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.split()
    engine = make_engine(settings.db_url)
    try:
        migrated = set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()
    assert mapped == sorted(migrated)


def test_the_audit_chain_head_is_seeded(dbsession):
    from whistle.audit.models import AuditHead

    assert dbsession.get(AuditHead, 1) is not None


def test_the_history_has_one_head(settings):
    """Parallel work that each added a revision on the same parent needs a merge revision:
    autogenerate and downgrade need one head (docs/development.md, "A new model")."""
    heads = ScriptDirectory.from_config(alembic_config(settings.db_url)).get_heads()
    assert len(heads) == 1, f"several heads, add a merge revision: {sorted(heads)}"
