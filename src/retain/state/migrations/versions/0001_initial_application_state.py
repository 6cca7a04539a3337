"""initial application state

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-25 10:21:41.602957
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('account_snapshots',
    sa.Column('account_id', sa.String(length=128), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('owner_id', sa.String(length=128), nullable=True),
    sa.Column('owner_name', sa.String(length=200), nullable=True),
    sa.Column('csm_id', sa.String(length=128), nullable=True),
    sa.Column('segment', sa.String(length=64), nullable=True),
    sa.Column('region', sa.String(length=64), nullable=True),
    sa.Column('industry', sa.String(length=100), nullable=True),
    sa.Column('acquisition_channel', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('arr', sa.Float(), nullable=False),
    sa.Column('currency', sa.String(length=8), nullable=True),
    sa.Column('health_total', sa.Float(), nullable=True),
    sa.Column('health_grade', sa.String(length=16), nullable=True),
    sa.Column('health_change', sa.Float(), nullable=True),
    sa.Column('churn_probability', sa.Float(), nullable=True),
    sa.Column('at_risk', sa.Boolean(), nullable=False),
    sa.Column('clv', sa.Float(), nullable=True),
    sa.Column('renewal_on', sa.Date(), nullable=True),
    sa.Column('adoption_tier', sa.String(length=32), nullable=True),
    sa.Column('products_held', sa.Integer(), nullable=False),
    sa.Column('open_tickets', sa.Integer(), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('account_id')
    )
    with op.batch_alter_table('account_snapshots', schema=None) as batch_op:
        batch_op.create_index('ix_account_snapshots_adoption_tier', ['adoption_tier'], unique=False)
        batch_op.create_index(batch_op.f('ix_account_snapshots_arr'), ['arr'], unique=False)
        batch_op.create_index(batch_op.f('ix_account_snapshots_at_risk'), ['at_risk'], unique=False)
        batch_op.create_index(batch_op.f('ix_account_snapshots_churn_probability'), ['churn_probability'], unique=False)
        batch_op.create_index(batch_op.f('ix_account_snapshots_clv'), ['clv'], unique=False)
        batch_op.create_index(batch_op.f('ix_account_snapshots_csm_id'), ['csm_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_account_snapshots_health_grade'), ['health_grade'], unique=False)
        batch_op.create_index(batch_op.f('ix_account_snapshots_health_total'), ['health_total'], unique=False)
        batch_op.create_index('ix_account_snapshots_name', ['name'], unique=False)
        batch_op.create_index(batch_op.f('ix_account_snapshots_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index('ix_account_snapshots_region', ['region'], unique=False)
        batch_op.create_index(batch_op.f('ix_account_snapshots_renewal_on'), ['renewal_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_account_snapshots_segment'), ['segment'], unique=False)

    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('target', sa.String(length=200), nullable=True),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_at'), ['at'], unique=False)

    op.create_table('login_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_attempts_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_login_attempts_key'), ['key'], unique=False)

    op.create_table('metric_snapshots',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('records', sa.JSON(), nullable=False),
    sa.Column('published_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('publish_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('published_at', sa.DateTime(), nullable=False),
    sa.Column('accounts', sa.Integer(), nullable=False),
    sa.Column('sources', sa.JSON(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('score_history',
    sa.Column('account_id', sa.String(length=128), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('health_total', sa.Float(), nullable=True),
    sa.Column('health_grade', sa.String(length=16), nullable=True),
    sa.Column('churn_probability', sa.Float(), nullable=True),
    sa.Column('components', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('account_id', 'as_of')
    )
    op.create_table('team_snapshot',
    sa.Column('member_id', sa.String(length=128), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=True),
    sa.Column('email', sa.String(length=200), nullable=True),
    sa.Column('manager_id', sa.String(length=128), nullable=True),
    sa.Column('team', sa.String(length=100), nullable=True),
    sa.PrimaryKeyConstraint('member_id')
    )
    with op.batch_alter_table('team_snapshot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_team_snapshot_manager_id'), ['manager_id'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('member_id', sa.String(length=128), nullable=True),
    sa.Column('display_name', sa.String(length=200), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('username')
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_member_id'), ['member_id'], unique=False)

    op.create_table('account_details',
    sa.Column('account_id', sa.String(length=128), nullable=False),
    sa.Column('components', sa.JSON(), nullable=True),
    sa.Column('reasons', sa.JSON(), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['account_snapshots.account_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account_id')
    )
    op.create_table('api_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('scope', sa.String(length=8), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('last_used_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('prefix')
    )
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_keys_user_id'), ['user_id'], unique=False)

    op.create_table('web_sessions',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('csrf_token', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_hash')
    )
    with op.batch_alter_table('web_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_sessions_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_web_sessions_user_id'), ['user_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('web_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_web_sessions_user_id'))
        batch_op.drop_index(batch_op.f('ix_web_sessions_expires_at'))

    op.drop_table('web_sessions')
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_keys_user_id'))

    op.drop_table('api_keys')
    op.drop_table('account_details')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_member_id'))

    op.drop_table('users')
    with op.batch_alter_table('team_snapshot', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_team_snapshot_manager_id'))

    op.drop_table('team_snapshot')
    op.drop_table('score_history')
    op.drop_table('publish_runs')
    op.drop_table('metric_snapshots')
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_attempts_key'))
        batch_op.drop_index(batch_op.f('ix_login_attempts_at'))

    op.drop_table('login_attempts')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_at'))
        batch_op.drop_index(batch_op.f('ix_audit_log_action'))

    op.drop_table('audit_log')
    with op.batch_alter_table('account_snapshots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_snapshots_segment'))
        batch_op.drop_index(batch_op.f('ix_account_snapshots_renewal_on'))
        batch_op.drop_index('ix_account_snapshots_region')
        batch_op.drop_index(batch_op.f('ix_account_snapshots_owner_id'))
        batch_op.drop_index('ix_account_snapshots_name')
        batch_op.drop_index(batch_op.f('ix_account_snapshots_health_total'))
        batch_op.drop_index(batch_op.f('ix_account_snapshots_health_grade'))
        batch_op.drop_index(batch_op.f('ix_account_snapshots_csm_id'))
        batch_op.drop_index(batch_op.f('ix_account_snapshots_clv'))
        batch_op.drop_index(batch_op.f('ix_account_snapshots_churn_probability'))
        batch_op.drop_index(batch_op.f('ix_account_snapshots_at_risk'))
        batch_op.drop_index(batch_op.f('ix_account_snapshots_arr'))
        batch_op.drop_index('ix_account_snapshots_adoption_tier')

    op.drop_table('account_snapshots')
