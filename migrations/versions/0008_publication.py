"""publication: an organisation's opt-in to a public page of its indices

Revision ID: 0010_publication
Revises: 0005_alerts
Create Date: 2026-12-01 21:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010_publication'
down_revision = '0005_alerts'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'publication',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('published_at', sa.DateTime(), nullable=False),
        sa.Column('published_by_id', sa.Integer(), nullable=True),
        sa.Column('min_responses', sa.Integer(), nullable=False),
        sa.CheckConstraint('min_responses >= 1', name=op.f('ck_publication_min_responses_positive')),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'],
                                name=op.f('fk_publication_organisation_id_organisation'), ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['published_by_id'], ['user.id'],
                                name=op.f('fk_publication_published_by_id_user'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_publication')),
        sa.UniqueConstraint('organisation_id', name=op.f('uq_publication_organisation_id')),
    )


def downgrade():
    op.drop_table('publication')
