"""merge the escalations and retaliation watch branches

Revision ID: 0006
Revises: 0005x, 0005y
Create Date: 2026-11-28
"""


revision = '0006'
down_revision = ('0005x', '0005y')
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
