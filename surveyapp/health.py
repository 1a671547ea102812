"""Health and readiness endpoints for a load balancer.

``/healthz`` answers as long as the process serves requests (liveness: restart it
if this fails). ``/readyz`` also asks the database and, when configured, Redis
(readiness: send no traffic here while it fails). Neither is rate limited, both
are cheap, and neither reveals anything beyond "ok" or the failing component.
"""
from __future__ import annotations

import redis
import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify

from .extensions import db, limiter

bp = Blueprint("health", __name__)

RETRY_AFTER = "5"


def _redis_client(url: str):
    """One client per app and URL (its own small pool), with short timeouts so that a
    dead Redis makes the probe fail in about a second instead of hanging the worker."""
    clients = current_app.extensions.setdefault("surveyapp_health_redis", {})
    if url not in clients:
        clients[url] = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
    return clients[url]


@bp.get("/healthz")
@limiter.exempt
def healthz():
    """The process is up."""
    response = jsonify(status="ok")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/readyz")
@limiter.exempt
def readyz():
    """The database and, when configured, Redis answer."""
    checks: dict[str, str] = {}
    try:
        db.session.execute(sa.text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # any driver error means "not ready"
        try:
            db.session.rollback()
        except Exception:  # noqa: BLE001 - a dead connection; the pool replaces it
            pass
        current_app.logger.warning("readyz: database not ready: %s", type(exc).__name__)
        checks["database"] = "unavailable"
    redis_url = current_app.config["REDIS_URL"]
    if redis_url:
        try:
            _redis_client(redis_url).ping()
            checks["redis"] = "ok"
        except Exception as exc:  # noqa: BLE001 - connection refused, timeout, auth...
            current_app.logger.warning("readyz: redis not ready: %s", type(exc).__name__)
            checks["redis"] = "unavailable"
    ok = all(v == "ok" for v in checks.values())
    response = jsonify(status="ok" if ok else "unavailable", checks=checks)
    response.status_code = 200 if ok else 503
    response.headers["Cache-Control"] = "no-store"
    if not ok:
        response.headers["Retry-After"] = RETRY_AFTER
    return response
