"""surveyapp: citizen satisfaction surveys for Vietnamese public services."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Flask

from .paths import PACKAGE_DIR, REPO_DIR, resource_dir
# Before the areas: their views import ``current_language`` from here or from ``i18n``.
from .i18n import current_language, select_locale
from . import assets, cli, config, errors, health, i18n, openapi, ratelimit, security
from .admin import bp as admin_bp
from .auth import bp as auth_bp
from .auth import sso
from .citizen import bp as citizen_bp
from .extensions import csrf, db, limiter, login_manager, migrate
from .kiosk import bp as kiosk_bp
from .public import bp as public_bp
from .dossiers import bp as dossiers_bp
from .reports.api import bp as reports_api_bp
from .text import neutralise_display


def create_app(overrides: dict | None = None) -> Flask:
    """Application factory: ``overrides`` win over every other setting (tests use it)."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(resource_dir("templates")),
        static_folder="static",
    )
    config.load(app, overrides)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(resource_dir("migrations")), render_as_batch=True, compare_type=True)
    i18n.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    ratelimit.init_app(app)
    login_manager.init_app(app)

    with app.app_context():
        _configure_engine(db.engine)

    security.init_app(app)
    assets.init_app(app)

    app.register_blueprint(health.bp)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(citizen_bp)
    app.register_blueprint(kiosk_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(public_bp)
    app.register_blueprint(dossiers_bp)
    app.register_blueprint(reports_api_bp)
    errors.init_app(app)
    cli.init_app(app)
    sso.init_app(app)

    app.add_template_filter(neutralise_display, "neutralise")

    return app


def warm_templates(app: Flask) -> int:
    """Compile every page template now; returns how many. gunicorn's master calls this before it
    forks the workers (``gunicorn_conf.when_ready``), so that no worker's first request after a
    restart pays for compiling the templates it renders."""
    names = app.jinja_env.list_templates(extensions=("html",))
    for name in names:
        app.jinja_env.get_template(name)
    return len(names)


def _configure_engine(engine: sa.Engine) -> None:
    """SQLite: WAL so that readers never wait for the writer, and foreign keys on."""
    if engine.dialect.name != "sqlite":
        return

    @sa.event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_conn, _record):
        cur = dbapi_conn.cursor()
        if engine.url.database and engine.url.database != ":memory:":
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=15000")
        cur.close()


__all__ = ["create_app", "warm_templates", "current_language", "select_locale", "PACKAGE_DIR", "REPO_DIR", "resource_dir"]
