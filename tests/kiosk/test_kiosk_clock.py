"""One clock: on a server whose own zone is UTC, a survey's QR form and its kiosk twin open
and close at the same local midnight (Asia/Ho_Chi_Minh), and receipt tokens count local days."""
from __future__ import annotations

import os
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from datetime import time as clock_time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from kiosk_helpers import make_kiosk

from surveyapp.citizen.responses import forget_targets
from surveyapp.extensions import db
from surveyapp.qr import issue_dossier_token, verify_dossier_token
from tests.citizen.conftest import form_start

LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
FIRST, LAST = date(2026, 3, 10), date(2026, 3, 12)


@pytest.fixture
def server_in_utc():
    """The server's own zone (what ``date.today()`` and ``time.localtime`` read) set to UTC."""
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if saved is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = saved
    time.tzset()


def at_local(day: date, hour: int, minute: int):
    """Travel to a local wall-clock time, given as a UTC instant (a ZoneInfo destination would
    make time-machine change the process's zone too, hiding what is tested)."""
    instant = datetime.combine(day, clock_time(hour, minute), LOCAL).astimezone(timezone.utc)
    return time_machine.travel(instant, tick=False)


def test_qr_and_kiosk_agree_at_00_30_and_06_30_on_first_and_last_day(app, client, server_in_utc):
    from surveyapp.seed import seed_standard

    with app.app_context():
        kiosk = make_kiosk(seed_standard())
        kiosk.survey.starts_on, kiosk.survey.ends_on = FIRST, LAST
        db.session.commit()
        code, survey_id = kiosk.sp.code, kiosk.survey.id
    seen = []
    for day in (FIRST - timedelta(days=1), FIRST, LAST, LAST + timedelta(days=1)):
        for hour, minute in ((0, 30), (6, 30)):
            expected = FIRST <= day <= LAST
            with at_local(day, hour, minute):
                forget_targets()
                page = client.get(f"/s/{code}").status_code
                fields = form_start(app, survey_id, key=uuid.uuid4().hex, seconds_ago=30) | {"q_rating": "v4"}
                submitted = client.post(f"/s/{code}", data=fields).status_code
                config = client.get("/api/v1/kiosk/config", headers=kiosk.headers).get_json()
                tap = {"id": str(uuid.uuid4()), "value": 4,
                       "created_at": datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")}
                result = client.post("/api/v1/kiosk/ratings", json={"ratings": [tap]},
                                     headers=kiosk.headers).get_json()["results"][0]
            qr_open = (page, submitted) == (200, 303)
            assert qr_open or (page, submitted) == (410, 410), (day, hour, page, submitted)
            kiosk_open = config["survey_open"] and result["status"] == "stored"
            assert kiosk_open or (not config["survey_open"] and result.get("reason") == "no_open_survey")
            seen.append((day, hour, qr_open, kiosk_open, expected))
    assert [(d, h, q, k) for d, h, q, k, _e in seen] == [(d, h, e, e) for d, h, _q, _k, e in seen]


def test_receipt_tokens_count_local_days_on_a_server_in_utc(app, app_context, standard, server_in_utc):
    """No request nor command: one app context (``app_context``) for the whole test."""
    kiosk = make_kiosk(standard)
    max_age = app.config["DOSSIER_TOKEN_MAX_AGE_DAYS"]
    with at_local(FIRST, 0, 30):  # still the day before in UTC
        token = issue_dossier_token(kiosk.sp, "HS-2026-001")
    with at_local(FIRST + timedelta(days=max_age), 23, 0):
        assert verify_dossier_token(token) is not None  # the last local day it is valid
    with at_local(FIRST + timedelta(days=max_age + 1), 0, 30):
        assert verify_dossier_token(token) is None
