"""signed key directories and the team key MAC

Revision ID: 0012d
Revises: 0011
Create Date: 2026-12-04

Cases opened before this have no team key MAC and no case key bindings: the first holder who
opens one writes them (docs/crypto.md 6.12). No key directory exists until one is signed (`whistle keys sign-directory`): until
then no case can be sealed to a guardian (docs/operations.md).
"""
from alembic import op
import sqlalchemy as sa


revision = '0012d'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('key_directories',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('document', sa.LargeBinary(), nullable=False),
    sa.Column('signature', sa.LargeBinary(length=64), nullable=False),
    sa.Column('published_on', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_key_directories')),
    sa.UniqueConstraint('version', name=op.f('uq_key_directories_version'))
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('team_key_mac', sa.LargeBinary(length=32), nullable=True))
        batch_op.add_column(sa.Column('key_binding', sa.LargeBinary(length=32), nullable=True))
    with op.batch_alter_table('case_grants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('case_key_binding', sa.LargeBinary(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('case_grants', schema=None) as batch_op:
        batch_op.drop_column('case_key_binding')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('key_binding')
        batch_op.drop_column('team_key_mac')

    op.drop_table('key_directories')
