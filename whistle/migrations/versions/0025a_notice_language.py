"""accounts: the language a guardian's notices are written in

Revision ID: 0025a
Revises: 0024a
Create Date: 2026-12-06 00:45:00.000000

Existing accounts have none, so their notices stay as the notification channel writes them
(whistle_smtp.languages) until the guardian chooses one on their notifications page.
"""
from alembic import op
import sqlalchemy as sa


revision = '0025a'
down_revision = '0024a'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notify_language', sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_column('notify_language')
