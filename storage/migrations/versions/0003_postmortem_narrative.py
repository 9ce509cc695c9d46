"""postmortem narrative drafted by the model

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 10:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Batch mode so the same migration runs on SQLite (whose drop_column in downgrade needs a table rebuild).
    with op.batch_alter_table('postmortems', schema=None) as batch_op:
        batch_op.add_column(sa.Column('narrative', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('postmortems', schema=None) as batch_op:
        batch_op.drop_column('narrative')
