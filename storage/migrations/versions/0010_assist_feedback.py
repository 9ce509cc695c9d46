"""assist: hypothesis feedback (Accept/Dismiss on root-cause hypotheses)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 13:00:00.000000
"""
from alembic import op
import sqlalchemy as sa

from storage.types import UTCDateTime


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'assist_feedback',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('suggestion_id', sa.Integer(), nullable=False),
        sa.Column('incident_id', sa.Integer(), nullable=False),
        sa.Column('rank', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('decision', sa.String(length=16), nullable=False),
        sa.Column('decided_by', sa.String(length=32), nullable=False),
        sa.Column('decided_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['incident_id'], ['incidents.id']),
        sa.ForeignKeyConstraint(['suggestion_id'], ['suggestions.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('suggestion_id', 'rank', name='uq_assist_feedback_hypothesis'),
    )
    op.create_index('ix_assist_feedback_incident_id', 'assist_feedback', ['incident_id'], unique=False)
    op.create_index('ix_assist_feedback_suggestion_id', 'assist_feedback', ['suggestion_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_assist_feedback_suggestion_id', table_name='assist_feedback')
    op.drop_index('ix_assist_feedback_incident_id', table_name='assist_feedback')
    op.drop_table('assist_feedback')
