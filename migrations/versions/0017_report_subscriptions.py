"""report subscriptions: scheduled filed reports, their recipients and periods sent; e-mail attachments

Revision ID: 0017_report_subscriptions
Revises: 0013_imports
Create Date: 2026-12-07 23:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017_report_subscriptions'
down_revision = '0013_imports'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('attachment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=128), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachment'))
    )
    op.create_table('report_subscription',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('period_kind', sa.String(length=8), nullable=False),
    sa.Column('want_docx', sa.Boolean(), nullable=False),
    sa.Column('want_pdf', sa.Boolean(), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('managing_agency', sa.String(length=200), nullable=True),
    sa.Column('agency', sa.String(length=200), nullable=True),
    sa.Column('symbol', sa.String(length=40), nullable=True),
    sa.Column('place', sa.String(length=100), nullable=True),
    sa.Column('signer_prefix', sa.String(length=8), nullable=True),
    sa.Column('signer_authority', sa.String(length=200), nullable=True),
    sa.Column('signer_title', sa.String(length=200), nullable=False),
    sa.Column('signer_name', sa.String(length=200), nullable=True),
    sa.Column('filed_recipients', sa.Text(), nullable=True),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("language IN ('vi', 'en')", name=op.f('ck_report_subscription_language')),
    sa.CheckConstraint("period_kind IN ('month', 'quarter', 'half', 'year')", name=op.f('ck_report_subscription_period_kind')),
    sa.CheckConstraint('want_docx OR want_pdf', name=op.f('ck_report_subscription_format')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_report_subscription_created_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_report_subscription_organisation_id_organisation'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_subscription'))
    )
    with op.batch_alter_table('report_subscription', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_subscription_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('outbox_attachment',
    sa.Column('outbox_item_id', sa.Integer(), nullable=False),
    sa.Column('attachment_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['attachment_id'], ['attachment.id'], name=op.f('fk_outbox_attachment_attachment_id_attachment'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['outbox_item_id'], ['outbox_item.id'], name=op.f('fk_outbox_attachment_outbox_item_id_outbox_item'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('outbox_item_id', 'attachment_id', name=op.f('pk_outbox_attachment'))
    )
    with op.batch_alter_table('outbox_attachment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_attachment_attachment_id'), ['attachment_id'], unique=False)

    op.create_table('report_delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subscription_id', sa.Integer(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('recipients', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['subscription_id'], ['report_subscription.id'], name=op.f('fk_report_delivery_subscription_id_report_subscription'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_delivery')),
    sa.UniqueConstraint('subscription_id', 'period_start', name=op.f('uq_report_delivery_subscription_id_period_start'))
    )
    op.create_table('report_subscription_recipient',
    sa.Column('subscription_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['subscription_id'], ['report_subscription.id'], name=op.f('fk_report_subscription_recipient_subscription_id_report_subscription'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_report_subscription_recipient_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('subscription_id', 'user_id', name=op.f('pk_report_subscription_recipient'))
    )
    with op.batch_alter_table('report_subscription_recipient', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_subscription_recipient_user_id'), ['user_id'], unique=False)



def downgrade():
    with op.batch_alter_table('report_subscription_recipient', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_subscription_recipient_user_id'))

    op.drop_table('report_subscription_recipient')
    op.drop_table('report_delivery')
    with op.batch_alter_table('outbox_attachment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_attachment_attachment_id'))

    op.drop_table('outbox_attachment')
    with op.batch_alter_table('report_subscription', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_subscription_organisation_id'))

    op.drop_table('report_subscription')
    op.drop_table('attachment')
