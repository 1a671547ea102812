"""The foundation: schema, constraints, seeds, configuration."""
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


def test_duplicate_idempotency_key_refused_by_database(app, standard):
    survey, sp = make_survey(standard)
    key = uuid.uuid4().hex
    db.session.add(Response(survey=survey, service_point=sp, channel="qr", idempotency_key=key))
    db.session.commit()
    db.session.add(Response(survey=survey, service_point=sp, channel="qr", idempotency_key=key))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Response)) == 1


def test_answer_with_option_of_another_question_refused_by_database(app, standard):
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
def test_answer_out_of_range_refused_by_database(app, standard, column, value):
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


def test_response_to_service_point_outside_survey_refused_by_database(app, standard):
    survey, _sp = make_survey(standard)
    other = ServicePoint(organisation=survey.organisation, name="Quầy khác")
    db.session.add(other)
    db.session.commit()
    db.session.add(Response(survey=survey, service_point=other, channel="qr", idempotency_key="k"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_organisation_tree_any_depth_and_subtree(app):
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


def test_move_organisation_rewrites_subtree_paths(app):
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


def test_standard_questionnaires_are_well_formed(app, standard):
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


def test_default_targets_of_resolution_76(app, standard):
    from surveyapp.models import Target

    rows = {(t.indicator, t.sector, t.valid_from.year): (t.value, t.operator)
            for t in db.session.scalars(sa.select(Target))}
    assert rows[("composite", "administrative", 2021)] == (0.90, ">")
    assert rows[("composite", "administrative", 2026)] == (0.95, ">")
    assert rows[("overall_rate", "health", 2021)] == (0.85, ">=")
    assert rows[("composite", "education", 2026)] == (0.90, ">=")


def test_seed_standard_is_idempotent(app, standard):
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


def test_demo_seed_is_deterministic(app):
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


def test_demo_seed_has_units_above_and_below_target(app):
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


def test_secret_key_generated_once_into_instance(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("SURVEYAPP_SECRET_KEY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)

    def build():
        from flask import Flask

        import surveyapp.config as config

        app = Flask("x", instance_path=str(tmp_path / "instance"))
        config.load(app, None)
        return app

    a, b = build(), build()
    assert len(a.config["SECRET_KEY"]) == 64
    assert a.config["SECRET_KEY"] == b.config["SECRET_KEY"]
    assert (tmp_path / "instance" / "secret_key").stat().st_mode & 0o077 == 0
    assert a.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'instance' / 'surveyapp.sqlite3'}"


def test_prefixed_environment_settings(tmp_path, monkeypatch):
    from flask import Flask

    import surveyapp.config as config

    monkeypatch.setenv("SURVEYAPP_RATELIMIT_ENABLED", "false")
    monkeypatch.setenv("SURVEYAPP_PROXY_FIX_X_FOR", "1")
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db.internal:5432/survey")
    monkeypatch.setenv("SECRET_KEY", "from-env")
    app = Flask("x", instance_path=str(tmp_path))
    config.load(app, None)
    assert app.config["RATELIMIT_ENABLED"] is False
    assert app.config["PROXY_FIX_X_FOR"] == 1
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@db.internal:5432/survey"
    assert app.config["SECRET_KEY"] == "from-env"


def test_sqlite_runs_in_wal_mode_with_foreign_keys(database_uris):
    from surveyapp import create_app
    from tests.conftest import base_config

    app = create_app(base_config(database_uris["sqlite"]))
    with app.app_context(), db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    with app.app_context():
        db.engine.dispose()


def test_health_endpoints(client):
    assert client.get("/healthz").json == {"status": "ok"}
    r = client.get("/readyz")
    assert r.status_code == 200 and r.json["checks"]["database"] == "ok"


def test_unknown_page_is_vietnamese_404(client):
    r = client.get("/khong-co-trang-nay")
    assert r.status_code == 404
    assert "Không tìm thấy trang" in r.get_data(as_text=True)


def test_demo_seed_leaves_room_for_new_responses(app):
    """The demo rows use explicit ids; a real submission afterwards must still get a fresh id."""
    from surveyapp.seed import seed_demo

    seed_demo(seed=5, n_responses=200, today=date(2026, 11, 21))
    survey = db.session.scalar(sa.select(Survey).where(Survey.status == "open"))
    sp = survey.service_points[0]
    db.session.add(Response(survey=survey, service_point=sp, channel="qr", idempotency_key=uuid.uuid4().hex))
    db.session.commit()


def test_site_root_leads_to_the_workspace_sign_in(client):
    r = client.get("/")
    assert r.status_code == 302 and r.headers["Location"].endswith("/admin/")
    assert "/login" in client.get("/admin/").headers["Location"]


def test_session_cookies_follow_a_rotated_secret_key(app):
    """Sessions keep their signing serializer between requests; rotating SECRET_KEY must still
    take effect at once: a cookie signed with the old key is refused, unless the old key is
    listed in SECRET_KEY_FALLBACKS."""
    from itsdangerous import BadSignature

    sessions = app.session_interface
    cookie = sessions.get_signing_serializer(app).dumps({"csrf_token": "abc"})
    assert sessions.get_signing_serializer(app).loads(cookie) == {"csrf_token": "abc"}
    old = app.secret_key
    app.config["SECRET_KEY"] = "rotated-" + "k" * 40
    with pytest.raises(BadSignature):
        sessions.get_signing_serializer(app).loads(cookie)
    app.config["SECRET_KEY_FALLBACKS"] = [old]
    assert sessions.get_signing_serializer(app).loads(cookie) == {"csrf_token": "abc"}
    client = app.test_client()  # and a whole request still opens and saves sessions
    assert client.get("/healthz").status_code == 200
