"""records: retention periods, legal hold, withdrawal, shred handles, erased items, contributory
factors, the reporter's answer at closure, the "you said, we did" board flag

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 09:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('channels', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retention_untaken_days', sa.Integer(), server_default='365', nullable=False))
        batch_op.add_column(sa.Column('retention_withdrawn_days', sa.Integer(), server_default='30', nullable=False))
        batch_op.add_column(sa.Column('board', sa.Boolean(), server_default=sa.false(), nullable=False))

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('delete_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('deletion_notice_for', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('hold_since', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('withdrawn_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('shred_handle', sa.LargeBinary(length=16), nullable=True))
        batch_op.add_column(sa.Column('factors', sa.JSON(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('speak_up_again', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('board_consent', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_index(batch_op.f('ix_cases_delete_on'), ['delete_on'], unique=False)

    with op.batch_alter_table('case_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('shred_handle', sa.LargeBinary(length=16), nullable=True))
        batch_op.add_column(sa.Column('erased_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('erased_reason', sa.String(length=32), nullable=True))

    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('shred_handle', sa.LargeBinary(length=16), nullable=True))
        batch_op.add_column(sa.Column('sealed_header', sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_column('sealed_header')
        batch_op.drop_column('shred_handle')

    with op.batch_alter_table('case_items', schema=None) as batch_op:
        batch_op.drop_column('erased_reason')
        batch_op.drop_column('erased_on')
        batch_op.drop_column('shred_handle')

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_delete_on'))
        batch_op.drop_column('board_consent')
        batch_op.drop_column('speak_up_again')
        batch_op.drop_column('factors')
        batch_op.drop_column('shred_handle')
        batch_op.drop_column('withdrawn_on')
        batch_op.drop_column('hold_since')
        batch_op.drop_column('deletion_notice_for')
        batch_op.drop_column('delete_on')

    with op.batch_alter_table('channels', schema=None) as batch_op:
        batch_op.drop_column('board')
        batch_op.drop_column('retention_withdrawn_days')
        batch_op.drop_column('retention_untaken_days')
