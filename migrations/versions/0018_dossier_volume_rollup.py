"""dossier volumes: dossiers per service point and local month, kept with the records

Revision ID: 0018_dossier_volume_rollup
Revises: 0017_report_subscriptions
Create Date: 2026-12-08 01:00:00

"""
from collections import Counter
from datetime import datetime

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018_dossier_volume_rollup'
down_revision = '0017_report_subscriptions'
branch_labels = None
depends_on = None


def upgrade():
    volume = op.create_table('dossier_volume',
    sa.Column('service_point_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('dossiers', sa.Integer(), nullable=False),
    sa.CheckConstraint('dossiers >= 0', name=op.f('ck_dossier_volume_dossiers')),
    sa.ForeignKeyConstraint(['service_point_id'], ['service_point.id'], name=op.f('fk_dossier_volume_service_point_id_service_point'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('service_point_id', 'month', name=op.f('pk_dossier_volume'))
    )
    # Back-fill from the records already stored: the month is the local one (the app's zone).
    from surveyapp.clock import to_local
    from surveyapp.reports.filters import month_key

    bind = op.get_bind()
    counts = Counter()
    result = bind.execute(sa.text("SELECT service_point_id, received_at FROM dossier WHERE service_point_id IS NOT NULL")
                          .execution_options(yield_per=10_000))
    for sp, received in result:
        if isinstance(received, str):  # SQLite through a text() query
            received = datetime.fromisoformat(received)
        counts[(sp, month_key(to_local(received).date()))] += 1
    rows = [{'service_point_id': sp, 'month': m, 'dossiers': n} for (sp, m), n in sorted(counts.items())]
    for i in range(0, len(rows), 1000):
        op.bulk_insert(volume, rows[i:i + 1000])


def downgrade():
    op.drop_table('dossier_volume')
