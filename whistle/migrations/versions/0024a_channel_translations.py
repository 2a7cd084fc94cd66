"""channels: their texts in other languages (title, introduction, questionnaire, wording, help panel)

Revision ID: 0024a
Revises: 0023
Create Date: 2026-12-05 18:45:00.000000

Existing channels have no variants, so every page shows their English texts until
`whistle channels load` gives them some.
"""
from alembic import op
import sqlalchemy as sa


revision = '0024a'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('channels', schema=None) as batch_op:
        batch_op.add_column(sa.Column('translations', sa.JSON(), server_default='{}', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('channels', schema=None) as batch_op:
        batch_op.drop_column('translations')
