"""accounts: sign-in pauses per client, not per account: locked_until goes (failed_logins stays, the
count of failed sign-ins its owner is told of)

Revision ID: 0020e
Revises: 0019v
Create Date: 2026-12-05 12:30:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0020e'
down_revision = '0019v'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_column('locked_until')


def downgrade() -> None:
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True))
