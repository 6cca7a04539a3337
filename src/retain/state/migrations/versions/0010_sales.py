"""sales goals and pipeline-review snapshots (retain.state.sales)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 09:40:00

``sales_reviews`` holds one row per pipeline review (reviewer, scope, as-of day); ``sales_review_deals`` the open
deals reviewed then, which the next review compares with.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'sales_reviews',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('scope_key', sa.String(length=128), nullable=False),
        sa.Column('reviewer', sa.String(length=64), nullable=False),
        sa.Column('as_of', sa.Date(), nullable=False),
        sa.Column('reviewed_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_sales_reviews_scope_key'), 'sales_reviews', ['scope_key'], unique=False)
    op.create_table(
        'sales_review_deals',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('review_id', sa.Integer(), nullable=False),
        sa.Column('opportunity_id', sa.String(length=128), nullable=False),
        sa.Column('owner_id', sa.String(length=128), nullable=True),
        sa.Column('name', sa.String(length=300), nullable=True),
        sa.Column('stage', sa.String(length=64), nullable=True),
        sa.Column('stage_position', sa.Float(), nullable=True),
        sa.Column('amount', sa.Float(), nullable=True),
        sa.Column('close_on', sa.Date(), nullable=True),
        sa.Column('p_win', sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(['review_id'], ['sales_reviews.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_sales_review_deals_review_id'), 'sales_review_deals', ['review_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_sales_review_deals_review_id'), table_name='sales_review_deals')
    op.drop_table('sales_review_deals')
    op.drop_index(op.f('ix_sales_reviews_scope_key'), table_name='sales_reviews')
    op.drop_table('sales_reviews')
