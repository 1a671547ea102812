"""surveyapp: citizen satisfaction surveys for Vietnamese public services."""
from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent


def resource_dir(name: str) -> Path:
    """templates/ and migrations/ sit at the top of the repository; an installed wheel
    carries them inside the package instead (see setup.cfg)."""
    packaged = PACKAGE_DIR / name
    return packaged if packaged.is_dir() else REPO_DIR / name


class SurveyApp(Flask):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._sync: dict = {}

    def ensure_sync(self, func):
        """Flask asks ``inspect.iscoroutinefunction`` of every hook and view on every request
        (thirteen times for a survey submission); the answer for a function never changes.
        (Bounded: ``after_this_request`` passes a new function each time.)"""
        sync = self._sync.get(func)
        if sync is None:
            if len(self._sync) >= 1024:
                self._sync.clear()
            sync = self._sync[func] = super().ensure_sync(func)
        return sync


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the signing serializer built once per set of keys
    instead of on every request (building one test-serialises a value: a fifth of the cost of
    opening a session)."""

    def __init__(self):
        self._serializers: dict = {}

    def get_signing_serializer(self, app: Flask):
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        serializer = self._serializers.get(keys)
        if serializer is None:
            self._serializers.clear()  # the keys changed (rotation): the old serializer is not needed
            serializer = self._serializers[keys] = super().get_signing_serializer(app)
        return serializer


def create_app(config: dict | None = None) -> Flask:
    """Application factory: ``config`` overrides everything else (tests use it)."""
    app = SurveyApp(
        __name__,
        instance_relative_config=True,
        template_folder=str(resource_dir("templates")),
        static_folder="static",
    )
    from . import config as config_module

    config_module.load(app, config)
    app.session_interface = CookieSessions()

    from . import ratelimit
    from .extensions import babel, csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(resource_dir("migrations")), render_as_batch=True, compare_type=True)
    babel.init_app(app, locale_selector=select_locale)
    csrf.init_app(app)
    limiter.init_app(app)
    ratelimit.init_app(app)
    login_manager.init_app(app)

    with app.app_context():
        _configure_engine(db.engine)

    from . import security

    security.init_app(app)

    from . import cli, errors, health
    from .admin import bp as admin_bp
    from .auth import bp as auth_bp
    from .citizen import bp as citizen_bp
    from .kiosk import bp as kiosk_bp

    app.register_blueprint(health.bp)
    app.register_blueprint(citizen_bp)
    app.register_blueprint(kiosk_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(admin_bp)
    errors.init_app(app)
    cli.init_app(app)
    from .auth import sso

    sso.init_app(app)

    @app.context_processor
    def inject_locale():
        return {"lang": current_language(), "languages": app.config["LANGUAGES"]}

    @app.after_request
    def remember_language(response):
        chosen = request.args.get("lang")
        if chosen in app.config["LANGUAGES"]:
            response.set_cookie("lang", chosen, max_age=365 * 86400, samesite="Lax", httponly=True)
        return response

    return app


def select_locale() -> str:
    """?lang= first (the visible switch), then the cookie it sets, then the browser; Vietnamese by default."""
    from flask import current_app

    languages = current_app.config["LANGUAGES"]
    for candidate in (request.args.get("lang"), request.cookies.get("lang")):
        if candidate in languages:
            return candidate
    return request.accept_languages.best_match(languages, default=current_app.config["BABEL_DEFAULT_LOCALE"])


def current_language() -> str:
    """The language of the current request; "vi" outside a request (CLI)."""
    # Not cached on g: an app context can outlive one request (tests, CLI), the language must not.
    try:
        return select_locale()
    except RuntimeError:
        return "vi"


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
