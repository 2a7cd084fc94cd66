"""workspace indexes: the inbox at 100,000 cases

Revision ID: 0003b
Revises: 0002
Create Date: 2026-11-28

Indexes only (no data change). See whistle/cases/inbox.py for the query plan they serve.
"""
from alembic import op


revision = '0003b'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The inbox starts from the caller's grants, then fetches each case by primary key.
    op.create_index('ix_case_grants_account_case', 'case_grants', ['account_id', 'case_id'], unique=False)
    # Admin overview counts (by status, overdue acknowledgements) and status filters.
    op.create_index('ix_cases_status_ack_due', 'cases', ['status', 'ack_due'], unique=False)
    # The label filter: which cases carry a label.
    op.create_index('ix_case_labels_label_case', 'case_labels', ['label', 'case_id'], unique=False)
    # Unread counts: a case's items newer than the last one read.
    op.create_index('ix_case_items_case_id_id', 'case_items', ['case_id', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_case_items_case_id_id', table_name='case_items')
    op.drop_index('ix_case_labels_label_case', table_name='case_labels')
    op.drop_index('ix_cases_status_ack_due', table_name='cases')
    op.drop_index('ix_case_grants_account_case', table_name='case_grants')
