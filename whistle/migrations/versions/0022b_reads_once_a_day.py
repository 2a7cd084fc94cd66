"""reads: a guardian's reading of a case audited once a day (case_reads.viewed_on), and an index on
a case's audit events by kind, so the timeline lists the latest reads without visiting every one

Revision ID: 0022b
Revises: 0021
Create Date: 2026-12-05 15:36:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0022b'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index('ix_audit_events_case_action_seq', ['case_id', 'action', 'seq'], unique=False)

    with op.batch_alter_table('case_reads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('viewed_on', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('case_reads', schema=None) as batch_op:
        batch_op.drop_column('viewed_on')

    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_case_action_seq')
