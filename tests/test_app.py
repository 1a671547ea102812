"""The application factory: the SQLite engine's settings and the session cookie's signing key."""
from __future__ import annotations

import pytest

from surveyapp.extensions import db
from surveyapp.paths import REPO_DIR


def test_sqlite_runs_in_wal_mode_with_foreign_keys(database_uris):
    from surveyapp import create_app
    from tests.conftest import base_config

    app = create_app(base_config(database_uris["sqlite"]))
    with app.app_context(), db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    with app.app_context():
        db.engine.dispose()


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


def test_gunicorns_master_compiles_every_page_template_before_forking(make_app):
    """A worker's first request must not compile templates: gunicorn_conf.when_ready does it once."""
    from types import SimpleNamespace

    from surveyapp import gunicorn_conf

    app = make_app()
    assert not any(name == "reports/dashboard.html" for (_loader, name) in app.jinja_env.cache.keys())
    gunicorn_conf.when_ready(SimpleNamespace(app=SimpleNamespace(wsgi=lambda: app)))
    compiled = {name for (_loader, name) in app.jinja_env.cache.keys()}
    pages = {str(p.relative_to(REPO_DIR / "templates")) for p in (REPO_DIR / "templates").rglob("*.html")}
    assert pages and pages <= compiled
