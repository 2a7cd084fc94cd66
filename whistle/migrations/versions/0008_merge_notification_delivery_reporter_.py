"""merge notification delivery, reporter news and scheduler

Revision ID: 0008
Revises: 0007a, 0007b, 0007c
Create Date: 2026-11-28 21:28:15.306050
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = ('0007a', '0007b', '0007c')
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
