"""uploads in chunks by a guardian's device: who started one, and whether it is an internal file

Revision ID: 0016c
Revises: 0015
Create Date: 2026-12-06 10:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0016c'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('pending_uploads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('account_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('internal', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_foreign_key(batch_op.f('fk_pending_uploads_account_id_accounts'), 'accounts', ['account_id'],
                                    ['id'], ondelete='CASCADE')


def downgrade() -> None:
    with op.batch_alter_table('pending_uploads', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_pending_uploads_account_id_accounts'), type_='foreignkey')
        batch_op.drop_column('internal')
        batch_op.drop_column('account_id')
