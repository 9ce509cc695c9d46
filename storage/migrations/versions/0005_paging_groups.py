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
    pass


def downgrade() -> None:
    pass
