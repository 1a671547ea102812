"""The demo province's answers are correlated within a respondent, as real surveys' are."""
from __future__ import annotations

from datetime import date

import numpy as np
import sqlalchemy as sa

import analysis
from surveyapp.extensions import db
from surveyapp.models import Answer, Aspect, Question, Questionnaire, Response


def _sipas_answers():
    """(values, satisfied, answered, aspects, service point) for the SIPAS respondents of one point."""
    rows = db.session.execute(
        sa.select(Response.service_point_id, Answer.response_id, Question.id, Aspect.code, Answer.value,
                  Answer.satisfied)
        .join(Question, Question.id == Answer.question_id)
        .join(Questionnaire, Questionnaire.id == Question.questionnaire_id)
        .join(Aspect, Aspect.id == Question.aspect_id)
        .join(Response, Response.id == Answer.response_id)
        .where(Questionnaire.family == "sipas-admin", Question.counts_in_index, Answer.satisfied.is_not(None))
    ).all()
    # The busiest point: one unit, so the correlation is not that of differences between units.
    points, counts = np.unique([r[0] for r in rows], return_counts=True)
    busiest = points[np.argmax(counts)]
    rows = [r for r in rows if r[0] == busiest]
    respondents = {rid: i for i, rid in enumerate(sorted({r[1] for r in rows}))}
    questions = sorted({r[2] for r in rows})
    col = {q: j for j, q in enumerate(questions)}
    aspect_of = {r[2]: r[3] for r in rows}
    values = np.full((len(respondents), len(questions)), np.nan)
    satisfied = np.zeros_like(values)
    for _sp, rid, qid, _a, value, sat in rows:
        values[respondents[rid], col[qid]] = value
        satisfied[respondents[rid], col[qid]] = sat
    answered = (~np.isnan(values)).astype(float)
    return values, satisfied, answered, [aspect_of[q] for q in questions]


def test_demo_respondents_answer_consistently(app_context):
    from surveyapp.seed import seed_demo

    seed_demo(seed=3, n_responses=2500, today=date(2026, 11, 21))
    values, satisfied, answered, aspects = _sipas_answers()
    assert len(values) > 100
    # Mean correlation of two items' answers of one respondent: real scales are far from independent.
    cors = []
    for j in range(values.shape[1]):
        for k in range(j + 1, values.shape[1]):
            both = ~np.isnan(values[:, j]) & ~np.isnan(values[:, k])
            cors.append(np.corrcoef(values[both, j], values[both, k])[0, 1])
    assert 0.45 < np.mean(cors) < 0.8
    # So the composite's interval is several times wider in variance than independent answers suggest.
    est = analysis.composite_index(satisfied, answered, aspects)
    assert est.deff > 3.5
