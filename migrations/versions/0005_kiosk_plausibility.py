"""kiosk plausibility: the 'implausible' flag, what the server knows of each tablet's queue, and
the device's ratings indexed by their claimed time

- ``response.flag`` may be ``implausible``: a kiosk rating claimed at a time the tablet could
  not have collected it (before it was enrolled, before a moment it reported an empty queue,
  beyond what it could collect since);
- ``kiosk_device.queue_empty_at``: the last moment the tablet reported nothing queued;
  ``flagged_ratings`` and ``last_flagged_at``: what the Kiosks page marks;
- ``ix_response_kiosk_device_time`` (device, claimed time), only where a device is set,
  replaces the device-only index: the plausibility checks read one device's ratings around
  the claimed times of a batch.

Revision ID: 0004_core
Revises: 0004_sessions
Create Date: 2026-11-23 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004_core'
down_revision = '0004_sessions'
branch_labels = None
depends_on = None

OLD_FLAGS = "flag IS NULL OR flag IN ('honeypot', 'too_fast', 'burst', 'clock_skew')"
NEW_FLAGS = "flag IS NULL OR flag IN ('honeypot', 'too_fast', 'burst', 'clock_skew', 'implausible')"
KIOSK_ONLY = sa.text("kiosk_device_id IS NOT NULL")


def upgrade():
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_response_flag'), type_='check')
        batch_op.create_check_constraint(op.f('ck_response_flag'), NEW_FLAGS)
    op.drop_index('ix_response_kiosk_device_id', table_name='response')
    op.create_index('ix_response_kiosk_device_time', 'response', ['kiosk_device_id', 'client_created_at'],
                    sqlite_where=KIOSK_ONLY, postgresql_where=KIOSK_ONLY)
    with op.batch_alter_table('kiosk_device', schema=None) as batch_op:
        batch_op.add_column(sa.Column('queue_empty_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('flagged_ratings', sa.Integer(), server_default=sa.text('0'), nullable=False))
        batch_op.add_column(sa.Column('last_flagged_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('kiosk_device', schema=None) as batch_op:
        batch_op.drop_column('last_flagged_at')
        batch_op.drop_column('flagged_ratings')
        batch_op.drop_column('queue_empty_at')
    op.drop_index('ix_response_kiosk_device_time', table_name='response')
    op.create_index('ix_response_kiosk_device_id', 'response', ['kiosk_device_id'],
                    sqlite_where=KIOSK_ONLY, postgresql_where=KIOSK_ONLY)
    op.execute("UPDATE response SET flag = 'burst' WHERE flag = 'implausible'")
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_response_flag'), type_='check')
        batch_op.create_check_constraint(op.f('ck_response_flag'), OLD_FLAGS)
