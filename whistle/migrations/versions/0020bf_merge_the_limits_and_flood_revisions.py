"""merge the limits and flood revisions

Revision ID: 0020bf
Revises: 0020b, 0020f
Create Date: 2026-12-05 12:13:15.445599
"""
from alembic import op
import sqlalchemy as sa


revision = '0020bf'
down_revision = ('0020b', '0020f')
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
