"""calls to action (CTAs) and their playbook tasks

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 08:00:00

``retain act`` writes one ``ctas`` row per call to action a rule asked for (``retain.state.actions``); a live CTA
(open or snoozed) holds a unique ``open_key`` (account, type and reason), so a duplicate is refused by the database.
``cta_tasks`` holds each CTA's playbook tasks in order.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'ctas',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.String(length=128), nullable=False),
        sa.Column('type', sa.String(length=16), nullable=False),
        sa.Column('reason', sa.String(length=200), nullable=False),
        sa.Column('detail', sa.Text(), nullable=True),
        sa.Column('priority', sa.String(length=16), nullable=False),
        sa.Column('value', sa.Float(), nullable=True),
        sa.Column('owner_id', sa.String(length=128), nullable=True),
        sa.Column('routed_by', sa.String(length=32), nullable=True),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('open_key', sa.String(length=400), nullable=True),
        sa.Column('snoozed_until', sa.Date(), nullable=True),
        sa.Column('status_reason', sa.Text(), nullable=True),
        sa.Column('rule', sa.String(length=64), nullable=False),
        sa.Column('rule_version', sa.Integer(), nullable=False),
        sa.Column('evidence', sa.JSON(), nullable=True),
        sa.Column('playbook', sa.String(length=64), nullable=True),
        sa.Column('auto_close', sa.String(length=16), nullable=False),
        sa.Column('opened_on', sa.Date(), nullable=False),
        sa.Column('last_fired_on', sa.Date(), nullable=False),
        sa.Column('closed_on', sa.Date(), nullable=True),
        sa.Column('escalated_to', sa.String(length=128), nullable=True),
        sa.Column('escalated_on', sa.Date(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('open_key'),
    )
    op.create_index(op.f('ix_ctas_account_id'), 'ctas', ['account_id'], unique=False)
    op.create_index(op.f('ix_ctas_escalated_to'), 'ctas', ['escalated_to'], unique=False)
    op.create_index('ix_ctas_owner_status_due', 'ctas', ['owner_id', 'status', 'due_on'], unique=False)
    op.create_index(op.f('ix_ctas_rule'), 'ctas', ['rule'], unique=False)
    op.create_index('ix_ctas_status_due', 'ctas', ['status', 'due_on'], unique=False)
    op.create_table(
        'cta_tasks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('cta_id', sa.Integer(), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('role', sa.String(length=32), nullable=False),
        sa.Column('assignee_id', sa.String(length=128), nullable=True),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('done_at', sa.DateTime(), nullable=True),
        sa.Column('done_by', sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(['cta_id'], ['ctas.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_cta_tasks_assignee_id'), 'cta_tasks', ['assignee_id'], unique=False)
    op.create_index(op.f('ix_cta_tasks_cta_id'), 'cta_tasks', ['cta_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_cta_tasks_cta_id'), table_name='cta_tasks')
    op.drop_index(op.f('ix_cta_tasks_assignee_id'), table_name='cta_tasks')
    op.drop_table('cta_tasks')
    for name in ('ix_ctas_status_due', 'ix_ctas_rule', 'ix_ctas_owner_status_due', 'ix_ctas_escalated_to',
                 'ix_ctas_account_id'):
        op.drop_index(name, table_name='ctas')
    op.drop_table('ctas')
