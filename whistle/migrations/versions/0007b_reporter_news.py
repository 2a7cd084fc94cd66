"""reporter news: the status the reporter last saw, and the day of that visit

Revision ID: 0007b
Revises: 0006
Create Date: 2026-12-01

A day, never a time: nothing about a reporter's records is finer than a day (promise 3).
Cases the reporter visited before this revision keep NULLs: their mailbox cannot tell whether
the status changed since, so it says nothing about the status until their next visit.
"""
import sqlalchemy as sa
from alembic import op


revision = '0007b'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reporter_seen_status', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('reporter_seen_on', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('reporter_seen_on')
        batch_op.drop_column('reporter_seen_status')
