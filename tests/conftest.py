"""Shared fixtures.

Every database test runs on SQLite and on PostgreSQL. PostgreSQL and Redis are
part of every machine the project is tested on, developers' and CI's: the tests
use the machine's (``TEST_DATABASE_URL`` and ``TEST_REDIS_URL`` point elsewhere),
and one that does not answer fails the run with what to do, never a skip. The schema is built by migrating to head, not by
``create_all``, once per test session: on PostgreSQL in a schema of its own, so
that concurrent test runs on one server never see each other's rows. After each
test every table is emptied.

Fixtures: ``app`` (parametrised over the backends; no app context held in the areas of
``FLASKR_SHAPE``), ``app_context``, ``client``, ``runner``, ``auth`` (signs in and out:
``tests/auth_actions.py``), ``make_app(**config)`` for a second app on the same database, ``standard`` (the
standard questionnaires and targets), ``demo`` (a small demo province),
``live_server`` and ``page`` (a real headless Chromium) for browser tests. In flaskr's shape a row
made in one app context is read after it with ``detached`` (columns loaded, session let go) and
used again in another with ``reloaded`` (a fixture's dataclass of rows, fetched anew).
"""
from __future__ import annotations

import getpass
import os
import secrets
import shutil
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import current_app, g, has_app_context

from auth_actions import AuthActions
from surveyapp import create_app
from surveyapp.config import normalise_database_url
from surveyapp.extensions import db

PG_URL = os.environ.get("TEST_DATABASE_URL") or f"postgresql://{getpass.getuser()}@127.0.0.1:5432/test"
REDIS_URL = os.environ.get("TEST_REDIS_URL") or "redis://127.0.0.1:6379/15"
BACKENDS = ["sqlite", "postgres"]
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"


def base_config(uri: str, **extra) -> dict:
    cfg = {
        "TESTING": True,
        "SECRET_KEY": "test-" + secrets.token_hex(8),
        "SQLALCHEMY_DATABASE_URI": uri,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "RATELIMIT_STORAGE_URI": "memory://",
        "PUBLIC_BASE_URL": "https://khaosat.example.gov.vn",
        "SERVER_NAME": None,
    }
    cfg.update(extra)
    return cfg


def pg_schema_url(schema: str) -> str:
    url = sa.make_url(normalise_database_url(PG_URL))
    return url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)


def create_pg_schema(prefix: str = "t") -> tuple[str, str]:
    """A fresh, empty schema; returns (schema, url that uses it)."""
    schema = f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"
    engine = sa.create_engine(normalise_database_url(PG_URL))
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    return schema, pg_schema_url(schema)


def drop_pg_schema(schema: str) -> None:
    engine = sa.create_engine(normalise_database_url(PG_URL))
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


def migrate_to_head(uri: str) -> None:
    from surveyapp.cli import upgrade_to_head

    app = create_app(base_config(uri))
    with app.app_context():
        upgrade_to_head()
        db.engine.dispose()


@pytest.fixture(scope="session")
def database_uris(tmp_path_factory):
    """One migrated database per backend for the whole session."""
    uris = {}
    tmp = tmp_path_factory.mktemp("db")
    uris["sqlite"] = f"sqlite:///{tmp / 'test.sqlite3'}"
    migrate_to_head(uris["sqlite"])
    try:
        schema, uris["postgres"] = create_pg_schema()
    except sa.exc.OperationalError as exc:
        service_missing(f"PostgreSQL at {PG_URL} does not answer ({exc.orig})", "TEST_DATABASE_URL")
    migrate_to_head(uris["postgres"])
    yield uris
    drop_pg_schema(schema)


