"""The seeds: the standard questionnaires and targets, and the demo province."""
from __future__ import annotations

import uuid
from datetime import date

import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.models import Response, Survey


def test_standard_questionnaires_are_well_formed(app_context, standard):
    assert set(standard) == {"sipas-admin", "quick-rating", "health-outpatient", "health-inpatient", "education-parents"}
    for family, q in standard.items():
        assert q.title_vi and q.title_en
        positions = [x.position for x in q.questions]
        assert positions == sorted(set(positions)), family
        for question in q.questions:
            assert question.text_vi.strip() and question.text_en.strip(), question.code
            if question.type in ("rating", "choice", "yesno"):
                assert question.options, question.code
                for o in question.options:
                    assert o.label_vi and o.label_en
            if question.type == "rating" and question.counts_in_index:
                assert any(o.is_satisfied for o in question.options)
                assert any(not o.is_satisfied and not o.is_no_opinion for o in question.options)
                assert question.aspect is not None or family == "quick-rating"
        if q.indicator == "composite" or q.indicator == "overall_rate":
            assert len(q.aspects) >= 5
            for a in q.aspects:
                assert a.questions and all(x.counts_in_index for x in a.questions)
    sipas = standard["sipas-admin"]
    assert [a.title_vi for a in sipas.aspects] == [
        "Tiếp cận dịch vụ", "Thủ tục hành chính", "Công chức giải quyết công việc", "Kết quả giải quyết",
        "Tiếp nhận, xử lý góp ý, phản ánh, kiến nghị"]
    # 5-point scale: 4 and 5 satisfied; "no opinion" in no denominator.
    item = sipas.aspects[0].questions[0]
    assert {o.value for o in item.options if o.is_satisfied} == {4, 5}
    assert [o.code for o in item.options if o.is_no_opinion] == ["na"]
    quick = standard["quick-rating"].questions[0]
    assert quick.text_vi == "Ông/Bà có hài lòng với sự phục vụ hôm nay không?"
    assert [(o.value, o.label_vi, o.is_satisfied) for o in quick.options] == [
        (4, "Rất hài lòng", True), (3, "Hài lòng", True), (2, "Chưa hài lòng", False), (1, "Không hài lòng", False)]


def test_default_targets_of_resolution_76(app_context, standard):
    from surveyapp.models import Target

    rows = {(t.indicator, t.sector, t.valid_from.year): (t.value, t.operator)
            for t in db.session.scalars(sa.select(Target))}
    assert rows[("composite", "administrative", 2021)] == (0.90, ">")
    assert rows[("composite", "administrative", 2026)] == (0.95, ">")
    assert rows[("overall_rate", "health", 2021)] == (0.85, ">=")
    assert rows[("composite", "education", 2026)] == (0.90, ">=")


def test_seed_standard_is_idempotent(app_context, standard):
    from surveyapp.seed import seed_standard
    from surveyapp.models import Questionnaire

    seed_standard()
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Questionnaire)) == 5


def _fingerprint():
    """Everything the demo seed wrote, minus surrogate ids and timestamps of creation."""
    rows = db.session.execute(sa.text(
        "SELECT sp.code, r.channel, r.submitted_at, q.code, a.value, a.satisfied, a.text "
        "FROM answer a JOIN response r ON r.id = a.response_id JOIN question q ON q.id = a.question_id "
        "JOIN service_point sp ON sp.id = a.service_point_id ORDER BY r.id, q.position")).all()
    return [tuple(str(x) for x in row) for row in rows]


def test_demo_seed_is_deterministic(app_context):
    from surveyapp.seed import seed_demo
    from tests.conftest import empty_all_tables

    today = date(2026, 11, 21)
    first = seed_demo(seed=11, n_responses=300, today=today)
    a = _fingerprint()
    empty_all_tables()
    second = seed_demo(seed=11, n_responses=300, today=today)
    assert first == second and first["responses"] >= 290
    assert a == _fingerprint()
    empty_all_tables()
    seed_demo(seed=12, n_responses=300, today=today)
    assert a != _fingerprint()


def test_demo_seed_has_units_above_and_below_target(app_context):
    from surveyapp.seed import seed_demo

    seed_demo(seed=3, n_responses=3000, today=date(2026, 11, 21))
    shares = dict(db.session.execute(sa.text(
        "SELECT sp.name, AVG(CAST(a.satisfied AS FLOAT)) FROM answer a JOIN service_point sp ON sp.id = a.service_point_id "
        "JOIN question q ON q.id = a.question_id WHERE q.counts_in_index GROUP BY sp.name")).all())
    assert len(shares) == 12
    assert max(shares.values()) > 0.9 and min(shares.values()) < 0.8
    months = db.session.scalar(sa.text(
        "SELECT COUNT(DISTINCT strftime('%Y-%m', submitted_at)) FROM response") if db.engine.dialect.name == "sqlite"
        else sa.text("SELECT COUNT(DISTINCT to_char(submitted_at, 'YYYY-MM')) FROM response"))
    assert months == 12


def test_demo_seed_leaves_room_for_new_responses(app_context):
    """The demo rows use explicit ids; a real submission afterwards must still get a fresh id."""
    from surveyapp.seed import seed_demo

    seed_demo(seed=5, n_responses=200, today=date(2026, 11, 21))
    survey = db.session.scalar(sa.select(Survey).where(Survey.status == "open"))
    sp = survey.service_points[0]
    db.session.add(Response(survey=survey, service_point=sp, channel="qr", idempotency_key=uuid.uuid4().hex))
    db.session.commit()
