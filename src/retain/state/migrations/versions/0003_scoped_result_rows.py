"""published results as rows with their scope keys

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05 05:00:00

A published result was one JSON list per name, read whole and filtered (or not) by each route: the API returned
every call and lead to any role. Its rows now live in ``result_rows`` with the member and account they belong to
copied out, so :mod:`retain.state.published` restricts them in SQL. Snapshots are a cache of the warehouse: the
old lists are dropped, and the next ``retain publish`` (every main job runs one) fills the new table.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(sa.text("DELETE FROM metric_snapshots"))
    with op.batch_alter_table('metric_snapshots', schema=None) as batch_op:
        batch_op.drop_column('records')
        batch_op.add_column(sa.Column('rows', sa.Integer(), nullable=False, server_default='0'))
    op.create_table('result_rows',
                    sa.Column('name', sa.String(length=64), nullable=False),
                    sa.Column('seq', sa.Integer(), nullable=False),
                    sa.Column('member_id', sa.String(length=128), nullable=True),
                    sa.Column('account_id', sa.String(length=128), nullable=True),
                    sa.Column('record', sa.JSON(), nullable=False),
                    sa.ForeignKeyConstraint(['name'], ['metric_snapshots.name'], ondelete='CASCADE'),
                    sa.PrimaryKeyConstraint('name', 'seq'))
    op.create_index('ix_result_rows_member', 'result_rows', ['name', 'member_id'])
    op.create_index('ix_result_rows_account', 'result_rows', ['name', 'account_id'])


def downgrade() -> None:
    op.drop_index('ix_result_rows_account', 'result_rows')
    op.drop_index('ix_result_rows_member', 'result_rows')
    op.drop_table('result_rows')
    op.execute(sa.text("DELETE FROM metric_snapshots"))
    with op.batch_alter_table('metric_snapshots', schema=None) as batch_op:
        batch_op.drop_column('rows')
        batch_op.add_column(sa.Column('records', sa.JSON(), nullable=False, server_default='[]'))
