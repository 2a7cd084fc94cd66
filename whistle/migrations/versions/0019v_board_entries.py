"""board: the "you said, we did" entries an improvement lead publishes (their own public words)

Revision ID: 0019v
Revises: 0018
Create Date: 2026-12-05 08:51:22.231117
"""
from alembic import op
import sqlalchemy as sa


revision = '0019v'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('board_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('you_said', sa.Text(), nullable=False),
    sa.Column('we_did', sa.Text(), nullable=False),
    sa.Column('published_on', sa.Date(), nullable=False),
    sa.Column('edited_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_board_entries_account_id_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_board_entries_case_id_cases'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['channel_id'], ['channels.id'], name=op.f('fk_board_entries_channel_id_channels')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_board_entries'))
    )
    with op.batch_alter_table('board_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_board_entries_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_board_entries_channel_id'), ['channel_id'], unique=False)
        batch_op.create_index('ix_board_entries_published_on', ['published_on'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('board_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_board_entries_published_on')
        batch_op.drop_index(batch_op.f('ix_board_entries_channel_id'))
        batch_op.drop_index(batch_op.f('ix_board_entries_case_id'))

    op.drop_table('board_entries')
