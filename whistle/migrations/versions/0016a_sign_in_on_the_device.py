"""sign in on the device: the salt, cost and verifier of keys derived from the password on the
guardian's device, the private key wrapped for the device, and the TOTP secret kept by the server.
Existing accounts keep key_by_password and totp_secret_sealed until their next sign-in.

Revision ID: 0016a
Revises: 0015
Create Date: 2026-12-05 06:00:37.998845
"""
from alembic import op
import sqlalchemy as sa


revision = '0016a'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sign_in_salt', sa.LargeBinary(length=16), nullable=True))
        batch_op.add_column(sa.Column('sign_in_opslimit', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('sign_in_memlimit', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('sign_in_verifier', sa.LargeBinary(length=32), nullable=True))
        batch_op.add_column(sa.Column('key_by_device', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('totp_secret_server', sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_column('totp_secret_server')
        batch_op.drop_column('key_by_device')
        batch_op.drop_column('sign_in_verifier')
        batch_op.drop_column('sign_in_memlimit')
        batch_op.drop_column('sign_in_opslimit')
        batch_op.drop_column('sign_in_salt')
