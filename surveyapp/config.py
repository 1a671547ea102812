"""Configuration: defaults, then the instance folder, then the environment.

Every setting can be given as ``SURVEYAPP_<NAME>`` (Flask's ``from_prefixed_env``);
``DATABASE_URL``, ``SECRET_KEY``, ``REDIS_URL`` and ``PUBLIC_BASE_URL`` are also read
unprefixed because that is how hosting platforms and operators usually name them.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path


class Defaults:
    # Database: SQLite file in instance/ unless DATABASE_URL says otherwise.
    SQLALCHEMY_DATABASE_URI: str | None = None
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    SQLALCHEMY_RECORD_QUERIES = False

    # Public URL printed in QR codes; None means "the host the request came in on".
    PUBLIC_BASE_URL: str | None = None

    # i18n: Vietnamese first.
    BABEL_DEFAULT_LOCALE = "vi"
    BABEL_DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
    LANGUAGES = ("vi", "en")

    # Forms and sessions.
    WTF_CSRF_TIME_LIMIT = 8 * 3600  # a citizen may leave the form open for a while
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False  # production: true (docs/DEPLOY.md)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SECURE = False
    PERMANENT_SESSION_LIFETIME = 8 * 3600

    # Reverse proxy: how many proxies to trust for each header (0 = none).
    PROXY_FIX_X_FOR = 0
    PROXY_FIX_X_PROTO = 0
    PROXY_FIX_X_HOST = 0
    PROXY_FIX_X_PREFIX = 0

    # Rate limits (Flask-Limiter). Memory by default, Redis when REDIS_URL is set.
    RATELIMIT_ENABLED = True
    RATELIMIT_STORAGE_URI = "memory://"
    # No X-RateLimit-* headers: they cost one more storage round trip per request and citizens'
    # browsers ignore them; a refused client still gets Retry-After.
    RATELIMIT_HEADERS_ENABLED = False
    # If Redis goes down, keep serving citizens (limits fall back to per-server memory)
    # rather than answer 500 and lose their submissions.
    RATELIMIT_SWALLOW_ERRORS = True
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    REDIS_URL: str | None = None

    # Requests larger than this are refused before they are read.
    MAX_CONTENT_LENGTH = 1 * 1024 * 1024

    # E-mail (surveyapp/outbox.py). MAIL_BACKEND "smtp" sends over SMTP; "folder" writes each
    # message as an .eml file into MAIL_FOLDER (None: instance/mail), for the demo.
    MAIL_BACKEND = "smtp"
    MAIL_SERVER = "localhost"
    MAIL_PORT = 25
    MAIL_USE_TLS = False  # STARTTLS on a plain connection
    MAIL_USE_SSL = False  # TLS from the start (port 465)
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_DEFAULT_SENDER = "surveyapp <khaosat@localhost>"
    MAIL_TIMEOUT = 30
    MAIL_FOLDER: str | None = None

    # The outbox: retries double from the base up to the maximum; after the last attempt an
    # item is "failed" until an official sends it again. A worker holds an item for the lease.
    OUTBOX_MAX_ATTEMPTS = 8
    OUTBOX_RETRY_BASE_SECONDS = 30
    OUTBOX_RETRY_MAX_SECONDS = 6 * 3600
    OUTBOX_LEASE_SECONDS = 300
    WEBHOOK_TIMEOUT = 15

    # The worker (surveyapp/jobs): how often the frequent jobs run, and how long a job run may
    # hold its lease before another worker may take it over (a worker that died).
    JOBS_OUTBOX_SECONDS = 30
    JOBS_ALERTS_SECONDS = 60
    JOBS_HELD_SECONDS = 300
    JOBS_LEASE_SECONDS = 1800
    # Alert rules look this far back the first time they run (a new install is not flooded).
    ALERTS_FIRST_LOOKBACK_HOURS = 24

    # Single sign-on with OpenID Connect (surveyapp/auth/sso.py). No issuer: SSO is off.
    # Discovery reads <issuer>/.well-known/openid-configuration.
    OIDC_ISSUER: str | None = None
    OIDC_CLIENT_ID: str | None = None
    OIDC_CLIENT_SECRET: str | None = None
    OIDC_SCOPES = "openid email profile"
    OIDC_USERNAME_CLAIM = "preferred_username"
    OIDC_PROVIDER_NAME = "SSO"  # the sign-in button says "Đăng nhập bằng <name>"
    # Who may still sign in with a local password while SSO is on: "admins" (installation
    # administrators only) or "all".
    OIDC_LOCAL_SIGNIN = "admins"


def load(app, config: dict | None) -> None:
    """Fill ``app.config`` in the documented order of precedence."""
    app.config.from_object(Defaults)
    app.config.from_pyfile("config.py", silent=True)  # instance/config.py
    for name in ("DATABASE_URL", "SECRET_KEY", "REDIS_URL", "PUBLIC_BASE_URL"):
        if os.environ.get(name):
            app.config[name] = os.environ[name]
    app.config.from_prefixed_env("SURVEYAPP")
    if config:
        app.config.update(config)

    if app.config.get("DATABASE_URL") and not (config or {}).get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(app.config["DATABASE_URL"])
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        db_file = Path(app.instance_path) / "surveyapp.sqlite3"
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{db_file}"
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(app.config["SQLALCHEMY_DATABASE_URI"])

    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    opts = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if uri.startswith("postgresql"):
        # Survive a database restart: test connections before handing them out.
        opts.setdefault("pool_pre_ping", True)
    elif uri.startswith("sqlite"):
        # Worker threads share the file; WAL lets readers proceed during a write.
        opts.setdefault("connect_args", {"timeout": 15})
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = opts

    if app.config.get("REDIS_URL") and app.config["RATELIMIT_STORAGE_URI"] == "memory://":
        app.config["RATELIMIT_STORAGE_URI"] = app.config["REDIS_URL"]

    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = instance_secret(app.instance_path)


def normalise_database_url(url: str) -> str:
    """Accept the URLs operators paste (postgres://, postgresql://) and use psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def instance_secret(instance_path: str) -> str:
    """Generate the secret key once into instance/ so restarts keep sessions valid."""
    path = Path(instance_path) / "secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    key = secrets.token_hex(32)
    # O_EXCL: when several workers start at once only one writes, the others read it.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key
