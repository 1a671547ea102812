"""The liveness and readiness probes on a healthy app (outages: tests/production/test_health.py)."""
from __future__ import annotations


def test_health_endpoints(client):
    assert client.get("/healthz").json == {"status": "ok"}
    r = client.get("/readyz")
    assert r.status_code == 200 and r.json["checks"]["database"] == "ok"
