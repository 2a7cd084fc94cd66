"""notification outbox, and second-tier channel guardians

Revision ID: 0005x
Revises: 0004
Create Date: 2026-11-28

Existing channel memberships become tier 1 (default recipients), as they were.
"""
from alembic import op
import sqlalchemy as sa


revision = '0005x'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'notifications',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_notifications_account_id_accounts'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
    )
    op.create_index(op.f('ix_notifications_account_id'), 'notifications', ['account_id'], unique=False)
    op.create_index('ix_notifications_state_next_attempt_at', 'notifications', ['state', 'next_attempt_at'],
                    unique=False)
    with op.batch_alter_table('channel_guardians') as batch_op:
        batch_op.add_column(sa.Column('tier', sa.Integer(), nullable=False, server_default='1'))


def downgrade() -> None:
    with op.batch_alter_table('channel_guardians') as batch_op:
        batch_op.drop_column('tier')
    op.drop_index('ix_notifications_state_next_attempt_at', table_name='notifications')
    op.drop_index(op.f('ix_notifications_account_id'), table_name='notifications')
    op.drop_table('notifications')
