"""follow-ups and catalog: upstream webhook sync and bookmarks

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 13:00:00.000000
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

from storage.types import UTCDateTime  # noqa: F401


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "follow_up_webhook_deliveries",
        sa.Column("delivery_id", sa.String(length=200), primary_key=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "incident_bookmarks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("incident_id", sa.Integer(), sa.ForeignKey("incidents.id"), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("link", sa.String(length=500), nullable=False),
        sa.Column("bookmark_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_incident_bookmarks_incident_id", "incident_bookmarks", ["incident_id"])


def downgrade() -> None:
    op.drop_index("ix_incident_bookmarks_incident_id", table_name="incident_bookmarks")
    op.drop_table("incident_bookmarks")
    op.drop_table("follow_up_webhook_deliveries")
