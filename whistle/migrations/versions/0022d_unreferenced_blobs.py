"""unreferenced blobs: published blobs no attachment names, noted by the tick and deleted after a grace period

Revision ID: 0022d
Revises: 0021
Create Date: 2026-12-05 15:39:16.940027
"""
from alembic import op
import sqlalchemy as sa


revision = '0022d'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('unreferenced_blobs',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_unreferenced_blobs'))
    )


def downgrade() -> None:
    op.drop_table('unreferenced_blobs')
