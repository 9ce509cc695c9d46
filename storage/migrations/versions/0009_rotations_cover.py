"""rotations: iCal event revisions (SEQUENCE / LAST-MODIFIED)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 06:45:00.000000
"""
from alembic import op
import sqlalchemy as sa

from storage.types import UTCDateTime


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'ical_event_revisions',
        sa.Column('uid', sa.String(length=200), nullable=False),
        sa.Column('rotation', sa.String(length=120), nullable=False),
        sa.Column('fingerprint', sa.String(length=200), nullable=False),
        sa.Column('sequence', sa.Integer(), nullable=False),
        sa.Column('modified_at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('uid'),
    )
    op.create_index('ix_ical_event_revisions_rotation', 'ical_event_revisions', ['rotation'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_ical_event_revisions_rotation', table_name='ical_event_revisions')
    op.drop_table('ical_event_revisions')
