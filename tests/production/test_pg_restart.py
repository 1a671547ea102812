"""PostgreSQL restarted under load (a private cluster, never the machine's shared one)."""
from __future__ import annotations

import time

import pytest
import requests

from .clients import enrol_kiosk
from .conftest import seed_survey, server_env, wait_until
from .load import run_load
from .test_cluster import acknowledged_are_stored

pytestmark = pytest.mark.postgres


def test_database_restart_under_load_503_with_retry_hint_then_recovers(private_pg, app_servers):
    seeded = seed_survey(private_pg.url, points=1)
    sp_id, code = seeded["service_points"][0]
    server = app_servers(server_env(private_pg.url), workers=3, name="pg-restart")
    kiosks = [enrol_kiosk(private_pg.url, server.url, sp_id, name=f"Máy {i}") for i in range(2)]
    probes = {}

    def restart_database(result, _balancer):
        wait_until(lambda: len(result.acknowledged_keys()) >= 15, 30, 0.01, what="15 acknowledged")
        private_pg.stop("fast")  # connections in use are cut, new ones refused
        # While it is down: every worker says "not now, retry", the process itself is alive.
        probes["down"] = [requests.get(server.url + "/readyz", timeout=10) for _ in range(6)]
        probes["healthz"] = requests.get(server.url + "/healthz", timeout=10).status_code
        time.sleep(1.5)  # let the citizens and kiosks hit the outage
        private_pg.start()
        # Recovers by itself: no app restart; pool_pre_ping replaces the dead connections.
        wait_until(lambda: requests.get(server.url + "/readyz", timeout=5).status_code == 200, 20, what="recovery")

    result = run_load([server.url], code, citizens=4, forms_each=15, kiosks=kiosks, kiosk_rounds=12,
                      deadline=60, during=restart_database)

    assert all(r.status_code == 503 and r.headers["Retry-After"] == "5" for r in probes["down"])
    assert all(r.json()["checks"]["database"] == "unavailable" for r in probes["down"])
    assert probes["healthz"] == 200
    # The clients met the outage as 503 + Retry-After, never as a 500.
    assert result.statuses.get(503, 0) > 0, result.statuses
    assert result.retry_after == {"5"}
    assert 500 not in result.statuses, result.statuses
    assert server.proc.poll() is None
    acknowledged_are_stored(private_pg.url, result, kiosks)
    assert all(requests.get(server.url + "/readyz", timeout=5).status_code == 200 for _ in range(6))
