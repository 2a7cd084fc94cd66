"""notification delivery: guardians' notification addresses, the last error type, batching

Revision ID: 0007a
Revises: 0006
Create Date: 2026-12-01

An address is staff contact data (plaintext by design); an error is stored as its type name
only, never its message, which could echo the address.
"""
import sqlalchemy as sa
from alembic import op


revision = '0007a'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notify_channel', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('notify_address', sa.String(length=512), nullable=True))
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_error', sa.String(length=64), nullable=True))
    op.create_table(
        'notification_recipients',
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('last_sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'],
                                name=op.f('fk_notification_recipients_account_id_accounts'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('account_id', name=op.f('pk_notification_recipients')),
    )


def downgrade() -> None:
    op.drop_table('notification_recipients')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_column('last_error')
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_column('notify_address')
        batch_op.drop_column('notify_channel')
