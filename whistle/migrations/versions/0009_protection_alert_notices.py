"""protection alerts: the day the case's guardians were sent a notice about each

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28
"""
import sqlalchemy as sa
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('protection_alerts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notified_on', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('protection_alerts', schema=None) as batch_op:
        batch_op.drop_column('notified_on')
