"""Configuration: defaults, then the instance folder, then the environment.

Every setting can be given as ``SURVEYAPP_<NAME>`` (Flask's ``from_prefixed_env``);
``DATABASE_URL``, ``SECRET_KEY``, ``REDIS_URL`` and ``PUBLIC_BASE_URL`` are also read
unprefixed because that is how hosting platforms and operators usually name them.
"""
from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url


class Defaults:
    """Every setting of surveyapp with its default: the one place to look them up.
    ``docs/DEPLOY.md`` lists each of them (tests/test_config.py checks both ways)."""

    # Database: SQLite file in instance/ unless DATABASE_URL says otherwise.
    DATABASE_URL: str | None = None  # what hosting platforms call it; becomes SQLALCHEMY_DATABASE_URI
    SQLALCHEMY_DATABASE_URI: str | None = None
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}  # per worker; pool_pre_ping is added for PostgreSQL
    SQLALCHEMY_RECORD_QUERIES = False  # recording every query costs time on each request

    # Signing key; None: generated once into instance/secret_key (one server only).
    SECRET_KEY: str | None = None
    # Public URL printed in QR codes; None means "the host the request came in on".
    PUBLIC_BASE_URL: str | None = None
    # Host names the app answers to (Flask's TRUSTED_HOSTS): any other Host header gets 400, so
    # that a forged one never reaches a QR image, the OpenAPI servers or a link. None: the
    # loopback names (``make demo``) plus PUBLIC_BASE_URL's host; [] would trust every host.
    TRUSTED_HOSTS: list | None = None

    # i18n: Vietnamese first.
    BABEL_DEFAULT_LOCALE = "vi"
    BABEL_DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"  # survey dates are local dates in this zone
    LANGUAGES = ("vi", "en")

    # Forms and sessions.
    WTF_CSRF_ENABLED = True  # every form; tests turn it off
    WTF_CSRF_FIELD_NAME = "csrf_token"  # Flask-WTF's name, read by privacy.browser_fingerprint too
    WTF_CSRF_TIME_LIMIT = 8 * 3600  # a citizen may leave the form open for a while
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False  # production: true (docs/DEPLOY.md)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SECURE = False
    PERMANENT_SESSION_LIFETIME = 8 * 3600  # one working day

    # Reverse proxy: how many proxies to trust for each header (0 = none).
    PROXY_FIX_X_FOR = 0
    PROXY_FIX_X_PROTO = 0
    PROXY_FIX_X_HOST = 0
    PROXY_FIX_X_PREFIX = 0

    # Rate limits (Flask-Limiter). Memory by default, Redis when REDIS_URL is set.
    RATELIMIT_ENABLED = True
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_STORAGE_OPTIONS: dict = {}  # passed to the limits storage (e.g. socket timeouts)
    # No X-RateLimit-* headers: they cost one more storage round trip per request and citizens'
    # browsers ignore them; a refused client still gets Retry-After.
    RATELIMIT_HEADERS_ENABLED = False
    # If Redis goes down, keep serving citizens (limits fall back to per-server memory)
    # rather than answer 500 and lose their submissions.
    RATELIMIT_SWALLOW_ERRORS = True
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    REDIS_URL: str | None = None

    # Sign-in (auth/throttle.py, docs/RELIABILITY.md): failed sign-ins per address, the lock
    # of one account from one address, and the guard of an account failing from many.
    LOGIN_RATE_LIMIT = "20 per 10 minutes"
    MAX_FAILED_LOGINS = 5
    LOGIN_LOCK_MINUTES = 15
    LOGIN_ACCOUNT_GUARD_FAILURES = 10
    # Requests with a wrong X-API-Key, per address, over every keyed endpoint (auth/apikeys.py).
    API_BAD_KEY_RATE_LIMIT = "10 per minute"

    # Cases: the deadline in working days when an organisation and its ancestors set none.
    CASE_DEADLINE_WORKING_DAYS = 5

    # Personal data (docs/PRIVACY.md, surveyapp/retention.py). Contacts are erased this many
    # days after the response, or as soon as its case is closed; comments keep only their
    # masked text after this many months; raw responses older than this many years are deleted
    # once the report rollups cover their months (None keeps them).
    RETENTION_CONTACT_DAYS = 90
    RETENTION_COMMENT_MONTHS = 12
    RETENTION_RAW_YEARS: int | None = None
    # Roles that see comments on health services unmasked (sensitive data under Decree 13/2023).
    SENSITIVE_COMMENT_ROLES: tuple[str, ...] = ("admin",)

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

    # Citizen submissions (limits syntax): stored responses per browser (address, user agent
    # and session), per address (phones behind one Wi-Fi share it) and per service point.
    SUBMIT_RATE_LIMIT_CLIENT = "10 per hour"
    SUBMIT_RATE_LIMIT_ADDRESS = "200 per hour"
    SUBMIT_RATE_LIMIT_POINT = "600 per hour"
    # Minimum plausible completion time in seconds: faster responses are stored flagged "too_fast".
    SUBMIT_MIN_SECONDS_QUICK = 3
    SUBMIT_MIN_SECONDS = 15
    # Seconds a process keeps a service point's open surveys for submissions (0: re-read each time).
    SUBMIT_TARGETS_TTL = 5

    # Dossier tokens: API keys (comma-separated sha256 hex digests, or plain keys), lifetime, batch size.
    DOSSIER_API_KEYS = ""  # none: the dossier-token API is closed
    DOSSIER_TOKEN_MAX_AGE_DAYS = 90  # a receipt is rated within weeks, not years
    DOSSIER_API_MAX_ITEMS = 500  # tokens per API call
    DOSSIER_API_RATE_LIMIT = "120 per minute"  # per API key
    # The report API (GET /api/v1/reports): calls per key; each computes a whole report.
    REPORT_API_RATE_LIMIT = "60 per minute"

    # Days an imported official's invitation link (to set a first password) stays valid.
    INVITATION_MAX_AGE_DAYS = 7

    # Cache lifetime of versioned static files (the URL changes whenever the file does).
    STATIC_MAX_AGE = 365 * 86400

    # Kiosk tablets (kiosk/ratings.py; the bounds are reasoned in docs/RELIABILITY.md).
    KIOSK_ENROL_CODE_DAYS = 7  # an enrolment code is typed in within days of being issued
    KIOSK_ENROL_RATE_LIMIT = "10 per minute"  # per address: codes cannot be guessed by brute force
    KIOSK_RATE_LIMIT = "600 per minute"  # per device token: a week's queue arrives in a few calls
    KIOSK_BATCH_LIMIT = 1000  # ratings per request
    # What one tablet can physically collect: a tap and its thank-you screen take about six
    # seconds, and nobody keeps a queue filing past it at more than one every eight seconds
    # for an hour. More ratings claimed in the window are stored flagged "burst".
    KIOSK_BURST_WINDOW_SECONDS = 60
    KIOSK_BURST_MAX = 10
    KIOSK_HOURLY_MAX = 450
    # Tablet time ahead of the server by more than this, or older than the offline horizon,
    # is a wrong clock (flag "clock_skew").
    KIOSK_CLOCK_FUTURE_MINUTES = 10
    KIOSK_OFFLINE_HORIZON_DAYS = 30
    # Slack for a tablet's clock and the network when a claimed time is set against what the
    # server saw (enrolment, a report of an empty queue); beyond it the rating is "implausible".
    KIOSK_CLOCK_GRACE_MINUTES = 10

    # Reports read precomputed rollups of complete months and days (False: raw answers only).
    REPORT_ROLLUPS = True
    # The symbol after the number of a filed báo cáo ("Số: 12/BC-UBND"), Decree 30 Appendix VI.
    REPORT_NUMBER_SYMBOL = "BC-UBND"

    # The public page of a published organisation (/p/<code>): a unit with fewer responses in
    # the period is shown as "not enough responses"; the licence of its open data; how long a
    # rendered page is reused (and may be cached by browsers and proxies), in seconds.
    PUBLIC_MIN_RESPONSES = 30
    PUBLIC_DATA_LICENCE = "CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/)"
    PUBLIC_CACHE_SECONDS = 300

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


