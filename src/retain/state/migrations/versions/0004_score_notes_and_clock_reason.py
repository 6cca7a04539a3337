"""score notes on account snapshots, the clock's reason on publish runs

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05 07:00:00

The accounts list marks a health total that is a default or a cap (``account_snapshots.score_note``, from the
health result's ``score_note``), and every page prints the as-of date with the reason the clock chose it
(``publish_runs.as_of_reason``). Both are nullable and filled by the next ``retain publish``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('account_snapshots', schema=None) as batch_op:
        batch_op.add_column(sa.Column('score_note', sa.String(length=300), nullable=True))
    with op.batch_alter_table('publish_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('as_of_reason', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('publish_runs', schema=None) as batch_op:
        batch_op.drop_column('as_of_reason')
    with op.batch_alter_table('account_snapshots', schema=None) as batch_op:
        batch_op.drop_column('score_note')
