"""Staffing changes (who was given access to cases, shown to the channels' guardians) and proposals (the two-admin rule).

Revision ID: 0020c
Revises: 0019v
Create Date: 2026-12-05 12:03:30.928895
"""
from alembic import op
import sqlalchemy as sa


revision = '0020c'
down_revision = '0019v'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('staffing_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('made_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('channel_id', sa.Integer(), nullable=True),
    sa.Column('tier', sa.Integer(), nullable=True),
    sa.Column('made_by', sa.Integer(), nullable=True),
    sa.Column('approved_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_staffing_changes_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['approved_by'], ['accounts.id'], name=op.f('fk_staffing_changes_approved_by_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['channel_id'], ['channels.id'], name=op.f('fk_staffing_changes_channel_id_channels'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['made_by'], ['accounts.id'], name=op.f('fk_staffing_changes_made_by_accounts'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staffing_changes'))
    )
    with op.batch_alter_table('staffing_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staffing_changes_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_staffing_changes_channel_id'), ['channel_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_staffing_changes_made_at'), ['made_at'], unique=False)

    op.create_table('staffing_proposals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('proposed_by', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('change', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_staffing_proposals_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decided_by'], ['accounts.id'], name=op.f('fk_staffing_proposals_decided_by_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['proposed_by'], ['accounts.id'], name=op.f('fk_staffing_proposals_proposed_by_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staffing_proposals'))
    )
    with op.batch_alter_table('staffing_proposals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staffing_proposals_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_staffing_proposals_state'), ['state'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('staffing_proposals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staffing_proposals_state'))
        batch_op.drop_index(batch_op.f('ix_staffing_proposals_account_id'))

    op.drop_table('staffing_proposals')
    with op.batch_alter_table('staffing_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staffing_changes_made_at'))
        batch_op.drop_index(batch_op.f('ix_staffing_changes_channel_id'))
        batch_op.drop_index(batch_op.f('ix_staffing_changes_account_id'))

    op.drop_table('staffing_changes')
