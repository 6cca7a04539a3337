"""survey programmes' invitations, links, answers and opt-outs (retain.state.surveys)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 09:40:00

``retain surveys send`` writes one ``survey_invitations`` row per invitation (unique ``dedupe_key``: programme,
contact, touchpoint); the survey page writes ``survey_answers`` (unique ``invitation_id``: single-use links) and
``survey_opt_outs`` (the unsubscribe link).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'survey_invitations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('programme', sa.String(length=64), nullable=False),
        sa.Column('survey_type', sa.String(length=8), nullable=False),
        sa.Column('touchpoint', sa.String(length=32), nullable=False),
        sa.Column('touchpoint_ref', sa.String(length=128), nullable=True),
        sa.Column('account_id', sa.String(length=128), nullable=False),
        sa.Column('contact_id', sa.String(length=128), nullable=False),
        sa.Column('email', sa.String(length=320), nullable=True),
        sa.Column('language', sa.String(length=8), nullable=False),
        sa.Column('sent_on', sa.Date(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('dedupe_key', sa.String(length=400), nullable=False),
        sa.Column('reminder_on', sa.Date(), nullable=True),
        sa.Column('reminded_on', sa.Date(), nullable=True),
        sa.Column('answered_at', sa.DateTime(), nullable=True),
        sa.Column('message_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('dedupe_key'),
    )
    op.create_index(op.f('ix_survey_invitations_programme'), 'survey_invitations', ['programme'], unique=False)
    op.create_index(op.f('ix_survey_invitations_account_id'), 'survey_invitations', ['account_id'], unique=False)
    op.create_index('ix_survey_invitations_contact_sent', 'survey_invitations', ['contact_id', 'sent_on'],
                    unique=False)
    op.create_index('ix_survey_invitations_status_reminder', 'survey_invitations', ['status', 'reminder_on'],
                    unique=False)
    op.create_table(
        'survey_answers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('invitation_id', sa.Integer(), nullable=False),
        sa.Column('response_id', sa.String(length=64), nullable=False),
        sa.Column('programme', sa.String(length=64), nullable=False),
        sa.Column('survey_type', sa.String(length=8), nullable=False),
        sa.Column('touchpoint', sa.String(length=32), nullable=False),
        sa.Column('account_id', sa.String(length=128), nullable=False),
        sa.Column('contact_id', sa.String(length=128), nullable=False),
        sa.Column('language', sa.String(length=8), nullable=False),
        sa.Column('score', sa.Integer(), nullable=False),
        sa.Column('comment', sa.Text(), nullable=True),
        sa.Column('answered_at', sa.DateTime(), nullable=False),
        sa.Column('warehouse_at', sa.DateTime(), nullable=True),
        sa.Column('cta_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['invitation_id'], ['survey_invitations.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('invitation_id'),
        sa.UniqueConstraint('response_id'),
    )
    op.create_index(op.f('ix_survey_answers_programme'), 'survey_answers', ['programme'], unique=False)
    op.create_index(op.f('ix_survey_answers_account_id'), 'survey_answers', ['account_id'], unique=False)
    op.create_index(op.f('ix_survey_answers_warehouse_at'), 'survey_answers', ['warehouse_at'], unique=False)
    op.create_table(
        'survey_opt_outs',
        sa.Column('contact_id', sa.String(length=128), nullable=False),
        sa.Column('account_id', sa.String(length=128), nullable=True),
        sa.Column('source', sa.String(length=32), nullable=False),
        sa.Column('opted_out_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('contact_id'),
    )


def downgrade() -> None:
    op.drop_table('survey_opt_outs')
    op.drop_index(op.f('ix_survey_answers_warehouse_at'), table_name='survey_answers')
    op.drop_index(op.f('ix_survey_answers_account_id'), table_name='survey_answers')
    op.drop_index(op.f('ix_survey_answers_programme'), table_name='survey_answers')
    op.drop_table('survey_answers')
    op.drop_index('ix_survey_invitations_status_reminder', table_name='survey_invitations')
    op.drop_index('ix_survey_invitations_contact_sent', table_name='survey_invitations')
    op.drop_index(op.f('ix_survey_invitations_account_id'), table_name='survey_invitations')
    op.drop_index(op.f('ix_survey_invitations_programme'), table_name='survey_invitations')
    op.drop_table('survey_invitations')
