"""retaliation watch: integrations, protections, alerts, check-ins, the reporter's consent

Revision ID: 0005y
Revises: 0004
Create Date: 2026-11-28

No personnel number, name or event is stored: protections hold a keyed blind index only.
"""
import sqlalchemy as sa
from alembic import op


revision = '0005y'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'integrations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('token_id', sa.LargeBinary(length=32), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('disabled', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_integrations')),
        sa.UniqueConstraint('name', name=op.f('uq_integrations_name')),
        sa.UniqueConstraint('token_id', name=op.f('uq_integrations_token_id')),
    )
    op.create_table(
        'protections',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('person_index', sa.LargeBinary(length=32), nullable=False),
        sa.Column('starts_on', sa.Date(), nullable=False),
        sa.Column('window_months', sa.Integer(), nullable=False),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.Column('created_on', sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_protections_case_id_cases'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['created_by'], ['accounts.id'], name=op.f('fk_protections_created_by_accounts'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_protections')),
    )
    op.create_index('ix_protections_person_index', 'protections', ['person_index'], unique=False)
    op.create_index(op.f('ix_protections_case_id'), 'protections', ['case_id'], unique=False)
    op.create_table(
        'protection_alerts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('event_type', sa.String(length=64), nullable=False),
        sa.Column('effective', sa.Date(), nullable=False),
        sa.Column('rule', sa.String(length=64), nullable=False),
        sa.Column('created_on', sa.Date(), nullable=False),
        sa.Column('acknowledged_on', sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_protection_alerts_case_id_cases'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_protection_alerts')),
    )
    op.create_index(op.f('ix_protection_alerts_case_id'), 'protection_alerts', ['case_id'], unique=False)
    op.create_table(
        'checkins',
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('due_month', sa.Integer(), nullable=False),
        sa.Column('answered_on', sa.Date(), nullable=False),
        sa.Column('detriment', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_checkins_case_id_cases'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('case_id', 'due_month', name=op.f('pk_checkins')),
    )
    with op.batch_alter_table('cases') as batch_op:
        batch_op.add_column(sa.Column('protection_consent', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('cases') as batch_op:
        batch_op.drop_column('protection_consent')
    op.drop_table('checkins')
    op.drop_index(op.f('ix_protection_alerts_case_id'), table_name='protection_alerts')
    op.drop_table('protection_alerts')
    op.drop_index(op.f('ix_protections_case_id'), table_name='protections')
    op.drop_index('ix_protections_person_index', table_name='protections')
    op.drop_table('protections')
    op.drop_table('integrations')
