"""alerts, outbox and worker: job leases, webhooks, the outbox, alert rules, alerts,
subscriptions, notifications, and users' e-mail, language and notification preferences

Revision ID: 0005_alerts
Revises: 0006_cases
Create Date: 2026-12-01 19:59:19.611459

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005_alerts'
down_revision = '0006_cases'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('job_state',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('holder', sa.String(length=64), nullable=True),
    sa.Column('lease_until', sa.DateTime(), nullable=True),
    sa.Column('next_due_at', sa.DateTime(), nullable=True),
    sa.Column('last_started_at', sa.DateTime(), nullable=True),
    sa.Column('last_finished_at', sa.DateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('cursor_at', sa.DateTime(), nullable=True),
    sa.Column('runs', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_job_state'))
    )
    op.create_table('alert_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('cap_count', sa.Integer(), nullable=False),
    sa.Column('cap_window_minutes', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("kind IN ('dissatisfied_burst', 'below_target', 'harassment', 'silent_kiosk')", name=op.f('ck_alert_rule_kind')),
    sa.CheckConstraint('cap_count >= 1 AND cap_window_minutes >= 1', name=op.f('ck_alert_rule_cap')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_alert_rule_organisation_id_organisation'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_rule')),
    sa.UniqueConstraint('organisation_id', 'kind', name=op.f('uq_alert_rule_organisation_id_kind'))
    )
    op.create_table('webhook',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('secret', sa.String(length=255), nullable=False),
    sa.Column('description', sa.String(length=255), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_webhook_organisation_id_organisation'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook'))
    )
    with op.batch_alter_table('webhook', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('alert',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rule_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('service_point_id', sa.Integer(), nullable=True),
    sa.Column('subject', sa.String(length=128), nullable=False),
    sa.Column('dedupe_key', sa.String(length=255), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('opened_at', sa.DateTime(), nullable=False),
    sa.Column('acknowledged_at', sa.DateTime(), nullable=True),
    sa.Column('acknowledged_by_id', sa.Integer(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("kind IN ('dissatisfied_burst', 'below_target', 'harassment', 'silent_kiosk')", name=op.f('ck_alert_kind')),
    sa.CheckConstraint("state IN ('open', 'acknowledged', 'closed')", name=op.f('ck_alert_state')),
    sa.ForeignKeyConstraint(['acknowledged_by_id'], ['user.id'], name=op.f('fk_alert_acknowledged_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['closed_by_id'], ['user.id'], name=op.f('fk_alert_closed_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_alert_organisation_id_organisation'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['rule_id'], ['alert_rule.id'], name=op.f('fk_alert_rule_id_alert_rule'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['service_point_id'], ['service_point.id'], name=op.f('fk_alert_service_point_id_service_point'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_alert_dedupe_key'))
    )
    with op.batch_alter_table('alert', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_opened_at'), ['opened_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_alert_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index('ix_alert_rule_subject', ['rule_id', 'subject'], unique=False)

    op.create_table('alert_subscription',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('rule_id', sa.Integer(), nullable=False),
    sa.Column('subscribed', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['rule_id'], ['alert_rule.id'], name=op.f('fk_alert_subscription_rule_id_alert_rule'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_alert_subscription_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'rule_id', name=op.f('pk_alert_subscription'))
    )
    op.create_table('outbox_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('recipient', sa.String(length=2000), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('dedupe_key', sa.String(length=255), nullable=False),
    sa.Column('webhook_id', sa.Integer(), nullable=True),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
    sa.Column('lease_until', sa.DateTime(), nullable=True),
    sa.Column('claim_token', sa.String(length=32), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('delivered_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("channel = 'email' OR webhook_id IS NOT NULL", name=op.f('ck_outbox_item_webhook_has_hook')),
    sa.CheckConstraint("channel IN ('email', 'webhook')", name=op.f('ck_outbox_item_channel')),
    sa.CheckConstraint("status IN ('pending', 'sending', 'delivered', 'failed')", name=op.f('ck_outbox_item_status')),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_outbox_item_attempts')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_outbox_item_organisation_id_organisation'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_outbox_item_user_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['webhook_id'], ['webhook.id'], name=op.f('fk_outbox_item_webhook_id_webhook'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_item')),
    sa.UniqueConstraint('event_id', name=op.f('uq_outbox_item_event_id'))
    )
    with op.batch_alter_table('outbox_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_item_created_at'), ['created_at'], unique=False)
        batch_op.create_index('ix_outbox_item_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_item_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_item_webhook_id'), ['webhook_id'], unique=False)

    op.create_table('notification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('alert_id', sa.Integer(), nullable=False),
    sa.Column('rule_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('read_at', sa.DateTime(), nullable=True),
    sa.Column('email_status', sa.String(length=12), nullable=False),
    sa.Column('held_reason', sa.String(length=8), nullable=True),
    sa.CheckConstraint("email_status IN ('none', 'sent', 'held', 'summarised')", name=op.f('ck_notification_email_status')),
    sa.ForeignKeyConstraint(['alert_id'], ['alert.id'], name=op.f('fk_notification_alert_id_alert'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['rule_id'], ['alert_rule.id'], name=op.f('fk_notification_rule_id_alert_rule'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_notification_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification')),
    sa.UniqueConstraint('user_id', 'alert_id', name=op.f('uq_notification_user_id_alert_id'))
    )
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notification_alert_id'), ['alert_id'], unique=False)
        batch_op.create_index('ix_notification_user_read', ['user_id', 'read_at'], unique=False)

    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email', sa.String(length=255), server_default=sa.null(), nullable=True))
        batch_op.add_column(sa.Column('language', sa.String(length=2), server_default='vi', nullable=False))
        batch_op.add_column(sa.Column('digest_frequency', sa.String(length=8), server_default='none', nullable=False))
        batch_op.add_column(sa.Column('quiet_start', sa.Time(), server_default=sa.null(), nullable=True))
        batch_op.add_column(sa.Column('quiet_end', sa.Time(), server_default=sa.null(), nullable=True))



def downgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('quiet_end')
        batch_op.drop_column('quiet_start')
        batch_op.drop_column('digest_frequency')
        batch_op.drop_column('language')
        batch_op.drop_column('email')

    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_user_read')
        batch_op.drop_index(batch_op.f('ix_notification_alert_id'))

    op.drop_table('notification')
    with op.batch_alter_table('outbox_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_item_webhook_id'))
        batch_op.drop_index(batch_op.f('ix_outbox_item_user_id'))
        batch_op.drop_index('ix_outbox_item_due')
        batch_op.drop_index(batch_op.f('ix_outbox_item_created_at'))

    op.drop_table('outbox_item')
    op.drop_table('alert_subscription')
    with op.batch_alter_table('alert', schema=None) as batch_op:
        batch_op.drop_index('ix_alert_rule_subject')
        batch_op.drop_index(batch_op.f('ix_alert_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_alert_opened_at'))

    op.drop_table('alert')
    with op.batch_alter_table('webhook', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_organisation_id'))

    op.drop_table('webhook')
    op.drop_table('alert_rule')
    op.drop_table('job_state')
