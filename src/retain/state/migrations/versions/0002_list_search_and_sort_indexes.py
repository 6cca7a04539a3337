"""indexes for the accounts list at 100k accounts: sorts that carry the scope, filters paired with their sort, and
a trigram name index on SQLite

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 12:30:00

- Each sort column's index also holds ``owner_id`` and ``csm_id``: a manager's or member's page walks the sort
  index and reads the table only for the accounts in scope (a 10-rep team's first pages at 100k accounts: 0.5-4 ms
  instead of 7-10 ms of SQLite time).
- A grade filter sorted by health (and "at risk" sorted by churn probability) is the most common view of the list;
  filter and sort are correlated, so walking either single-column index read most of the table: composite indexes
  serve both (and replace the single-column grade and at-risk indexes); they carry the owner columns too.
- On SQLite the name search uses an FTS5 trigram index (``account_names``), rebuilt by every publish (see
  ``retain.state.names``); other databases scan, which PostgreSQL does in parallel.
"""

from __future__ import annotations

from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

SORTED = ("name", "arr", "health_total", "churn_probability", "clv", "renewal_on")  # had a one-column index
TABLE = 'account_snapshots'


def upgrade() -> None:
    for column in SORTED:
        op.drop_index(f'ix_{TABLE}_{column}', TABLE)
    for column in (*SORTED, "health_change"):
        op.create_index(f'ix_{TABLE}_{column}', TABLE, [column, 'owner_id', 'csm_id'])
    op.drop_index(f'ix_{TABLE}_health_grade', TABLE)
    op.drop_index(f'ix_{TABLE}_at_risk', TABLE)
    op.create_index(f'ix_{TABLE}_grade_health', TABLE, ['health_grade', 'health_total', 'owner_id', 'csm_id'])
    op.create_index(f'ix_{TABLE}_risk_churn', TABLE, ['at_risk', 'churn_probability', 'owner_id', 'csm_id'])
    if op.get_bind().dialect.name == 'sqlite':
        from retain.state.names import create_name_index

        create_name_index(op.get_bind())


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('DROP TABLE IF EXISTS account_names')
    op.drop_index(f'ix_{TABLE}_risk_churn', TABLE)
    op.drop_index(f'ix_{TABLE}_grade_health', TABLE)
    op.create_index(f'ix_{TABLE}_at_risk', TABLE, ['at_risk'])
    op.create_index(f'ix_{TABLE}_health_grade', TABLE, ['health_grade'])
    op.drop_index(f'ix_{TABLE}_health_change', TABLE)
    for column in SORTED:
        op.drop_index(f'ix_{TABLE}_{column}', TABLE)
        op.create_index(f'ix_{TABLE}_{column}', TABLE, [column])
