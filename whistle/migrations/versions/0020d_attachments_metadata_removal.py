"""attachments: whether a reporter's file had its hidden information removed (an outcome, never the values)

Revision ID: 0020d
Revises: 0019v
Create Date: 2026-12-05 12:04:03.394927
"""
from alembic import op
import sqlalchemy as sa


revision = '0020d'
down_revision = '0019v'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('metadata_removal', sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_column('metadata_removal')
