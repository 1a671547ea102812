"""The schema's integrity rules, enforced by the database, and the organisation tree."""
from __future__ import annotations

import uuid
from datetime import date, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from surveyapp.extensions import db
from surveyapp.models import Answer, Organisation, Response, ServicePoint, Survey


def make_survey(standard, family="quick-rating", code="ORG1"):
    org = Organisation(code=code, name="Xã Thử Nghiệm", sector="administrative")
    sp = ServicePoint(organisation=org, name="Quầy 1")
    survey = Survey(questionnaire=standard[family], organisation=org, name="S", starts_on=date(2026, 1, 1),
                    status="open", channel_qr=True, channel_kiosk=True, service_points=[sp])
    db.session.add_all([org, sp, survey])
    db.session.commit()
    return survey, sp


def test_duplicate_idempotency_key_refused_by_database(app_context, standard):
    survey, sp = make_survey(standard)
    key = uuid.uuid4().hex
    db.session.add(Response(survey=survey, service_point=sp, channel="qr", idempotency_key=key))
    db.session.commit()
    db.session.add(Response(survey=survey, service_point=sp, channel="qr", idempotency_key=key))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Response)) == 1


def test_answer_with_option_of_another_question_refused_by_database(app_context, standard):
    survey, sp = make_survey(standard, family="sipas-admin")
    q1, q2 = survey.questionnaire.questions[:2]
    r = Response(survey=survey, service_point=sp, channel="qr", idempotency_key="k1")
    db.session.add(r)
    db.session.flush()
    db.session.add(Answer(response=r, question_id=q1.id, option_id=q2.options[0].id, value=1,
                          service_point_id=sp.id, submitted_at=datetime(2026, 5, 1)))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


@pytest.mark.parametrize("column,value", [("satisfied", 2), ("value", 10**9)])
def test_answer_out_of_range_refused_by_database(app_context, standard, column, value):
    survey, sp = make_survey(standard)
    q = survey.questionnaire.questions[0]
    r = Response(survey=survey, service_point=sp, channel="qr", idempotency_key="k1")
    db.session.add(r)
    db.session.flush()
    row = dict(response_id=r.id, question_id=q.id, option_id=q.options[0].id, value=4, satisfied=1,
               service_point_id=sp.id, submitted_at=datetime(2026, 5, 1))
    row[column] = value
    with pytest.raises(IntegrityError):
        db.session.execute(sa.insert(Answer), [row])
        db.session.commit()
    db.session.rollback()


def test_response_to_service_point_outside_survey_refused_by_database(app_context, standard):
    survey, _sp = make_survey(standard)
    other = ServicePoint(organisation=survey.organisation, name="Quầy khác")
    db.session.add(other)
    db.session.commit()
    db.session.add(Response(survey=survey, service_point=other, channel="qr", idempotency_key="k"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_organisation_tree_any_depth_and_subtree(app_context):
    root = Organisation(code="P", name="Tỉnh", sector="administrative")
    db.session.add(root)
    node = root
    for depth in range(1, 6):
        node = Organisation(code=f"L{depth}", name=f"Cấp {depth}", sector="administrative", parent=node)
        db.session.add(node)
    sibling = Organisation(code="S", name="Xã khác", sector="administrative", parent=root)
    db.session.add(sibling)
    db.session.commit()
    deepest = db.session.scalar(sa.select(Organisation).where(Organisation.code == "L5"))
    assert deepest.depth == 6
    assert deepest.is_within(root) and not deepest.is_within(sibling)
    l2 = db.session.scalar(sa.select(Organisation).where(Organisation.code == "L2"))
    codes = set(db.session.scalars(sa.select(Organisation.code).where(Organisation.path.startswith(l2.path))))
    assert codes == {"L2", "L3", "L4", "L5"}


def test_move_organisation_rewrites_subtree_paths(app_context):
    from surveyapp.models import move_organisation

    a = Organisation(code="A", name="A", sector="administrative")
    b = Organisation(code="B", name="B", sector="administrative")
    child = Organisation(code="C", name="C", sector="administrative", parent=a)
    grandchild = Organisation(code="G", name="G", sector="administrative", parent=child)
    db.session.add_all([a, b, child, grandchild])
    db.session.commit()
    move_organisation(child, b)
    db.session.commit()
    g = db.session.scalar(sa.select(Organisation).where(Organisation.code == "G"))
    assert g.path == f"/{b.id}/{child.id}/{g.id}/"
    with pytest.raises(ValueError):
        move_organisation(b, g)
