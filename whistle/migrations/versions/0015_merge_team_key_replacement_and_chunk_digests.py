"""merge the team key replacement of client-built cases and the digests of upload chunks

Revision ID: 0015
Revises: 0014t, 0014f
Create Date: 2026-12-05 03:35:00.000000
"""


revision = '0015'
down_revision = ('0014t', '0014f')
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
