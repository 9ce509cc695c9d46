"""contact methods, notification attempts, heartbeats

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 06:45:00.000000
"""
from alembic import op
import sqlalchemy as sa

from storage.types import UTCDateTime


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'contact_methods',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.String(length=32), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('address', sa.String(length=500), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('user_id', 'kind', 'address', name='uq_contact_methods_user_kind_address'),
    )
    op.create_index('ix_contact_methods_user_id', 'contact_methods', ['user_id'], unique=False)
    op.create_table(
        'notification_attempts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('page_id', sa.Integer(), nullable=True),
        sa.Column('user_id', sa.String(length=32), nullable=False),
        sa.Column('pass_number', sa.Integer(), nullable=False),
        sa.Column('step_index', sa.Integer(), nullable=False),
        sa.Column('method', sa.String(length=16), nullable=False),
        sa.Column('address', sa.String(length=200), nullable=False),
        sa.Column('result', sa.String(length=16), nullable=False),
        sa.Column('detail', sa.String(length=500), nullable=False),
        sa.Column('external_id', sa.String(length=64), nullable=True),
        sa.Column('at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['page_id'], ['pages.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_notification_attempts_page_id', 'notification_attempts', ['page_id'], unique=False)
    op.create_index('ix_notification_attempts_user_id', 'notification_attempts', ['user_id'], unique=False)
    op.create_index('ix_notification_attempts_external_id', 'notification_attempts', ['external_id'], unique=False)
    op.create_table(
        'heartbeats',
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('last_beat_at', UTCDateTime(), nullable=True),
        sa.Column('missed_at', UTCDateTime(), nullable=True),
        sa.Column('missed_page_id', sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint('name'),
    )


def downgrade() -> None:
    op.drop_table('heartbeats')
    op.drop_index('ix_notification_attempts_external_id', table_name='notification_attempts')
    op.drop_index('ix_notification_attempts_user_id', table_name='notification_attempts')
    op.drop_index('ix_notification_attempts_page_id', table_name='notification_attempts')
    op.drop_table('notification_attempts')
    op.drop_index('ix_contact_methods_user_id', table_name='contact_methods')
    op.drop_table('contact_methods')
