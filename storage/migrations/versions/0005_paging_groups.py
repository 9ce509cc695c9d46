"""paging per alert group; recurred incidents

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 06:45:00.000000
"""
from alembic import op
import sqlalchemy as sa

from storage.types import UTCDateTime


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'incident_recurrences',
        sa.Column('incident_id', sa.Integer(), nullable=False),
        sa.Column('previous_incident_id', sa.Integer(), nullable=False),
        sa.Column('group_identity', sa.String(length=500), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['incident_id'], ['incidents.id']),
        sa.ForeignKeyConstraint(['previous_incident_id'], ['incidents.id']),
        sa.PrimaryKeyConstraint('incident_id'),
    )
    op.create_index(op.f('ix_incident_recurrences_previous_incident_id'), 'incident_recurrences',
                    ['previous_incident_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_incident_recurrences_previous_incident_id'), table_name='incident_recurrences')
    op.drop_table('incident_recurrences')
