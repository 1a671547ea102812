"""A kiosk token cannot swing an index: what one tablet claims is judged against what the
server knows of it (enrolment, its reports of an empty queue, the time that passed), and the
implausible rest is stored flagged, out of the indices, with the device marked for officials."""
from __future__ import annotations

import time
from datetime import timedelta

import sqlalchemy as sa
from auth_actions import PASSWORD
from kiosk_helpers import rating

from surveyapp.extensions import db
from surveyapp.kiosk import devices
from surveyapp.models import Answer, KioskDevice, Response, User, utcnow
from tests.conftest import reloaded


def post(client, kiosk, ratings):
    res = client.post("/api/v1/kiosk/ratings", json={"ratings": ratings}, headers=kiosk.headers)
    assert res.status_code == 200, res.get_data(as_text=True)
    return res.get_json()


def heartbeat(client, kiosk, queue_length=0):
    assert client.post("/api/v1/kiosk/heartbeat", json={"queue_length": queue_length},
                       headers=kiosk.headers).status_code == 200


def quick_index(app, sp_id) -> float:
    """The quick-rating index as reports compute it: satisfied taps among unflagged ones."""
    with app.app_context():
        return round(float(db.session.scalar(
        sa.select(sa.func.avg(Answer.satisfied)).join(Response, Response.id == Answer.response_id)
        .where(Response.service_point_id == sp_id, Response.flag.is_(None), Answer.satisfied.is_not(None)))), 6)


def counts(app, device_id) -> dict:
    with app.app_context():
        return dict(db.session.execute(
        sa.select(sa.func.coalesce(Response.flag, "none"), sa.func.count())
        .where(Response.kiosk_device_id == device_id).group_by(Response.flag)).all())


def attack(n=3000, *, newest_minutes_ago=15.0, every_seconds=6.0) -> list[dict]:
    """``n`` dissatisfied taps with times spread back from ``newest_minutes_ago`` (beyond the
    ten minutes' grace for a tablet's clock)."""
    return [rating(1, minutes_ago=newest_minutes_ago + i * every_seconds / 60) for i in range(n)]


def genuine_day(kiosk, client) -> None:
    """Twenty ratings over five hours, nineteen satisfied (95 %), then the tablet online with
    its queue drained, as the kiosk page reports it every minute."""
    post(client, kiosk, [rating(1 if i == 0 else 4, minutes_ago=300 - i * 15) for i in range(20)])
    heartbeat(client, kiosk, 0)
    assert quick_index(client.application, kiosk.sp.id) == 0.95


def test_3000_ratings_claimed_over_past_hours_end_flagged_and_the_index_holds(client, kiosk):
    genuine_day(kiosk, client)
    started = time.monotonic()
    batch = attack(3000)  # one every six seconds over the five hours before the last heartbeat
    results = [r for i in range(0, 3000, 1000) for r in post(client, kiosk, batch[i:i + 1000])["results"]]
    elapsed = time.monotonic() - started
    # Stored (never dropped: officials can review them), every one flagged.
    assert [r["status"] for r in results] == ["stored"] * 3000
    assert all(r.get("flag") == "implausible" for r in results), {r.get("flag") for r in results}
    assert counts(client.application, kiosk.device.id) == {"none": 20, "implausible": 3000}
    assert quick_index(client.application, kiosk.sp.id) == 0.95
    with client.application.app_context():
        device = db.session.get(KioskDevice, kiosk.device.id)
        assert device.flagged_ratings == 3000 and device.last_flagged_at is not None
    assert elapsed < 60  # judged on the way in, without slowing a sync down


def test_taps_claimed_after_the_last_empty_queue_are_held_to_what_a_tablet_can_take(client, kiosk):
    genuine_day(kiosk, client)
    res = post(client, kiosk, attack(1000, newest_minutes_ago=0, every_seconds=0.1))  # 1000 in 100 s
    counted = sum(1 for r in res["results"] if "flag" not in r)
    assert res["stored"] == 1000
    # One minute's queue and the hourly pace over the seconds since the heartbeat: a handful.
    assert counted <= 12, counted
    assert quick_index(client.application, kiosk.sp.id) >= 19 / (20 + 12)


def test_a_freshly_enrolled_token_cannot_claim_the_past(app, client, kiosk):
    post(client, kiosk, [rating(4, minutes_ago=600 - i * 30) for i in range(19)] + [rating(1, minutes_ago=10)])
    # A second tablet enrolled just now at the same counter (an insider with a code).
    with app.app_context():
        device, code = devices.create_device(reloaded(kiosk).sp, "Máy lạ")
        db.session.commit()
        _d, token = devices.enrol(code)
    res = client.post("/api/v1/kiosk/ratings", json={"ratings": attack(1000, newest_minutes_ago=30)},
                      headers={"Authorization": f"Bearer {token}"}).get_json()
    assert res["stored"] == 1000 and {r["flag"] for r in res["results"]} == {"implausible"}
    assert quick_index(client.application, kiosk.sp.id) == 0.95


def test_a_legitimate_offline_day_arrives_whole_and_unflagged(client, kiosk):
    """The tablet reported an empty queue, lost its network for a day and queued 10,000 taps
    evenly (one every 8.6 s, as in tests/production/test_kiosk_offline.py), then syncs."""
    with client.application.app_context():
        devices.note_heartbeat(reloaded(kiosk).device, 0, "1.0.0", now=utcnow() - timedelta(hours=24, minutes=10))
        db.session.commit()
    end = 5  # minutes ago
    step = 24 * 60 / 10_000
    day = [rating((i % 4) + 1, minutes_ago=end + (10_000 - i) * step) for i in range(10_000)]
    for i in range(0, 10_000, 1000):
        assert post(client, kiosk, day[i:i + 1000])["stored"] == 1000
    assert counts(client.application, kiosk.device.id) == {"none": 10_000}
    with client.application.app_context():
        assert db.session.get(KioskDevice, kiosk.device.id).flagged_ratings == 0


def test_kiosks_page_marks_a_device_with_flagged_ratings(client, kiosk, auth):
    with client.application.app_context():
        admin = User(username="root", role="admin")
        admin.set_password(PASSWORD)
        db.session.add(admin)
        db.session.commit()
    assert auth.login("root").status_code == 302
    assert "Bất thường" not in client.get("/admin/kiosks").get_data(as_text=True)
    genuine_day(kiosk, client)
    post(client, kiosk, attack(50))
    page = client.get("/admin/kiosks").get_data(as_text=True)
    assert "Bất thường: 50 đánh giá bị gắn cờ, không tính vào chỉ số" in page
    en = client.get("/admin/kiosks?lang=en").get_data(as_text=True)
    assert "Suspicious: 50 ratings flagged, left out of the indices" in en