def settings() -> dict:
    """The settings of ``Defaults`` by name."""
    return {name: getattr(Defaults, name) for name in vars(Defaults) if name.isupper()}


LOOPBACK_HOSTS = ("localhost", "127.0.0.1")


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

    if app.config["DATABASE_URL"] and not (config or {}).get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(app.config["DATABASE_URL"])
    if not app.config["SQLALCHEMY_DATABASE_URI"]:
        db_file = private_dir(app.instance_path) / "surveyapp.sqlite3"
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{db_file}"
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(app.config["SQLALCHEMY_DATABASE_URI"])

    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    opts = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"] or {})
    if uri.startswith("postgresql"):
        # Survive a database restart: test connections before handing them out.
        opts.setdefault("pool_pre_ping", True)
    elif uri.startswith("sqlite"):
        # Worker threads share the file; WAL lets readers proceed during a write.
        opts.setdefault("connect_args", {"timeout": 15})
        create_private_sqlite_file(uri)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = opts

    if app.config["REDIS_URL"] and app.config["RATELIMIT_STORAGE_URI"] == "memory://":
        app.config["RATELIMIT_STORAGE_URI"] = app.config["REDIS_URL"]

    app.config["TRUSTED_HOSTS"] = trusted_hosts(app.config["TRUSTED_HOSTS"], app.config["PUBLIC_BASE_URL"])

    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = instance_secret(app.instance_path)


