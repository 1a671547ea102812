"""report rollup: precomputed moments of complete months and days

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 23:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('report_rollup',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Integer(), nullable=False),
    sa.Column('day', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('service_point_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('flagged', sa.Boolean(), nullable=False),
    sa.Column('respondents', sa.Integer(), nullable=False),
    sa.Column('dissatisfied', sa.Integer(), nullable=False),
    sa.Column('positions', sa.String(length=400), nullable=False),
    sa.Column('moments', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_rollup')),
    sa.UniqueConstraint('month', 'day', 'survey_id', 'service_point_id', 'channel', 'flagged',
                        name=op.f('uq_report_rollup_month_day_survey_id_service_point_id_channel_flagged'))
    )


def downgrade():
    op.drop_table('report_rollup')
