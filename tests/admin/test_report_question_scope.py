"""A question of one unit's private questionnaire is never readable through another unit's
report URL: the drill-down asks that the user may read the questionnaire and that it belongs
to the point in the URL (standard, or its organisation's own or an ancestor's)."""
from __future__ import annotations


def test_private_question_of_another_unit_is_404_through_ones_own_point(app, world, auth):
    a, b = world.a, world.b
    own, foreign = a.questionnaire.questions[0], b.questionnaire.questions[0]
    manager = auth.client_for(a.manager)
    assert manager.get(f"/admin/reports/point/{a.sp.id}/question/{own.id}").status_code == 200
    r = manager.get(f"/admin/reports/point/{a.sp.id}/question/{foreign.id}")
    assert r.status_code == 404


def test_private_question_is_read_only_at_a_point_of_its_organisation(app, world, auth):
    a, b = world.a, world.b
    admin = auth.client_for(world.admin)  # sees both questionnaires
    question = b.questionnaire.questions[0]
    assert admin.get(f"/admin/reports/point/{b.sp.id}/question/{question.id}").status_code == 200
    assert admin.get(f"/admin/reports/point/{a.sp.id}/question/{question.id}").status_code == 404