def trusted_hosts(configured, public_base_url: str | None) -> list[str]:
    """The configured host names (a list, or a comma-separated string from the environment);
    unset, the loopback names and PUBLIC_BASE_URL's host, so that ``make demo`` works as is."""
    if isinstance(configured, str):
        configured = [h.strip() for h in configured.split(",") if h.strip()]
    if configured is not None:
        return list(configured)
    hosts = list(LOOPBACK_HOSTS)
    if public_base_url:
        host = urlsplit(public_base_url).hostname
        if host and host not in hosts:
            hosts.append(host)
    return hosts


def normalise_database_url(url: str) -> str:
    """Accept the URLs operators paste (postgres://, postgresql://) and use psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def private_dir(path: str | Path) -> Path:
    """The directory, created for its owner only (0700) if missing: instance/ holds the
    secret key and, by default, the database (password hashes, citizens' contacts)."""
    path = Path(path)
    if not path.is_dir():
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.chmod(0o700)  # mkdir's mode is filtered by the umask; chmod is not
    return path


def create_private_sqlite_file(uri: str) -> None:
    """Create a SQLite database file for its owner only (0600) before SQLite does (it would use
    0644 under the usual umask). SQLite gives the -wal and -shm files the database file's mode."""
    database = sa_url_database(uri)
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if path.exists() or not path.parent.is_dir():  # a missing folder stays an error, as SQLite makes it
        return
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker made it a moment ago
        return
    os.close(fd)
    path.chmod(0o600)


def sa_url_database(uri: str) -> str | None:
    return make_url(uri).database


def instance_secret(instance_path: str) -> str:
    """The secret key generated once into instance/ so that restarts keep sessions valid.

    Several workers may start at once: each writes a complete key to a private temporary
    file and links it into place (``os.link`` fails if the name exists), so the key file
    appears whole or not at all and every worker ends up with the first one linked."""
    directory = private_dir(instance_path)
    path = directory / "secret_key"
    key = _read_key(path)
    if key is not None:
        return key
    fd, tmp = tempfile.mkstemp(prefix=".secret_key.", dir=directory)  # mode 0600
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another worker's key won: use it
    finally:
        os.unlink(tmp)
    key = _read_key(path)
    if key is None:
        raise RuntimeError(f"{path} could not be created")
    return key


def _read_key(path: Path) -> str | None:
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        return None
    if not text:
        raise RuntimeError(f"{path} is empty: delete it and restart to generate a new key")
    return text
