"""cases: complaints followed to a reply, the working-day calendar, per-organisation deadlines

Every comment an official had marked handled (``answer.handled_at``) becomes a closed case of
its response, resolved when it was marked and by whom, so that nothing handled before shows as
open again. ``answer.handled_at`` and ``handled_by_id`` are no longer written; they stay until
the comments views that still read them elsewhere have moved to cases.

Revision ID: 0006_cases
Revises: 0004_core
Create Date: 2026-12-01 20:01:14

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006_cases'
down_revision = '0004_core'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('calendar_day',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('note', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("kind IN ('off', 'working')", name=op.f('ck_calendar_day_kind')),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_calendar_day'))
    )
    op.create_table('case_deadline',
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('working_days', sa.Integer(), nullable=False),
    sa.CheckConstraint('working_days >= 1 AND working_days <= 120', name=op.f('ck_case_deadline_working_days')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_case_deadline_organisation_id_organisation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('organisation_id', name=op.f('pk_case_deadline'))
    )
    op.create_table('feedback_case',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('response_id', sa.Integer(), nullable=False),
    sa.Column('answer_id', sa.Integer(), nullable=True),
    sa.Column('service_point_id', sa.Integer(), nullable=False),
    sa.Column('origin', sa.String(length=10), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('opened_at', sa.DateTime(), nullable=False),
    sa.Column('opened_by_id', sa.Integer(), nullable=True),
    sa.Column('deadline_days', sa.Integer(), nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=False),
    sa.Column('acknowledged_at', sa.DateTime(), nullable=True),
    sa.Column('resolved_at', sa.DateTime(), nullable=True),
    sa.Column('resolved_by_id', sa.Integer(), nullable=True),
    sa.Column('resolution', sa.Text(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("origin IN ('auto', 'manual', 'migrated')", name=op.f('ck_feedback_case_origin')),
    sa.CheckConstraint("state IN ('new', 'acknowledged', 'resolved', 'closed', 'rejected')", name=op.f('ck_feedback_case_state')),
    sa.CheckConstraint("state NOT IN ('resolved', 'closed') OR (resolution IS NOT NULL AND resolved_at IS NOT NULL)", name=op.f('ck_feedback_case_resolved_has_resolution')),
    sa.CheckConstraint('deadline_days >= 0', name=op.f('ck_feedback_case_deadline_days')),
    sa.ForeignKeyConstraint(['answer_id'], ['answer.id'], name=op.f('fk_feedback_case_answer_id_answer'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['assignee_id'], ['user.id'], name=op.f('fk_feedback_case_assignee_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['opened_by_id'], ['user.id'], name=op.f('fk_feedback_case_opened_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['user.id'], name=op.f('fk_feedback_case_resolved_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['response_id'], ['response.id'], name=op.f('fk_feedback_case_response_id_response'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['service_point_id'], ['service_point.id'], name=op.f('fk_feedback_case_service_point_id_service_point'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_case')),
    sa.UniqueConstraint('response_id', name=op.f('uq_feedback_case_response_id'))
    )
    with op.batch_alter_table('feedback_case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_case_assignee_id'), ['assignee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_feedback_case_opened_at'), ['opened_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_feedback_case_service_point_id'), ['service_point_id'], unique=False)
        batch_op.create_index('ix_feedback_case_state_due', ['state', 'due_at'], unique=False)
    migrate_handled_comments()


# What the official wrote before cases existed: only that the comment was handled.
MIGRATED_RESOLUTION = "Đã xử lý (đánh dấu “đã xử lý” trước khi có hồ sơ phản ánh)."
DEFAULT_DEADLINE_DAYS = 5


def migrate_handled_comments():
    """One closed case per response with a handled comment (the first one handled)."""
    from surveyapp.workdays import Calendar

    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT a.id, a.response_id, a.service_point_id, a.handled_at, a.handled_by_id, r.submitted_at "
        "FROM answer a JOIN response r ON r.id = a.response_id "
        "WHERE a.handled_at IS NOT NULL AND a.text IS NOT NULL ORDER BY a.response_id, a.handled_at, a.id"
    )).all()
    calendar = Calendar()  # the override table is new and empty
    case = sa.table("feedback_case", *(sa.column(c) for c in (
        "response_id", "answer_id", "service_point_id", "origin", "state", "opened_at", "deadline_days", "due_at",
        "acknowledged_at", "resolved_at", "resolved_by_id", "resolution", "closed_at", "updated_at")))
    seen, values = set(), []
    for row in rows:
        if row.response_id in seen:
            continue
        seen.add(row.response_id)
        opened, handled = _datetime(row.submitted_at), _datetime(row.handled_at)
        values.append({
            "response_id": row.response_id, "answer_id": row.id, "service_point_id": row.service_point_id,
            "origin": "migrated", "state": "closed", "opened_at": opened, "deadline_days": DEFAULT_DEADLINE_DAYS,
            "due_at": calendar.due_at(opened, DEFAULT_DEADLINE_DAYS), "acknowledged_at": handled,
            "resolved_at": handled, "resolved_by_id": row.handled_by_id, "resolution": MIGRATED_RESOLUTION,
            "closed_at": handled, "updated_at": handled,
        })
    if values:
        op.bulk_insert(case, values)


def _datetime(value):
    """SQLite hands timestamps back as text through a plain SQL statement."""
    from datetime import datetime

    return datetime.fromisoformat(value) if isinstance(value, str) else value


def downgrade():
    with op.batch_alter_table('feedback_case', schema=None) as batch_op:
        batch_op.drop_index('ix_feedback_case_state_due')
        batch_op.drop_index(batch_op.f('ix_feedback_case_service_point_id'))
        batch_op.drop_index(batch_op.f('ix_feedback_case_opened_at'))
        batch_op.drop_index(batch_op.f('ix_feedback_case_assignee_id'))

    op.drop_table('feedback_case')
    op.drop_table('case_deadline')
    op.drop_table('calendar_day')
