"""sessions that end: a per-account session token, and sign-in attempts per account and address

``user.session_token`` is part of every session and remember-me cookie of the account; a new
value (sign-out, password change, deactivation) ends them all. Existing accounts get one
random token each, so the cookies issued before the upgrade (which carry no token) end too.

``login_source`` holds the failed and successful sign-ins of one account from one address
(a keyed hash): the lock after repeated failures is per pair (auth/throttle.py).

Revision ID: 0004_sessions
Revises: 0003
Create Date: 2026-11-23 09:00:00

"""
import secrets

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004_sessions'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_token', sa.String(length=32), nullable=True))
    conn = op.get_bind()
    user = sa.table('user', sa.column('id', sa.Integer), sa.column('session_token', sa.String))
    for (user_id,) in conn.execute(sa.select(user.c.id)).all():
        conn.execute(user.update().where(user.c.id == user_id).values(session_token=secrets.token_hex(16)))
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.alter_column('session_token', existing_type=sa.String(length=32), nullable=False)

    op.create_table(
        'login_source',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('source_hash', sa.String(length=64), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('last_failure_at', sa.DateTime(), nullable=True),
        sa.Column('locked_until', sa.DateTime(), nullable=True),
        sa.Column('last_success_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_login_source_user_id_user'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_login_source')),
        sa.UniqueConstraint('user_id', 'source_hash', name=op.f('uq_login_source_user_id_source_hash')),
    )


def downgrade():
    op.drop_table('login_source')
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('session_token')
