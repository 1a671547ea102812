"""A kiosk offline for a whole day comes back with 10,000 queued ratings: all arrive, once."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from surveyapp.config import normalise_database_url
from surveyapp.models import utcnow

from .clients import enrol_kiosk
from .conftest import count_rows, seed_survey, server_env


@pytest.mark.postgres
def test_offline_day_of_10000_ratings_arrives_once(pg_database, app_servers):
    """On PostgreSQL, the production shape (SQLite takes the same path, faster, in the kiosk tests)."""
    database_url = pg_database
    seeded = seed_survey(database_url, points=1)
    server = app_servers(server_env(database_url), workers=2, name="kiosk-day")
    sp_id = seeded["service_points"][0][0]
    kiosk = enrol_kiosk(database_url, server.url, sp_id)
    # The tablet was in service before the day (enrolled, its queue once reported empty),
    # then lost its network: what it claims for the day is what it can have collected.
    engine = sa.create_engine(normalise_database_url(database_url))
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE kiosk_device SET enrolled_at = :enrolled, queue_empty_at = :empty"),
                     {"enrolled": utcnow() - timedelta(days=7), "empty": utcnow() - timedelta(days=1, minutes=10)})
    engine.dispose()

    kiosk.queue_offline_day(10_000)
    queued = list(kiosk.queue)
    kiosk.sync_all(server.url, batch_size=1000, deadline=90)

    assert kiosk.acknowledged == {item["id"] for item in queued}
    where = "WHERE channel = 'kiosk' AND service_point_id = :sp"
    assert count_rows(database_url, "response", where, sp=sp_id) == 10_000
    # Spread over the day as they were tapped: no burst, clock or plausibility flags on honest ratings.
    assert count_rows(database_url, "response", where + " AND flag IS NOT NULL", sp=sp_id) == 0
    # Every rating has its answer, and a reason only where one was given.
    reasons = sum(1 for item in queued if "reason" in item)
    assert count_rows(database_url, "answer", "WHERE service_point_id = :sp", sp=sp_id) == 10_000 + reasons

    # The tablet lost the acknowledgements and sends the whole day again: nothing new is stored.
    kiosk.queue = queued
    kiosk.sync_all(server.url, batch_size=1000, deadline=60)
    assert count_rows(database_url, "response", where, sp=sp_id) == 10_000
    assert count_rows(database_url, "answer", "WHERE service_point_id = :sp", sp=sp_id) == 10_000 + reasons
