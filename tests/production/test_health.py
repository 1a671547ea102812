"""Health and readiness probes, and 503 (never 500) while the database is down."""
from __future__ import annotations

import socket

import pytest
import sqlalchemy as sa
from flask import jsonify

from surveyapp.extensions import db
from surveyapp.models import Organisation

from .conftest import free_port


def dead_database_uri(backend: str, tmp_path) -> str:
    """A database that cannot be reached: nothing listens on the port / the directory is missing."""
    if backend == "postgres":
        return f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/nothing?connect_timeout=2"
    return f"sqlite:///{tmp_path / 'missing-dir' / 'db.sqlite3'}"


@pytest.fixture
def dead_db_app(make_app, backend, tmp_path):
    """Factory for an app whose database cannot be reached. A healthy app is made first
    because make_app empties the tables through the first app it built."""
    make_app()

    def factory(**config):
        return make_app(SQLALCHEMY_DATABASE_URI=dead_database_uri(backend, tmp_path), **config)

    return factory


def add_probe_routes(app):
    """A page and an API endpoint that read the database, like every real view does."""

    @app.get("/_probe/page")
    def probe_page():
        return str(db.session.scalar(sa.select(sa.func.count()).select_from(Organisation)))

    @app.get("/api/v1/_probe")
    def probe_api():
        return jsonify(n=db.session.scalar(sa.select(sa.func.count()).select_from(Organisation)))


def test_healthz_and_readyz_ok(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json == {"status": "ok"}
    r = client.get("/readyz")
    assert r.status_code == 200
    assert r.json["checks"] == {"database": "ok"}
    assert r.headers["Cache-Control"] == "no-store"


def test_readyz_reports_dead_database_with_retry_after(dead_db_app):
    app = dead_db_app()
    client = app.test_client()
    assert client.get("/healthz").status_code == 200  # the process itself is fine
    r = client.get("/readyz")
    assert r.status_code == 503
    assert r.headers["Retry-After"] == "5"
    assert r.json["checks"]["database"] == "unavailable"
    # Nothing about the driver or the address leaks to whoever probes.
    assert "127.0.0.1" not in r.get_data(as_text=True) and "sqlite" not in r.get_data(as_text=True)


def test_readyz_checks_redis(make_app, redis_url):
    app = make_app(REDIS_URL=redis_url)
    r = app.test_client().get("/readyz")
    assert r.status_code == 200
    assert r.json["checks"] == {"database": "ok", "redis": "ok"}


def test_readyz_redis_down_is_503_with_retry_after(make_app):
    with socket.socket() as s:  # a port where nothing listens: connection refused at once
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = make_app(REDIS_URL=f"redis://127.0.0.1:{port}/0")
    r = app.test_client().get("/readyz")
    assert r.status_code == 503
    assert r.headers["Retry-After"] == "5"
    assert r.json["checks"] == {"database": "ok", "redis": "unavailable"}


def test_database_down_mid_request_is_503_page_not_500(dead_db_app):
    app = dead_db_app(PROPAGATE_EXCEPTIONS=False)
    add_probe_routes(app)
    client = app.test_client()
    r = client.get("/_probe/page")
    assert r.status_code == 503
    assert r.headers["Retry-After"] == "5"
    assert r.mimetype == "text/html"
    assert "Câu trả lời của bạn chưa được lưu" in r.get_data(as_text=True)
    r = client.get("/api/v1/_probe")
    assert r.status_code == 503 and r.headers["Retry-After"] == "5"
    assert r.is_json and r.json["error"]


def test_constraint_violation_is_not_reported_as_outage(make_app):
    """A bug (here a duplicate unique code) is a 500, not a "retry later" that a kiosk would loop on."""
    app = make_app(PROPAGATE_EXCEPTIONS=False)

    @app.post("/api/v1/_dup")
    def dup():
        for _ in range(2):
            db.session.add(Organisation(code="DUP", name="x", sector="administrative"))
            db.session.flush()
        return "unreachable"

    r = app.test_client().post("/api/v1/_dup")
    assert r.status_code == 500
    assert "Retry-After" not in r.headers
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Organisation)) == 0


def test_error_page_survives_a_template_that_needs_the_database(dead_db_app, monkeypatch):
    """If rendering the themed page fails too, the client still gets the 503 and its retry hint."""
    app = dead_db_app(PROPAGATE_EXCEPTIONS=False)
    add_probe_routes(app)
    import surveyapp.errors as errors

    def broken_render(*args, **kwargs):
        raise RuntimeError("template needed the database")

    monkeypatch.setattr(errors, "render_template", broken_render)
    r = app.test_client().get("/_probe/page")
    assert r.status_code == 503 and r.headers["Retry-After"] == "5"
    assert "Hệ thống tạm thời gián đoạn" in r.get_data(as_text=True)


def test_redis_down_does_not_lose_submissions_when_configured_as_documented(make_app, standard):
    """docs/DEPLOY.md: SURVEYAPP_RATELIMIT_SWALLOW_ERRORS=true. With Redis gone, a citizen's
    answer is still stored (rate limits pause) while /readyz reports Redis as down."""
    import time
    from datetime import date

    from surveyapp.citizen.forms import new_key, sign_start
    from surveyapp.models import Response, ServicePoint, Survey

    dead = f"redis://127.0.0.1:{free_port()}/0"
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=dead, REDIS_URL=dead, RATELIMIT_SWALLOW_ERRORS=True,
                   PROPAGATE_EXCEPTIONS=False)
    with app.app_context():
        org = Organisation(code="RD", name="Xã", sector="administrative")
        sp = ServicePoint(organisation=org, name="Quầy")
        survey = Survey(questionnaire=db.session.merge(standard["quick-rating"]), organisation=org, name="S",
                        starts_on=date(2026, 1, 1), status="open", service_points=[sp])
        db.session.add_all([org, sp, survey])
        db.session.commit()
        key = new_key()
        form = {"key": key, "started": sign_start(key, survey.id, int(time.time() * 1000) - 60_000), "q_rating": "v4"}
        code = sp.code
    client = app.test_client()
    r = client.post(f"/s/{code}", data=form)
    assert r.status_code == 303
    r = client.get("/readyz")
    assert r.status_code == 503 and r.json["checks"]["redis"] == "unavailable"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Response)) == 1
