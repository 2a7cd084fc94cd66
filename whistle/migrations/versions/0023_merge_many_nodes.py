"""merge the database blob store, reads audited once a day, the date rules' indexes, unreferenced
blobs and the scheduler's job runs

Revision ID: 0023
Revises: 0022a, 0022b, 0022c, 0022d, 0022e
Create Date: 2026-12-05 17:20:00.000000
"""


revision = '0023'
down_revision = ('0022a', '0022b', '0022c', '0022d', '0022e')
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
