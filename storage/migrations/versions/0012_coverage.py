"""coverage checks: what was last reported per rotation

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 13:00:00.000000
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

from storage.types import UTCDateTime  # noqa: F401


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'coverage_reports',
        sa.Column('scope', sa.String(length=120), nullable=False),
        sa.Column('fingerprint', sa.String(length=64), nullable=False),
        sa.Column('problem_count', sa.Integer(), nullable=False),
        sa.Column('posted_at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('scope'),
    )


def downgrade() -> None:
    op.drop_table('coverage_reports')
