"""Several app servers on one database and one Redis, and app servers killed under load.

What a citizen saw acknowledged (the 303 to the thank-you page) and what a kiosk saw
acknowledged (200 with every rating "stored" or "duplicate") must be in the database, once;
what was not acknowledged is sent again with the same idempotency key and must arrive once.
"""
from __future__ import annotations

import os
import secrets
import signal

import pytest
import requests

from .clients import enrol_kiosk, open_form, post_form
from .conftest import count_rows, seed_survey, server_env, wait_until
from .load import run_load


def stored_once(database_url: str, keys: list[str]) -> None:
    """Every key has exactly one response row, and there are no other rows."""
    assert len(keys) == len(set(keys))
    total = count_rows(database_url, "response")
    distinct = count_rows(database_url, "(SELECT DISTINCT survey_id, idempotency_key FROM response) AS d")
    assert total == distinct == len(keys), (total, distinct, len(keys))


def acknowledged_are_stored(database_url: str, result, kiosks) -> list[str]:
    citizen_keys = [f.key for f in result.forms]
    kiosk_keys = [k for kiosk in kiosks for k in kiosk.acknowledged]
    assert not result.errors, result.errors[:5]
    assert all(f.acknowledged for f in result.forms), "a citizen's form was never acknowledged"
    assert all(not kiosk.queue for kiosk in kiosks), "a kiosk queue was not drained"
    stored_once(database_url, citizen_keys + kiosk_keys)
    assert count_rows(database_url, "response", "WHERE channel = 'qr'") == len(citizen_keys)
    return citizen_keys + kiosk_keys


@pytest.mark.postgres
def test_two_servers_share_rate_limits_and_store_everything(pg_database, redis_url, app_servers):
    seeded = seed_survey(pg_database)
    code = seeded["service_points"][0][1]
    env = server_env(pg_database, redis_url, secret_key=secrets.token_hex(16), RATELIMIT_ENABLED=True,
                     SUBMIT_RATE_LIMIT_CLIENT="3 per hour", SUBMIT_RATE_LIMIT_POINT="1000 per hour")
    a, b = app_servers(env, name="ab", count=2)

    with requests.Session() as citizen:
        # Three submissions through server A use up this client's quota...
        for _ in range(3):
            r = post_form(citizen, a.url, open_form(citizen, a.url, code))
            assert r.status_code == 303
        # ...so the fourth is refused by server B, which keeps no counter of its own.
        form = open_form(citizen, b.url, code)
        r = post_form(citizen, b.url, form)
        assert r.status_code == 429
        assert int(r.headers["Retry-After"]) > 0
        assert post_form(citizen, a.url, form).status_code == 429
    assert count_rows(pg_database, "response") == 3

    # A load balancer spreads many citizens (distinct clients, here by User-Agent) over both.
    def many_clients(n):
        keys = []
        for i in range(n):
            with requests.Session() as s:
                s.headers["User-Agent"] = f"phone-{i}"
                base = (a, b)[i % 2].url
                f = open_form(s, base, code)
                assert post_form(s, (b, a)[i % 2].url, f).status_code == 303  # GET on one, POST on the other
                keys.append(f.key)
        return keys

    keys = many_clients(20)
    assert count_rows(pg_database, "response") == 23
    assert all(count_rows(pg_database, "response", "WHERE idempotency_key = :k", k=k) == 1 for k in keys)


def test_kill9_of_a_worker_under_load_loses_nothing(sqlite_database, app_servers):
    """A single-server deployment on SQLite; the PostgreSQL cluster test below kills a worker too."""
    database_url = sqlite_database
    seeded = seed_survey(database_url, points=1)
    sp_id, code = seeded["service_points"][0]
    server = app_servers(server_env(database_url), workers=3, name="kill-worker")
    kiosks = [enrol_kiosk(database_url, server.url, sp_id, name=f"Máy {i}") for i in range(2)]
    killed = []

    def kill_workers(result, _balancer):
        # Kill a worker three times as soon as submissions are flowing; gunicorn replaces it.
        for n in (10, 30, 50):
            wait_until(lambda: len(result.acknowledged_keys()) >= n, 30, 0.01, what=f"{n} acknowledged")
            victim = server.worker_pids()[0]
            os.kill(victim, signal.SIGKILL)
            killed.append(victim)

    result = run_load([server.url], code, citizens=4, forms_each=20, kiosks=kiosks, kiosk_rounds=15,
                      deadline=60, during=kill_workers)

    assert len(killed) == 3 and server.proc.poll() is None
    keys = acknowledged_are_stored(database_url, result, kiosks)
    assert len(keys) >= 80 + 2 * 15


@pytest.mark.postgres
def test_kill9_of_a_whole_server_under_load_loses_nothing(pg_database, redis_url, app_servers):
    seeded = seed_survey(pg_database, points=1)
    sp_id, code = seeded["service_points"][0]
    env = server_env(pg_database, redis_url)
    a, b = app_servers(env, name="ab", count=2)
    kiosks = [enrol_kiosk(pg_database, a.url, sp_id, name=f"Máy {i}") for i in range(2)]
    seen = {}

    def kill_server(result, balancer):
        wait_until(lambda: len(result.acknowledged_keys()) >= 20, 30, 0.01, what="20 acknowledged")
        a.kill9()  # master and workers at once, requests in flight cut off
        seen["at"] = len(result.acknowledged_keys())
        # The balancer notices by itself (connection refused) and B carries the rest; then one
        # of B's workers dies too, with its PostgreSQL connection mid-transaction.
        wait_until(lambda: len(result.acknowledged_keys()) >= seen["at"] + 15, 30, 0.01, what="15 more")
        os.kill(b.worker_pids()[0], signal.SIGKILL)

    result = run_load([a.url, b.url], code, citizens=4, forms_each=20, kiosks=kiosks, kiosk_rounds=15,
                      deadline=60, during=kill_server)

    assert seen["at"] < 80  # the kill happened in the middle of the load, not after it
    acknowledged_are_stored(pg_database, result, kiosks)
