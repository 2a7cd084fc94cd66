"""the date rules: cases found by their indexed dates, a schedule mark for the day every case is
done through, and a retry flag for a case whose rules failed (whistle.escalations.schedule)

Revision ID: 0022c
Revises: 0021
Create Date: 2026-12-05 15:38:26.252344
"""
from alembic import op
import sqlalchemy as sa


revision = '0022c'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('schedule_marks',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('checked_through', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_schedule_marks'))
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('schedule_retry', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_index('ix_cases_ack_due', ['ack_due'], unique=False)
        batch_op.create_index('ix_cases_acknowledged_on', ['acknowledged_on'], unique=False)
        batch_op.create_index('ix_cases_feedback_due', ['feedback_due'], unique=False)
        batch_op.create_index('ix_cases_opened_on', ['opened_on'], unique=False)
        batch_op.create_index('ix_cases_schedule_retry', ['schedule_retry'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_schedule_retry')
        batch_op.drop_index('ix_cases_opened_on')
        batch_op.drop_index('ix_cases_feedback_due')
        batch_op.drop_index('ix_cases_acknowledged_on')
        batch_op.drop_index('ix_cases_ack_due')
        batch_op.drop_column('schedule_retry')

    op.drop_table('schedule_marks')
