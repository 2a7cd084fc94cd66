"""merge the audit head's MAC, the limits and proof of work, staffing changes, metadata removal and
sign-in pauses per client

Revision ID: 0021
Revises: 0020a, 0020bf, 0020c, 0020d, 0020e
Create Date: 2026-12-05 13:40:00.000000
"""


revision = '0021'
down_revision = ('0020a', '0020bf', '0020c', '0020d', '0020e')
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
