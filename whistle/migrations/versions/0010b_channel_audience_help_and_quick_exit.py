"""channels: whether reporters are staff, a "get help now" panel, a quick-exit link

Revision ID: 0010b
Revises: 0009
Create Date: 2026-12-04

Existing channels keep today's behaviour: reporters are staff, no help panel, no quick exit,
until `whistle channels load` sets them.
"""
from alembic import op
import sqlalchemy as sa


revision = '0010b'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('channels', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reporters_are_staff', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('help_now', sa.JSON(), server_default='{}', nullable=False))
        batch_op.add_column(sa.Column('quick_exit_url', sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('channels', schema=None) as batch_op:
        batch_op.drop_column('quick_exit_url')
        batch_op.drop_column('help_now')
        batch_op.drop_column('reporters_are_staff')
