"""The per-process cache of questionnaire structure on the submission path
(``surveyapp.citizen.structure``): an unfrozen version edited in place by an official is seen
by the next submission; a frozen version is served from the cache (no questionnaire queries)."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from surveyapp.citizen import responses as responses_mod
from surveyapp.citizen import structure
from surveyapp.extensions import db
from surveyapp.models import Option, Question, Questionnaire, Survey

from .conftest import form_start, responses


def own_questionnaire(place) -> Survey:
    """A unit's own questionnaire (not standard, no responses yet: editable in place), deployed on the desk."""
    q = Questionnaire(family="own-cache-test", version=1, title_vi="Phiếu riêng", title_en="Own form",
                      sector="administrative", indicator="overall_rate", organisation_id=place.province.id)
    q.questions.append(Question(
        position=1, code="svc", type="choice", text_vi="Dịch vụ nào?", text_en="Which service?", required=True,
        options=[Option(position=1, code="a", label_vi="A", label_en="A", value=1, is_satisfied=True),
                 Option(position=2, code="b", label_vi="B", label_en="B", value=2)],
    ))
    survey = Survey(questionnaire=q, organisation=place.province, name="Phiếu riêng", starts_on=date(2026, 1, 1),
                    status="open", channel_qr=True, service_points=[place.desk])
    db.session.add_all([q, survey])
    db.session.commit()
    return survey


def post(client, place, survey, key, answer):
    fields = form_start(client.application, survey.id, key=key) | {"q_svc": answer}
    return client.post(f"/s/{place.desk.code}", data=fields)


def post_ids(client, code: str, survey_id: int, key: str, answer: str):
    """``post`` without touching ORM objects (which a commit expires): only the request's own statements run."""
    fields = form_start(client.application, survey_id, key=key) | {"q_svc": answer}
    return client.post(f"/s/{code}", data=fields)


def test_edit_of_unfrozen_questionnaire_is_seen_by_the_next_submission(client, place):
    structure.clear_cache()
    survey = own_questionnaire(place)
    # Option "c" does not exist yet: refused, nothing stored, the version stays unfrozen.
    assert post(client, place, survey, "a" * 32, "c").status_code == 422
    assert responses() == []

    # An official edits the unfrozen version in place (the admin pages do so while it has no responses).
    option = db.session.scalar(sa.select(Option).where(Option.code == "b", Option.question_id == survey.questionnaire.questions[0].id))
    option.code = "c"
    db.session.commit()
    assert not survey.questionnaire.is_frozen()

    assert post(client, place, survey, "b" * 32, "c").status_code == 303
    stored = responses()
    assert len(stored) == 1 and stored[0].answers[0].option_id == option.id
    # The old code is gone for good.
    assert post(client, place, survey, "c" * 32, "b").status_code == 422


def test_frozen_questionnaire_is_served_from_the_cache(client, place):
    structure.clear_cache()
    survey = own_questionnaire(place)
    assert post(client, place, survey, "a" * 32, "a").status_code == 303  # first response: now frozen
    assert post(client, place, survey, "b" * 32, "b").status_code == 303  # read once more, then cached

    code, survey_id = place.desk.code, survey.id
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert post_ids(client, code, survey_id, "c" * 32, "a").status_code == 303
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    # The service point's open surveys were read by the previous POST and are kept for a few
    # seconds; the structure is cached: only the inserts run. PostgreSQL stores the response
    # and its answers in one statement, SQLite in two.
    assert all(s.lstrip().upper().startswith(("INSERT", "WITH")) for s in statements), statements
    assert len(statements) == (1 if db.engine.dialect.name == "postgresql" else 2), statements
    assert [len(r.answers) for r in responses()] == [1, 1, 1]


def test_open_surveys_are_kept_briefly_and_forgotten_on_change(client, place, monkeypatch):
    """What a submission reads about its service point is cached per process for
    SUBMIT_TARGETS_TTL seconds; a change made through this process is seen at once, a change
    made elsewhere (another server: here a Core update the session does not see) within the TTL."""
    clock = [1000.0]
    monkeypatch.setattr(responses_mod, "_clock", lambda: clock[0])
    responses_mod.forget_targets()
    client.application.config["SUBMIT_TARGETS_TTL"] = 5
    survey = own_questionnaire(place)
    code, survey_id = place.desk.code, survey.id
    assert post_ids(client, code, survey_id, "a" * 32, "a").status_code == 303

    # An official closes the survey in this process: the next submission is refused at once.
    db.session.get(Survey, survey_id).status = "closed"
    db.session.commit()
    assert post_ids(client, code, survey_id, "b" * 32, "a").status_code == 410

    # Reopened behind this process's back: still refused until the entry expires, then taken.
    db.session.execute(sa.update(Survey).where(Survey.id == survey_id).values(status="open"))
    db.session.commit()
    clock[0] += 4.9
    assert post_ids(client, code, survey_id, "c" * 32, "a").status_code == 410
    clock[0] += 0.2
    assert post_ids(client, code, survey_id, "d" * 32, "a").status_code == 303
    assert len(responses()) == 2


def test_cached_structure_expires(client, place, monkeypatch):
    """Even a cached (frozen) version is read again after ``TTL_SECONDS``."""
    structure.clear_cache()
    survey = own_questionnaire(place)
    assert post(client, place, survey, "a" * 32, "a").status_code == 303
    assert post(client, place, survey, "b" * 32, "a").status_code == 303  # now cached
    code, survey_id = place.desk.code, survey.id
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    now = structure._clock()
    monkeypatch.setattr(structure, "_clock", lambda: now + structure.TTL_SECONDS + 1)
    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert post_ids(client, code, survey_id, "c" * 32, "a").status_code == 303
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    assert any("FROM question" in s for s in statements), statements
