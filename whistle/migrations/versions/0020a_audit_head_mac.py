"""audit head mac: the chain's head carries a MAC keyed with the audit key file

Existing heads get NULL: the first `whistle audit verify`, `audit checkpoint` or tick after the
upgrade checks the whole chain and signs the head (docs/operations.md, the audit key).

Revision ID: 0020a
Revises: 0019v
Create Date: 2026-12-05 12:03:50.415466
"""
from alembic import op
import sqlalchemy as sa


revision = '0020a'
down_revision = '0019v'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('audit_head', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mac', sa.LargeBinary(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('audit_head', schema=None) as batch_op:
        batch_op.drop_column('mac')