def empty_all_tables() -> None:
    """Remove every row the test wrote, keeping the migrated schema."""
    db.session.remove()
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    with db.engine.begin() as conn:
        if db.engine.dialect.name == "postgresql":
            conn.execute(sa.text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            # Checked at commit, when the self-referencing organisation rows are all gone.
            conn.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
            for t in tables:
                conn.execute(sa.text(f'DELETE FROM "{t}"'))


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def make_app(database_uris, backend):
    """Build an app on the test database with config overrides; several may coexist."""
    apps = []

    def factory(**overrides):
        app = create_app(base_config(database_uris[backend], **overrides))
        # Production gives every request a fresh app context, so `g` (where Flask-Login and
        # Flask-Babel cache the user and the locale) starts empty. The areas outside FLASKR_SHAPE
        # keep one app context open across requests; empty `g` first thing in each request to
        # behave the same. Goes when FLASKR_SHAPE covers every area.
        app.before_request_funcs.setdefault(None, []).insert(0, lambda: g.__dict__.clear())
        apps.append(app)
        return app

    yield factory
    # The Limiter is one object per process (views are decorated with it); a test that made its
    # storage unreachable leaves it on the in-memory fallback, which would leak into later apps.
    from surveyapp.extensions import limiter

    limiter._storage_dead = False
    if apps:
        with apps[0].app_context():
            empty_all_tables()
        for app in apps:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


# Test files and folders (under tests/) in flaskr's shape: requests and commands run with no outer
# app context, each opening its own as in production. Elsewhere ``app`` still holds one app context
# for the whole test (and make_app empties ``g`` at each request) until the area is converted.
FLASKR_SHAPE = ("test_app.py", "test_auth.py", "test_cli.py", "test_config.py", "test_errors.py", "test_health.py",
                "test_i18n.py", "test_migrations.py", "test_models.py", "test_packaging.py", "test_ratelimit.py",
                "test_seed.py", "test_seed_demo.py", "analysis/", "privacy/", "themes/", "sso/", "public/", "documents/", "dossiers/", "imports/", "subscriptions/", "alerts/", "cases/", "kiosk/")
TESTS_DIR = Path(__file__).resolve().parent


def in_flaskr_shape(path) -> bool:
    relative = Path(path).resolve().relative_to(TESTS_DIR).as_posix()
    return any(relative == entry or (entry.endswith("/") and relative.startswith(entry)) for entry in FLASKR_SHAPE)


@pytest.fixture
def app(make_app, request):
    """The app. In flaskr's shape no app context is pushed: work on the database outside a request
    in ``with app.app_context():``, or through ``app_context`` in a test that makes no request."""
    app = make_app()
    if in_flaskr_shape(request.path):
        yield app
        return
    with app.app_context():
        yield app


@pytest.fixture
def app_context(app):
    """One app context for the whole test, for tests and fixtures (``standard``) that work on the
    database directly and make no request; the one ``app`` holds where it still holds one."""
    if has_app_context() and current_app._get_current_object() is app:
        yield app
        return
    with app.app_context():
        yield app


def detached(*objects):
    """Load the columns of ``objects`` and detach them from the session, so that a test in flaskr's
    shape reads them after the app context that made them is gone (relationships stay unloaded:
    fetch the row again inside a context to follow them)."""
    for obj in objects:
        db.session.refresh(obj)
    for obj in objects:
        db.session.expunge(obj)
    return objects[0] if len(objects) == 1 else objects


def rows_of(bundle) -> list:
    """Every row in ``bundle``: a dataclass of rows and of such dataclasses."""
    import dataclasses

    rows = []
    for f in dataclasses.fields(bundle):
        value = getattr(bundle, f.name)
        if isinstance(value, db.Model):
            rows.append(value)
        elif dataclasses.is_dataclass(value):
            rows += rows_of(value)
    return rows


def reloaded(bundle):
    """``bundle`` (a dataclass of rows and of such dataclasses, such as one a fixture detached) with
    every row fetched again in the current app context's session."""
    import dataclasses

    changes = {}
    for f in dataclasses.fields(bundle):
        value = getattr(bundle, f.name)
        if isinstance(value, db.Model):
            changes[f.name] = db.session.get(type(value), value.id)
        elif dataclasses.is_dataclass(value):
            changes[f.name] = reloaded(value)
    return dataclasses.replace(bundle, **changes)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def auth(app, client) -> AuthActions:
    """``auth.login(user)``, ``auth.logout()`` with ``client``; ``auth.client_for(user)`` for
    another signed-in client."""
    return AuthActions(app, client)


@pytest.fixture
def standard(app_context):
    """The standard questionnaires by family, and the default targets."""
    from surveyapp.seed import seed_standard

    families = seed_standard()
    db.session.commit()
    return families


@pytest.fixture
def demo(app):
    """A small, deterministic demo province (a few hundred responses), made in an app context of
    its own, so a test that uses it still holds none."""
    from surveyapp.seed import seed_demo

    with app.app_context():
        return seed_demo(seed=7, n_responses=600)


# ---------------------------------------------------------------------------------------------
# Browser tests: a real server thread and a real headless Chromium.


class LiveServer:
    def __init__(self, app):
        from werkzeug.serving import make_server

        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self.server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.thread.join(5)


@pytest.fixture
def live_server(database_uris):
    """The app served over real HTTP on a free loopback port, on SQLite."""
    app = create_app(base_config(database_uris["sqlite"], WTF_CSRF_ENABLED=True, PUBLIC_BASE_URL=None))
    with LiveServer(app) as server:
        yield server
    with app.app_context():
        empty_all_tables()
        db.engine.dispose()


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright; never a downloaded browser."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `make test`, which installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield browser
        browser.close()


@pytest.fixture
def context(browser):
    """A fresh browser profile with a phone-sized viewport and Vietnamese as its language."""
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, locale="vi-VN", device_scale_factor=2,
                              has_touch=True, is_mobile=True)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context):
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page


AXE_JS = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"


def assert_accessible(page) -> None:
    """Run axe-core in the page; fail on serious or critical violations."""
    if not AXE_JS.exists():
        pytest.fail("axe-core missing: run `make test`, which installs it from the npm registry")
    # evaluate() is not subject to the page's CSP, unlike an injected <script>.
    page.evaluate(AXE_JS.read_text(encoding="utf-8"))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    bad = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert not bad, "\n".join(f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:5]}" for v in bad)


def service_missing(reason: str, variable: str) -> None:
    """A service the tests need does not answer: fail, saying how to fix it (a skip would let
    a run without PostgreSQL or Redis pass while testing neither)."""
    pytest.fail(f"{reason}. Start it (.ci/run starts PostgreSQL and Redis) or point {variable} at one.",
                pytrace=False)


@pytest.fixture
def redis_url():
    """A Redis for tests of shared state, emptied before and after."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        service_missing(f"Redis at {REDIS_URL} does not answer ({exc})", "TEST_REDIS_URL")
    client.flushdb()
    yield REDIS_URL
    client.flushdb()
