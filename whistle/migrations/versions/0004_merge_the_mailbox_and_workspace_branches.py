"""merge the mailbox and workspace branches

Revision ID: 0004
Revises: 0003a, 0003b
Create Date: 2026-11-28
"""


revision = '0004'
down_revision = ('0003a', '0003b')
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
