"""rotations: cover offers (`/oncall cover`)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 13:40:00.000000
"""
from alembic import op
import sqlalchemy as sa

from storage.types import UTCDateTime


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'rotation_cover_offers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('rotation', sa.String(length=120), nullable=False),
        sa.Column('requester_id', sa.String(length=32), nullable=False),
        sa.Column('reason', sa.String(length=300), nullable=False),
        sa.Column('range_start', UTCDateTime(), nullable=False),
        sa.Column('range_end', UTCDateTime(), nullable=False),
        sa.Column('pieces', sa.JSON(), nullable=False),
        sa.Column('candidates', sa.JSON(), nullable=False),
        sa.Column('posts', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('taken_by', sa.String(length=32), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('decided_at', UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_rotation_cover_offers_rotation', 'rotation_cover_offers', ['rotation'], unique=False)
    op.create_index('ix_rotation_cover_offers_requester_id', 'rotation_cover_offers', ['requester_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_rotation_cover_offers_requester_id', table_name='rotation_cover_offers')
    op.drop_index('ix_rotation_cover_offers_rotation', table_name='rotation_cover_offers')
    op.drop_table('rotation_cover_offers')
