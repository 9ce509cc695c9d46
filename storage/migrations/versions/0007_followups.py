"""follow-up tracker links, update nudges

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 06:45:00.000000
"""
from alembic import op
import sqlalchemy as sa

from storage.types import UTCDateTime


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "follow_up_issues",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("follow_up_id", sa.Integer(), sa.ForeignKey("follow_ups.id"), nullable=False, unique=True),
        sa.Column("tracker", sa.String(length=16), nullable=False),
        sa.Column("project", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("synced_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_follow_up_issues_state", "follow_up_issues", ["state"])
    op.create_table(
        "update_nudges",
        sa.Column("incident_id", sa.Integer(), sa.ForeignKey("incidents.id"), primary_key=True),
        sa.Column("nudged_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "follow_up_reminders",
        sa.Column("follow_up_id", sa.Integer(), sa.ForeignKey("follow_ups.id"), primary_key=True),
        sa.Column("reminded_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("follow_up_reminders")
    op.drop_table("update_nudges")
    op.drop_index("ix_follow_up_issues_state", table_name="follow_up_issues")
    op.drop_table("follow_up_issues")
