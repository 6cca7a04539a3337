"""success plans, objectives and plan templates (retain.state.plans)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 09:40:00

``plan_plans`` holds one row per success plan (one active plan per account: ``active_key`` is unique while the plan
is active); ``plan_objectives`` its objectives (metric, start, current and target values, dates, status);
``plan_links`` the CTAs and tasks it is linked to.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'plan_plans',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.String(length=128), nullable=False),
        sa.Column('active_key', sa.String(length=128), nullable=True),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('template', sa.String(length=64), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('created_on', sa.Date(), nullable=False),
        sa.Column('created_by', sa.String(length=64), nullable=True),
        sa.Column('refreshed_on', sa.Date(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('active_key'),
    )
    op.create_index(op.f('ix_plan_plans_account_id'), 'plan_plans', ['account_id'], unique=False)
    op.create_table(
        'plan_objectives',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('plan_id', sa.Integer(), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('metric', sa.String(length=32), nullable=False),
        sa.Column('start_value', sa.Float(), nullable=True),
        sa.Column('current_value', sa.Float(), nullable=True),
        sa.Column('target_value', sa.Float(), nullable=True),
        sa.Column('start_on', sa.Date(), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('measured_on', sa.Date(), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['plan_id'], ['plan_plans.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_plan_objectives_metric'), 'plan_objectives', ['metric'], unique=False)
    op.create_index(op.f('ix_plan_objectives_plan_id'), 'plan_objectives', ['plan_id'], unique=False)
    op.create_table(
        'plan_links',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('plan_id', sa.Integer(), nullable=False),
        sa.Column('objective_id', sa.Integer(), nullable=True),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('ref_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['objective_id'], ['plan_objectives.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['plan_id'], ['plan_plans.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('plan_id', 'kind', 'ref_id', name='uq_plan_links_ref'),
    )
    op.create_index(op.f('ix_plan_links_plan_id'), 'plan_links', ['plan_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_plan_links_plan_id'), table_name='plan_links')
    op.drop_table('plan_links')
    op.drop_index(op.f('ix_plan_objectives_plan_id'), table_name='plan_objectives')
    op.drop_index(op.f('ix_plan_objectives_metric'), table_name='plan_objectives')
    op.drop_table('plan_objectives')
    op.drop_index(op.f('ix_plan_plans_account_id'), table_name='plan_plans')
    op.drop_table('plan_plans')
