"""dossiers from the one-stop system, and the procedure and field a dossier rating carries

- ``dossier``: one row per dossier (MaHoSo unique per organisation), with the keyed hash that
  its ratings carry;
- ``response.procedure_code`` and ``response.field_code``: nullable, set from the dossier token.

Revision ID: 0008_dossiers
Revises: 0010_publication
Create Date: 2026-12-01 21:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008_dossiers'
down_revision = '0010_publication'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'dossier',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('service_point_id', sa.Integer(), nullable=True),
        sa.Column('code', sa.String(length=64), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('procedure_code', sa.String(length=64), nullable=True),
        sa.Column('field_code', sa.String(length=64), nullable=True),
        sa.Column('received_at', sa.DateTime(), nullable=False),
        sa.Column('due_at', sa.DateTime(), nullable=True),
        sa.Column('returned_at', sa.DateTime(), nullable=True),
        sa.Column('status', sa.String(length=32), nullable=True),
        sa.Column('channel', sa.String(length=10), nullable=True),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint("channel IS NULL OR channel IN ('online', 'counter')", name=op.f('ck_dossier_channel')),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_dossier_organisation_id_organisation'),
                                ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['service_point_id'], ['service_point.id'],
                                name=op.f('fk_dossier_service_point_id_service_point'), ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_dossier')),
        sa.UniqueConstraint('organisation_id', 'code', name=op.f('uq_dossier_organisation_id_code')),
    )
    op.create_index('ix_dossier_org_received', 'dossier', ['organisation_id', 'received_at'])
    op.create_index(op.f('ix_dossier_code_hash'), 'dossier', ['code_hash'])
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.add_column(sa.Column('procedure_code', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('field_code', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.drop_column('field_code')
        batch_op.drop_column('procedure_code')
    op.drop_index(op.f('ix_dossier_code_hash'), table_name='dossier')
    op.drop_index('ix_dossier_org_received', table_name='dossier')
    op.drop_table('dossier')
