"""scheduler: when each job last succeeded

Revision ID: 0022e
Revises: 0021
Create Date: 2026-12-05 15:32:44.741133
"""
from alembic import op
import sqlalchemy as sa


revision = '0022e'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('scheduler_job_runs',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('succeeded_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_scheduler_job_runs'))
    )


def downgrade() -> None:
    op.drop_table('scheduler_job_runs')
