"""imports: a service point's official code, by which a bulk import matches its rows

Revision ID: 0013_imports
Revises: 0012_report_api
Create Date: 2026-12-07 23:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013_imports'
down_revision = '0012_report_api'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('service_point', schema=None) as batch_op:
        batch_op.add_column(sa.Column('official_code', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint('uq_service_point_official_code', ['official_code'])


def downgrade():
    with op.batch_alter_table('service_point', schema=None) as batch_op:
        batch_op.drop_constraint('uq_service_point_official_code', type_='unique')
        batch_op.drop_column('official_code')
