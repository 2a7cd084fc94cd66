"""the notice events a guardian turned off

Revision ID: 0010a
Revises: 0009
Create Date: 2026-12-04

Existing accounts turn nothing off: they are told about every event, as new accounts are.
"""
from alembic import op
import sqlalchemy as sa


revision = '0010a'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notify_events_off', sa.JSON(), server_default='[]', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_column('notify_events_off')
