"""indexes for the accounts list: filters that match their sort, and a trigram name index on SQLite

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 12:30:00

A grade filter sorted by health (and "at risk" sorted by churn probability) is the most common view of the list;
the filter and the sort are correlated, so walking either single-column index reads most of the table. On SQLite
the name search uses an FTS5 trigram index (``account_names``), rebuilt by every publish (see
``retain.state.names``); other databases scan, which PostgreSQL does in parallel.
"""

from __future__ import annotations

from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_account_snapshots_grade_health', 'account_snapshots', ['health_grade', 'health_total'])
    op.create_index('ix_account_snapshots_risk_churn', 'account_snapshots', ['at_risk', 'churn_probability'])
    if op.get_bind().dialect.name == 'sqlite':
        from retain.state.names import create_name_index

        create_name_index(op.get_bind())


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('DROP TABLE IF EXISTS account_names')
    op.drop_index('ix_account_snapshots_risk_churn', 'account_snapshots')
    op.drop_index('ix_account_snapshots_grade_health', 'account_snapshots')
