"""leaner response writes: redundant foreign keys dropped, mostly-NULL columns indexed partially

Every submission writes one ``response`` and its ``answer`` rows; each foreign key is a lookup
(and on PostgreSQL a row lock on the parent, shared by every concurrent submission) and each
index a page to write. Dropped, with integrity unchanged:

- ``response.survey_id`` -> survey and ``response.service_point_id`` -> service_point: implied
  by ``fk_response_survey_service_point`` (the pair must be a deployment, whose own foreign
  keys point at the survey and the service point);
- ``answer.service_point_id`` -> service_point: a copy of its response's service point (for
  reports that scan one table), which that response's composite key already guarantees.

``dossier_hash`` (NULL except for dossier ratings) and ``kiosk_device_id`` (NULL for QR
answers) are indexed only where they are set: the uniqueness and the lookups are the same,
and a QR submission no longer writes two index entries for NULL.

On SQLite the two tables are rebuilt (batch mode) with foreign key enforcement off during the
migration (``migrations/env.py``), or dropping the old ``response`` would cascade to answers.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 04:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

NOT_NULL = {
    "dossier_hash": sa.text("dossier_hash IS NOT NULL"),
    "kiosk_device_id": sa.text("kiosk_device_id IS NOT NULL"),
}


def _partial(column):
    return {"sqlite_where": NOT_NULL[column], "postgresql_where": NOT_NULL[column]}


def upgrade():
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.drop_index('ix_response_kiosk_device_id')
        batch_op.drop_constraint('uq_response_dossier_hash', type_='unique')
        batch_op.drop_constraint('fk_response_survey_id_survey', type_='foreignkey')
        batch_op.drop_constraint('fk_response_service_point_id_service_point', type_='foreignkey')
    op.create_index('uq_response_dossier_hash', 'response', ['dossier_hash'], unique=True, **_partial('dossier_hash'))
    op.create_index('ix_response_kiosk_device_id', 'response', ['kiosk_device_id'], **_partial('kiosk_device_id'))
    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.drop_constraint('fk_answer_service_point_id_service_point', type_='foreignkey')


def downgrade():
    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.create_foreign_key('fk_answer_service_point_id_service_point', 'service_point',
                                    ['service_point_id'], ['id'], ondelete='RESTRICT')
    op.drop_index('ix_response_kiosk_device_id', table_name='response')
    op.drop_index('uq_response_dossier_hash', table_name='response')
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.create_foreign_key('fk_response_survey_id_survey', 'survey', ['survey_id'], ['id'], ondelete='RESTRICT')
        batch_op.create_foreign_key('fk_response_service_point_id_service_point', 'service_point',
                                    ['service_point_id'], ['id'], ondelete='RESTRICT')
        batch_op.create_unique_constraint('uq_response_dossier_hash', ['dossier_hash'])
        batch_op.create_index('ix_response_kiosk_device_id', ['kiosk_device_id'], unique=False)
