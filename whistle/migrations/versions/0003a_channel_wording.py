"""channel wording (plain-language labels per channel)

Revision ID: 0003a
Revises: 0002
Create Date: 2026-11-28

Existing channels get an empty wording (the default texts).
"""
from alembic import op
import sqlalchemy as sa


revision = '0003a'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('channels') as batch_op:
        batch_op.add_column(sa.Column('wording', sa.JSON(), nullable=False, server_default='{}'))


def downgrade() -> None:
    with op.batch_alter_table('channels') as batch_op:
        batch_op.drop_column('wording')
