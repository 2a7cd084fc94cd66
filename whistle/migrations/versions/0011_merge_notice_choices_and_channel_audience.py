"""merge guardians' notice choices and channel audience

Revision ID: 0011
Revises: 0010a, 0010b
Create Date: 2026-12-04 22:27:17.675874
"""


revision = '0011'
down_revision = ('0010a', '0010b')
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
