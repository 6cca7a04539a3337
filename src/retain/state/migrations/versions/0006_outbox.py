"""delivery outbox, dead letters and contact-cap holds (retain.state.outbox)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 09:40:00

One ``outbox_messages`` row per message Retain sends (e-mail or webhook), whatever its status (pending, held by a
contact cap, sending under a lease, sent, dead); ``idempotency_key`` is unique.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

INDEXES = (
    ('ix_outbox_messages_status_due', ['status', 'next_attempt_at']),
    ('ix_outbox_messages_contact_touch', ['contact_id', 'touch_on']),
    ('ix_outbox_messages_account_touch', ['account_id', 'touch_on']),
    ('ix_outbox_messages_owner_id', ['owner_id']),
    ('ix_outbox_messages_claim_token', ['claim_token']),
)


def upgrade() -> None:
    op.create_table(
        'outbox_messages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('idempotency_key', sa.String(length=200), nullable=False),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('category', sa.String(length=32), nullable=False),
        sa.Column('customer_facing', sa.Boolean(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('recipient', sa.String(length=500), nullable=False),
        sa.Column('subject', sa.String(length=300), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('html', sa.Text(), nullable=True),
        sa.Column('payload', sa.JSON(), nullable=True),
        sa.Column('account_id', sa.String(length=128), nullable=True),
        sa.Column('contact_id', sa.String(length=128), nullable=True),
        sa.Column('owner_id', sa.String(length=128), nullable=True),
        sa.Column('touch_on', sa.Date(), nullable=True),
        sa.Column('held_reason', sa.Text(), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
        sa.Column('lease_until', sa.DateTime(), nullable=True),
        sa.Column('claim_token', sa.String(length=64), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('sent_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('idempotency_key'),
    )
    for name, columns in INDEXES:
        op.create_index(name, 'outbox_messages', columns, unique=False)


def downgrade() -> None:
    for name, _ in INDEXES:
        op.drop_index(name, table_name='outbox_messages')
    op.drop_table('outbox_messages')
