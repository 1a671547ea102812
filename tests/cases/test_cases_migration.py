"""Migration 0006_cases: a comment marked handled before cases existed becomes a closed case,
resolved when and by whom it was marked, so it does not show as open again."""
from __future__ import annotations

from datetime import date, datetime

import pytest
import sqlalchemy as sa

from surveyapp import create_app
from surveyapp.extensions import db
from tests.conftest import base_config, create_pg_schema, drop_pg_schema


BEFORE_CASES = "0004_core"


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'cases.sqlite3'}"
    else:
        schema, url = create_pg_schema("mig_cases")
        yield url
        drop_pg_schema(schema)


def test_upgrade_turns_handled_comments_into_closed_cases(empty_database):
    from flask_migrate import downgrade, upgrade

    from case_helpers import make_user
    from surveyapp.models import Answer, Case, Organisation, Response, ServicePoint, Survey
    from surveyapp.seed import seed_standard

    app = create_app(base_config(empty_database))
    with app.app_context():
        directory = app.extensions["migrate"].directory
        # Seeded through today's models (at the head), then taken down to the revision before
        # cases with the handled comments kept, and up again.
        upgrade(directory=directory)
        q = seed_standard()["sipas-admin"]
        org = Organisation(code="XA", name="Xã Một", sector="administrative")
        sp = ServicePoint(organisation=org, name="Một cửa")
        survey = Survey(questionnaire=q, organisation=org, name="S", starts_on=date(2025, 1, 1), status="open",
                        service_points=[sp])
        official = make_user("ql", "manager", org)
        db.session.add_all([org, sp, survey])
        db.session.flush()
        text_q = next(x for x in q.questions if x.type == "text")
        answers = []
        for i, handled in enumerate((datetime(2026, 3, 4, 2), None)):
            r = Response(survey=survey, service_point=sp, channel="qr", idempotency_key=f"k{i}",
                         submitted_at=datetime(2026, 3, 2, 2))
            db.session.add(r)
            db.session.flush()
            answer = Answer(response=r, question_id=text_q.id, text=f"Góp ý {i}", service_point_id=sp.id,
                            submitted_at=r.submitted_at, handled_at=handled, handled_by_id=official.id if handled else None)
            db.session.add(answer)
            answers.append(answer)
        db.session.commit()
        handled_id, open_id, official_id = answers[0].id, answers[1].id, official.id
        db.session.remove()
        downgrade(directory=directory, revision=BEFORE_CASES)
        assert "feedback_case" not in sa.inspect(db.engine).get_table_names()
        db.session.remove()

        upgrade(directory=directory)
        cases = db.session.scalars(sa.select(Case)).all()
        assert len(cases) == 1
        [case] = cases
        assert (case.answer_id, case.state, case.origin) == (handled_id, "closed", "migrated")
        assert case.resolved_at == case.closed_at == datetime(2026, 3, 4, 2)
        assert case.resolved_by_id == official_id and case.resolution
        # Opened on Monday 2/3 (local), 5 working days: resolved on time.
        assert case.due_at == datetime(2026, 3, 9, 17)
        assert db.session.get(Answer, open_id) is not None
        db.session.remove()
        downgrade(directory=directory, revision=BEFORE_CASES)
        assert "feedback_case" not in sa.inspect(db.engine).get_table_names()
        db.session.remove()
        db.engine.dispose()
