"""Redis down: rate limits fall back to per-server memory and citizens' answers are still stored."""
from __future__ import annotations

import socket

import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.models import Response
from surveyapp.seed import seed_standard
from tests.citizen.conftest import build_place, form_start


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again on exit: nothing listens there


def test_submission_stored_while_redis_is_unreachable(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{_closed_port()}/0",
                   SUBMIT_RATE_LIMIT_CLIENT="2 per hour")
    with app.app_context():
        standard = seed_standard()
        db.session.commit()
        place = build_place(standard)
        client = app.test_client()

        def submit(key):
            fields = form_start(app, place.quick.id, key=key) | {"q_rating": "v4"}
            return client.post(f"/s/{place.desk.code}", data=fields)

        assert submit("a" * 32).status_code == 303
        assert submit("b" * 32).status_code == 303
        # The in-memory fallback still enforces the limit on this server.
        assert submit("c" * 32).status_code == 429
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Response)) == 2
