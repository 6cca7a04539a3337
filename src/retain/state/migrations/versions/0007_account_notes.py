"""account notes and Today page state (retain.state.notes)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 09:40:00

``account_notes`` holds what people write about an account (shown on its timeline). The indexes on ``ctas`` and
``cta_tasks`` (tables of 0005) serve the Today and Team actions pages: CTAs escalated to someone and still live,
an account's live CTAs, a person's open tasks.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'account_notes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.String(length=128), nullable=False),
        sa.Column('author', sa.String(length=64), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_account_notes_account_created', 'account_notes', ['account_id', 'created_at'], unique=False)
    op.create_index('ix_ctas_escalated_status', 'ctas', ['escalated_to', 'status'], unique=False)
    op.create_index('ix_ctas_account_status', 'ctas', ['account_id', 'status'], unique=False)
    op.create_index('ix_cta_tasks_assignee_status', 'cta_tasks', ['assignee_id', 'status'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_cta_tasks_assignee_status', table_name='cta_tasks')
    op.drop_index('ix_ctas_account_status', table_name='ctas')
    op.drop_index('ix_ctas_escalated_status', table_name='ctas')
    op.drop_index('ix_account_notes_account_created', table_name='account_notes')
    op.drop_table('account_notes')
