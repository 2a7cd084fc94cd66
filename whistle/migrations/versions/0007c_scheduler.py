"""scheduler: the SQLite tick lease, and the day each case's date rules were last run

Revision ID: 0007c
Revises: 0006
Create Date: 2026-11-28
"""
import sqlalchemy as sa
from alembic import op


revision = '0007c'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'scheduler_leases',
        sa.Column('name', sa.String(length=32), nullable=False),
        sa.Column('holder', sa.String(length=128), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_scheduler_leases')),
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('schedule_checked_on', sa.Date(), nullable=True))
        batch_op.create_index(batch_op.f('ix_cases_schedule_checked_on'), ['schedule_checked_on'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_schedule_checked_on'))
        batch_op.drop_column('schedule_checked_on')
    op.drop_table('scheduler_leases')
