"""merge sign-in on the guardian's device and uploads from the guardian's device

Revision ID: 0017
Revises: 0016a, 0016c
Create Date: 2026-12-05 06:40:00.000000
"""


revision = '0017'
down_revision = ('0016a', '0016c')
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
