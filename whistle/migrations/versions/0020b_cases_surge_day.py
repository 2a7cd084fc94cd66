"""cases: surge_day, the day a case came in while reports arrived faster than the surge mark

Revision ID: 0020b
Revises: 0019v
Create Date: 2026-12-05 12:03:36.851881
"""
from alembic import op
import sqlalchemy as sa


revision = '0020b'
down_revision = '0019v'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('surge_day', sa.Date(), nullable=True))
        batch_op.create_index(batch_op.f('ix_cases_surge_day'), ['surge_day'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_surge_day'))
        batch_op.drop_column('surge_day')
