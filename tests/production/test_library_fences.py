"""Fences around the two places that stay close to a library's internals, for speed:

- the response inserts, compiled once and run with ``Connection.exec_driver_sql``
  (citizen/responses.py) — SQLAlchemy's compiled statements and bind processors, and the
  drivers' parameter styles;
- the submission quotas' Lua script (ratelimit.py) — ``limits``' Redis storage (its key
  prefix, its client) and redis-py's connections (send a command now, read the answer later).

Each fence checks that the installed version is inside the range pinned in setup.cfg (the
range the code was verified with), and exercises the behaviour relied upon, so that an upgrade
that moves it fails here rather than in production.
"""
from __future__ import annotations

import configparser
import time
from datetime import datetime
from importlib.metadata import version
from pathlib import Path

import pytest
import redis as redis_lib
import sqlalchemy as sa
from limits import parse
from limits.storage import RedisStorage
from limits.strategies import FixedWindowRateLimiter
from packaging.requirements import Requirement
from sqlalchemy.exc import IntegrityError

from surveyapp.extensions import db
from surveyapp.ratelimit import QuotaStore

REPO = Path(__file__).resolve().parents[2]
FENCED = {"sqlalchemy", "limits", "redis", "psycopg"}


def pinned() -> dict[str, Requirement]:
    cfg = configparser.ConfigParser()
    cfg.read(REPO / "setup.cfg")
    lines = cfg["options"]["install_requires"].splitlines() + cfg["options.extras_require"]["postgres"].splitlines()
    requirements = [Requirement(line.strip()) for line in lines if line.strip() and not line.strip().startswith("#")]
    return {r.name.lower(): r for r in requirements if r.name.lower() in FENCED}


@pytest.mark.parametrize("name", sorted(FENCED))
def test_installed_version_is_inside_the_verified_range(name):
    requirement = pinned()[name]
    assert requirement.specifier, f"{name} must be pinned to the range the code was verified with"
    assert any(s.operator == "<" for s in requirement.specifier), f"{name} needs an upper bound"
    installed = version(name)
    assert requirement.specifier.contains(installed), (
        f"{name} {installed} is outside {requirement.specifier}: re-verify {__name__} and widen the pin")


# ---------------------------------------------------------------------------------------------
# The quota script and limits' storage


def test_quota_counters_are_limits_own_fixed_window_counters(redis_url):
    """What the Lua script counts, limits' own fixed-window strategy reads back under the same
    key and window, and limits' storage gives its expiry (the Retry-After)."""
    store = QuotaStore(redis_url)
    assert type(store.shared) is RedisStorage  # else the script path is silently skipped
    item = parse("3 per hour")
    key = item.key_for("quota", "submit-point", "sp:fence")
    assert store.take([(key, item.get_expiry())]) == ([1], True)
    assert store.take([(key, item.get_expiry())]) == ([2], True)
    strategy = FixedWindowRateLimiter(store.shared)
    stats = strategy.get_window_stats(item, "quota", "submit-point", "sp:fence")
    assert stats.remaining == 1
    assert time.time() + 3590 <= stats.reset_time <= time.time() + 3601
    assert store.shared.get(key) == 2
    assert 3590 <= store.seconds_left(key, True) <= 3600
    strategy.hit(item, "quota", "submit-point", "sp:fence")  # limits counts on the same counter
    assert store.take([(key, item.get_expiry())]) == ([4], True)
    store.give_back([(key, item.get_expiry())], True)
    assert store.shared.get(key) == 3
    # The key limits stores it under is the storage's prefix and ours.
    assert redis_lib.Redis.from_url(redis_url).get(store.shared.prefixed_key(key)) == b"3"


def test_a_command_sent_now_is_read_later_on_the_same_connection(redis_url):
    """redis-py's connection API the quota relies on: send the packed EVALSHA without waiting,
    do other work, read the answer; the connection then serves the next command."""
    store = QuotaStore(redis_url)
    conn = store._connection()
    assert callable(conn.send_packed_command) and callable(conn.read_response) and callable(conn.pack_command)
    ticket = store.start([("fence/a", 60), ("fence/b", 60)], [])
    assert ticket.values is None  # sent, not read
    assert ticket.settle() == ([1, 1], True)
    assert store.take([("fence/a", 60)]) == ([2], True)


# ---------------------------------------------------------------------------------------------
# Statements compiled once and run with exec_driver_sql


def test_compiled_inserts_run_through_exec_driver_sql_as_sqlalchemy_would(app):
    """What ``responses._Prepared`` builds on: a compiled insert's SQL and bind order
    (positional on SQLite, named on psycopg), the types' bind processors, and driver errors
    still translated to SQLAlchemy's (the idempotency path catches IntegrityError)."""
    dialect = db.engine.dialect
    meta = sa.MetaData()
    table = sa.Table("fence_probe", meta, sa.Column("id", sa.Integer, primary_key=True),
                     sa.Column("key", sa.String(64), unique=True), sa.Column("at", sa.DateTime), sa.Column("ok", sa.Boolean))
    meta.create_all(db.engine)
    try:
        statement = sa.insert(table).values(
            {name: sa.bindparam(name, type_=table.c[name].type) for name in ("key", "at", "ok")})
        compiled = statement.compile(dialect=dialect)
        if dialect.name == "sqlite":
            assert dialect.paramstyle == "qmark" and list(compiled.positiontup) == ["key", "at", "ok"]
            assert compiled.string.count("?") == 3
        else:
            assert dialect.paramstyle == "pyformat" and not compiled.positiontup
            assert "%(key)s" in compiled.string
        at = datetime(2026, 11, 20, 8, 15, 0, 123456)
        values = {"key": "k1", "at": at, "ok": True}
        for name, bind in compiled.binds.items():
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                values[name] = process(values[name])
        params = tuple(values[n] for n in compiled.positiontup) if compiled.positiontup else values
        with db.engine.connect() as conn:
            conn.exec_driver_sql(compiled.string, params)
            conn.commit()
            with pytest.raises(IntegrityError):
                conn.exec_driver_sql(compiled.string, params)
            conn.rollback()
        with db.engine.connect() as conn:  # read back by SQLAlchemy exactly as written
            assert conn.execute(sa.select(table.c.key, table.c.at, table.c.ok)).one() == ("k1", at, True)
    finally:
        meta.drop_all(db.engine)
