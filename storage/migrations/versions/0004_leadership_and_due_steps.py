"""scheduler leadership epoch; due escalation steps kept on the page row

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 14:30:00.000000
"""
from alembic import op
import sqlalchemy as sa

from storage.types import UTCDateTime


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    leadership = op.create_table(
        'scheduler_leadership',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('epoch', sa.Integer(), nullable=False),
        sa.Column('holder', sa.String(length=200), nullable=True),
        sa.Column('acquired_at', UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.bulk_insert(leadership, [{'id': 1, 'epoch': 0, 'holder': None, 'acquired_at': None}])
    # Pages already open keep their stored APScheduler jobs: they start "notified" with no sweep deadline.
    with op.batch_alter_table('pages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_step_at', UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('step_notified', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.create_index('ix_pages_next_step_at', ['next_step_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('pages', schema=None) as batch_op:
        batch_op.drop_index('ix_pages_next_step_at')
        batch_op.drop_column('step_notified')
        batch_op.drop_column('next_step_at')
    op.drop_table('scheduler_leadership')
