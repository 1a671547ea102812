"""The kiosk JSON API: enrolment, idempotent rating batches, refusals, flags, heartbeat."""
from __future__ import annotations

import threading
import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from kiosk_helpers import make_kiosk, rating, spaced, stored_count

from surveyapp.extensions import db
from surveyapp.kiosk import devices
from surveyapp.models import Answer, KioskDevice, Option, Question, Response, Survey, utcnow
from tests.conftest import reloaded


def post(client, kiosk, ratings, headers=None):
    return client.post("/api/v1/kiosk/ratings", json={"ratings": ratings},
                       headers=kiosk.headers if headers is None else headers)


# ---- Enrolment --------------------------------------------------------------------------


def test_enrolment_code_works_once_and_gives_a_token_stored_hashed(app, client):
    from surveyapp.models import Organisation, ServicePoint

    with app.app_context():
        sp = ServicePoint(organisation=Organisation(code="E1", name="Xã E", sector="administrative"), name="Quầy")
        db.session.add(sp)
        device, code = devices.create_device(sp, "Máy 1")
        db.session.commit()
        assert len(devices.normalise_code(code)) == 10
        assert code not in (device.enrol_code_hash or "")
        device_id = device.id

    typed = " " + code.lower().replace("-", " ") + " "  # as people type it
    res = client.post("/api/v1/kiosk/enroll", json={"code": typed})
    assert res.status_code == 201
    token = res.get_json()["token"]
    assert len(token) >= 40
    # The tablet learns where it stands with its token, before its first heartbeat.
    assert res.get_json()["config"]["service_point"]["name"]["vi"] == "Quầy"
    with app.app_context():
        device = db.session.get(KioskDevice, device_id)
        assert device.token_hash and token not in device.token_hash and device.enrolled_at is not None

    again = client.post("/api/v1/kiosk/enroll", json={"code": code})
    assert again.status_code == 400 and again.get_json()["error"] == "invalid_code"
    assert client.get("/api/v1/kiosk/config", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_enrolment_refuses_wrong_or_malformed_codes(app, client, kiosk):
    for body in ({"code": "WRONG-CODE1"}, {"code": 12345}, {}, ["code"]):
        res = client.post("/api/v1/kiosk/enroll", json=body)
        assert res.status_code == 400
        assert res.get_json()["error"] in ("invalid_code", "invalid_request"), body
    form = client.post("/api/v1/kiosk/enroll", data="code=x", content_type="application/x-www-form-urlencoded")
    assert form.status_code == 400 and form.get_json()["error"] == "invalid_request"


def test_expired_enrolment_code_is_refused(app, client, kiosk):
    with app.app_context():
        device = reloaded(kiosk).device
        code = devices.new_enrolment_code(device)
        device.enrol_expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    assert client.post("/api/v1/kiosk/enroll", json={"code": code}).status_code == 400


def test_new_enrolment_code_cuts_off_the_old_tablet(app, client, kiosk):
    with app.app_context():
        code = devices.new_enrolment_code(reloaded(kiosk).device)
        db.session.commit()
    assert post(client, kiosk, [rating()]).status_code == 401
    token = client.post("/api/v1/kiosk/enroll", json={"code": code}).get_json()["token"]
    res = post(client, kiosk, [rating()], headers={"Authorization": f"Bearer {token}"})
    assert res.get_json()["stored"] == 1


# ---- Ratings ----------------------------------------------------------------------------


def test_ratings_are_stored_as_kiosk_responses_with_answers(app, client, kiosk):
    batch = [rating(4, minutes_ago=30), rating(3, minutes_ago=20), rating(2, minutes_ago=10),
             rating(1, minutes_ago=5, reason="waiting_time")]
    res = post(client, kiosk, batch)
    assert res.status_code == 200
    body = res.get_json()
    assert [r["status"] for r in body["results"]] == ["stored"] * 4
    assert [r["id"] for r in body["results"]] == [b["id"] for b in batch]

    with app.app_context():
        responses = {r.idempotency_key: r for r in db.session.scalars(sa.select(Response))}
        assert set(responses) == {b["id"] for b in batch}
        questions = {q.code: q for q in reloaded(kiosk).survey.questionnaire.questions}
        for item in batch:
            r = responses[item["id"]]
            assert (r.channel, r.survey_id, r.service_point_id, r.kiosk_device_id) == (
                "kiosk", kiosk.survey.id, kiosk.sp.id, kiosk.device.id)
            assert r.flag is None
            # The tablet's time is kept beside the server's receipt time.
            assert abs((r.client_created_at - datetime.fromisoformat(item["created_at"][:-1])).total_seconds()) < 1
            assert (r.submitted_at - r.client_created_at) >= timedelta(minutes=4)
            by_q = {a.question_id: a for a in r.answers}
            main = by_q[questions["rating"].id]
            assert main.value == item["value"] and main.satisfied == (1 if item["value"] >= 3 else 0)
            assert db.session.get(Option, main.option_id).value == item["value"]
            assert main.service_point_id == kiosk.sp.id and main.submitted_at == r.submitted_at
            if item.get("reason"):
                reason = by_q[questions["reason"].id]
                assert db.session.get(Option, reason.option_id).code == "waiting_time" and reason.satisfied is None
            else:
                assert questions["reason"].id not in by_q
        assert db.session.get(KioskDevice, kiosk.device.id).last_seen_at is not None


def test_same_batch_twice_stores_each_rating_once(app, client, kiosk):
    batch = spaced(30)
    first = post(client, kiosk, batch).get_json()
    second = post(client, kiosk, batch).get_json()
    assert first["stored"] == 30 and second["stored"] == 0 and second["duplicates"] == 30
    assert {r["status"] for r in second["results"]} == {"duplicate"}
    assert stored_count(app) == 30
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Answer)) == 30


def test_half_delivered_batch_retried_stores_the_rest_once(app, client, kiosk):
    batch = spaced(40)
    post(client, kiosk, batch[:17])  # the connection dropped after the server stored these
    res = post(client, kiosk, batch).get_json()
    statuses = [r["status"] for r in res["results"]]
    assert statuses == ["duplicate"] * 17 + ["stored"] * 23
    assert stored_count(app) == 40
    with app.app_context():
        values = dict(db.session.execute(sa.select(Response.idempotency_key, Answer.value).join(Answer)).all())
    assert values == {b["id"]: b["value"] for b in batch}


def test_repeated_id_inside_one_batch_counts_once(app, client, kiosk):
    item = rating(4)
    res = post(client, kiosk, [item, dict(item)]).get_json()
    assert [r["status"] for r in res["results"]] == ["stored", "duplicate"]
    assert stored_count(app) == 1


def seeded_kiosk(app):
    """For tests with an app of their own: the standard questionnaires and a kiosk, in its session."""
    from surveyapp.seed import seed_standard

    with app.app_context():
        families = seed_standard()
        db.session.commit()
        kiosk = make_kiosk(families)
        for obj in (kiosk.sp, kiosk.other_sp, kiosk.device, kiosk.survey):
            db.session.refresh(obj)  # loaded now, readable once the session is gone
        return kiosk


def test_concurrent_identical_batches_store_each_rating_once(make_app):
    app = make_app()
    kiosk = seeded_kiosk(app)
    batch = spaced(150)
    outcomes = []

    def send():
        outcomes.append(app.test_client().post("/api/v1/kiosk/ratings", json={"ratings": batch},
                                               headers=kiosk.headers).get_json())

    threads = [threading.Thread(target=send) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(outcomes) == 3
    assert sum(o["stored"] for o in outcomes) == 150
    assert all(o["stored"] + o["duplicates"] == 150 for o in outcomes)
    with app.app_context():
        assert stored_count() == 150
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Answer)) == 150


def test_two_tabs_sending_one_queue_in_opposite_orders_neither_deadlock_nor_double_count(make_app):
    """Two browser tabs of one tablet sync the same IndexedDB queue at once, one from each end.
    Inserting the keys in the order received, PostgreSQL would have each transaction wait on a
    key the other holds (a deadlock: one request fails after a second); stored in one order, they
    queue behind each other."""
    app = make_app()
    kiosk = seeded_kiosk(app)
    for _attempt in range(30):  # a race: each round has a few per cent chance of meeting it
        batch = spaced(500)
        barrier = threading.Barrier(2)
        outcomes = []

        def send(ratings):
            client = app.test_client()
            barrier.wait()
            res = client.post("/api/v1/kiosk/ratings", json={"ratings": ratings}, headers=kiosk.headers)
            outcomes.append((res.status_code, res.get_json()))

        threads = [threading.Thread(target=send, args=(b,)) for b in (batch, batch[::-1])]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert [code for code, _ in outcomes] == [200, 200], outcomes
        assert sum(body["stored"] for _, body in outcomes) == 500
    with app.app_context():
        assert stored_count() == 15_000
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Answer)) == 15_000


def test_values_outside_the_scale_are_refused_and_not_stored(app, client, kiosk):
    bad = [rating(value) for value in (0, 5, -1, "4", 3.5, True, None)]
    good = rating(4)
    res = post(client, kiosk, bad + [good])
    assert res.status_code == 200
    results = res.get_json()["results"]
    assert results[:-1] == [{"id": b["id"], "status": "refused", "reason": "invalid_value"} for b in bad]
    assert results[-1]["status"] == "stored"
    assert stored_count(app) == 1
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Answer)) == 1


INVALID = [
    ({"id": "not-a-uuid", "value": 4, "created_at": "2026-11-20T08:00:00Z"}, "invalid_id"),
    ({"value": 4, "created_at": "2026-11-20T08:00:00Z"}, "invalid_id"),
    ({"id": str(uuid.uuid4()), "value": 4, "created_at": "yesterday"}, "invalid_created_at"),
    ({"id": str(uuid.uuid4()), "value": 4}, "invalid_created_at"),
    ({"id": str(uuid.uuid4()), "value": 2, "created_at": "2026-11-20T08:00:00Z", "reason": "weather"}, "invalid_reason"),
    ({"id": str(uuid.uuid4()), "value": 4, "created_at": "2026-11-20T08:00:00Z", "reason": "attitude"}, "invalid_reason"),
    ({"id": str(uuid.uuid4()), "value": 4, "created_at": "0001-01-01T00:00:00+05:00"}, "invalid_created_at"),
    ({"id": str(uuid.uuid4()), "value": 10**30, "created_at": "2026-11-20T08:00:00Z"}, "invalid_value"),
    ("4", "invalid_rating"),
]


def test_invalid_ratings_are_refused_one_by_one(app, client, kiosk):
    res = post(client, kiosk, [item for item, _reason in INVALID])
    assert res.status_code == 200
    results = res.get_json()["results"]
    assert [(r["status"], r["reason"]) for r in results] == [("refused", reason) for _item, reason in INVALID]
    assert stored_count(app) == 0


def test_malformed_body_is_400_with_a_reason(app, client, kiosk):
    for kwargs in (
        {"data": "{not json", "content_type": "application/json"},
        {"json": [rating()]},
        {"json": {"ratings": "many"}},
        {"json": {"rating": [rating()]}},
        {"data": "ratings=1", "content_type": "application/x-www-form-urlencoded"},
    ):
        res = client.post("/api/v1/kiosk/ratings", headers=kiosk.headers, **kwargs)
        assert res.status_code == 400, kwargs
        assert res.get_json()["error"] == "invalid_request" and res.get_json()["message"]
    assert stored_count(app) == 0


def test_batch_over_the_size_limit_is_413_and_stores_nothing(app, client, kiosk):
    res = post(client, kiosk, spaced(1001, every_minutes=0.5))
    assert res.status_code == 413
    assert res.get_json()["error"] == "batch_too_large" and res.get_json()["limit"] == 1000
    assert stored_count(app) == 0
    assert post(client, kiosk, spaced(1000, every_minutes=0.5)).get_json()["stored"] == 1000


def test_revoked_device_is_refused_and_unknown_token_is_401(app, client, kiosk):
    assert post(client, kiosk, [rating()]).get_json()["stored"] == 1
    with app.app_context():
        devices.revoke_device(reloaded(kiosk).device)
        db.session.commit()
    res = post(client, kiosk, [rating()])
    assert res.status_code == 403 and res.get_json()["error"] == "device_revoked"
    assert client.post("/api/v1/kiosk/heartbeat", json={"queue_length": 1}, headers=kiosk.headers).status_code == 403
    assert post(client, kiosk, [rating()], headers={"Authorization": "Bearer nope"}).status_code == 401
    assert post(client, kiosk, [rating()], headers={}).status_code == 401
    assert post(client, kiosk, [rating()], headers={"Authorization": kiosk.token}).status_code == 401
    assert stored_count(app) == 1


def test_ratings_refused_when_no_kiosk_survey_is_open(app, client, kiosk):
    with app.app_context():
        reloaded(kiosk).survey.status = "closed"
        db.session.commit()
    res = post(client, kiosk, [rating()]).get_json()
    assert res["results"][0]["reason"] == "no_open_survey"
    assert client.get("/api/v1/kiosk/config", headers=kiosk.headers).get_json()["survey_open"] is False
    assert stored_count(app) == 0


def test_kiosk_survey_is_the_open_quick_one_with_the_kiosk_channel(app, client, kiosk):
    from surveyapp.models import Questionnaire

    with app.app_context():
        k = reloaded(kiosk)
        # A full questionnaire open on the kiosk channel at the same point is not the kiosk survey.
        sipas = db.session.scalar(sa.select(Questionnaire).where(Questionnaire.family == "sipas-admin"))
        other = Survey(questionnaire=sipas, organisation=k.survey.organisation, name="SIPAS",
                       starts_on=k.survey.starts_on, status="open", channel_kiosk=True, service_points=[k.sp])
        db.session.add(other)
        k.survey.ends_on = k.survey.starts_on  # ended long ago
        db.session.commit()
    assert post(client, kiosk, [rating()]).get_json()["results"][0]["reason"] == "no_open_survey"


def test_moved_device_rates_for_its_new_service_point(app, client, kiosk):
    post(client, kiosk, [rating(minutes_ago=10)])
    with app.app_context():
        k = reloaded(kiosk)
        devices.move_device(k.device, k.other_sp)
        db.session.commit()
    post(client, kiosk, [rating()])
    assert stored_count(app, service_point_id=kiosk.sp.id) == 1
    assert stored_count(app, service_point_id=kiosk.other_sp.id) == 1


def test_tablet_clock_far_off_is_flagged_not_dropped(app, client, kiosk):
    batch = [rating(minutes_ago=60 * 24 * 3),           # three days offline: fine
             rating(minutes_ago=60 * 24 * 400),         # more than a year ago: wrong clock
             rating(minutes_ago=-60)]                   # an hour in the future: wrong clock
    res = post(client, kiosk, batch).get_json()
    assert [r["status"] for r in res["results"]] == ["stored"] * 3
    with app.app_context():
        flags = dict(db.session.execute(sa.select(Response.idempotency_key, Response.flag)).all())
    assert [flags[b["id"]] for b in batch] == [None, "clock_skew", "clock_skew"]


def test_burst_beyond_a_counters_pace_is_flagged_for_review(app, client, kiosk):
    plausible = spaced(5, every_minutes=3)
    burst = [rating((i % 4) + 1, minutes_ago=2 - i / 60) for i in range(15)]  # 15 taps in 15 seconds
    post(client, kiosk, plausible)
    res = post(client, kiosk, burst[:8]).get_json()
    res2 = post(client, kiosk, burst[8:]).get_json()  # the window spans both batches
    assert res["stored"] + res2["stored"] == 15
    with app.app_context():
        flags = dict(db.session.execute(sa.select(Response.idempotency_key, Response.flag)).all())
    assert all(flags[b["id"]] is None for b in plausible)
    assert [flags[b["id"]] for b in burst] == [None] * 10 + ["burst"] * 5
    assert stored_count(app) == 20


def test_heartbeat_records_queue_and_version(app, client, kiosk):
    res = client.post("/api/v1/kiosk/heartbeat", json={"queue_length": 17, "app_version": "1.0.0"},
                      headers=kiosk.headers)
    assert res.status_code == 200
    config = res.get_json()
    assert config["status"] == "active" and config["survey_open"] is True
    assert config["service_point"]["name"] == {"vi": "Quầy 1", "en": "Counter 1"}
    with app.app_context():
        device = db.session.get(KioskDevice, kiosk.device.id)
        assert (device.queue_length, device.app_version) == (17, "1.0.0")
        assert (utcnow() - device.last_seen_at) < timedelta(minutes=1)
    for bad in ({"queue_length": -1}, {"queue_length": "3"}, {"queue_length": 2**63}, {"app_version": "x" * 40}):
        assert client.post("/api/v1/kiosk/heartbeat", json=bad, headers=kiosk.headers).status_code == 400
    with app.app_context():
        assert db.session.get(KioskDevice, kiosk.device.id).queue_length == 17


def test_api_messages_follow_the_language(make_app):
    # No app context held open here: each request must choose its own language.
    client = make_app().test_client()
    vi = client.post("/api/v1/kiosk/ratings", json={"ratings": []},
                     headers={"Authorization": "Bearer nope"}).get_json()["message"]
    en = client.post("/api/v1/kiosk/ratings?lang=en", json={"ratings": []},
                     headers={"Authorization": "Bearer nope"}).get_json()["message"]
    assert "Thiết bị" in vi and en == "This device is not enrolled or its token is wrong."


def test_api_is_csrf_exempt_and_rate_limited_per_device(make_app):
    app = make_app(WTF_CSRF_ENABLED=True, RATELIMIT_ENABLED=True, KIOSK_RATE_LIMIT="3 per minute")
    kiosk = seeded_kiosk(app)
    with app.app_context():
        sp = db.session.get(type(kiosk.sp), kiosk.sp.id)
        device2, code2 = devices.create_device(sp, "Máy 2")
        db.session.commit()
        _d, token2 = devices.enrol(code2)
    client = app.test_client()
    codes = [client.post("/api/v1/kiosk/ratings", json={"ratings": [rating()]}, headers=kiosk.headers).status_code
             for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    # Another tablet of the same office (same address) is not held back.
    res = client.post("/api/v1/kiosk/ratings", json={"ratings": [rating()]},
                      headers={"Authorization": f"Bearer {token2}"})
    assert res.status_code == 200


def test_enrolment_is_rate_limited(make_app):
    app = make_app(RATELIMIT_ENABLED=True, KIOSK_ENROL_RATE_LIMIT="3 per minute")
    client = app.test_client()
    codes = [client.post("/api/v1/kiosk/enroll", json={"code": "ABCDE-FGHJK"}).status_code for _ in range(4)]
    assert codes == [400, 400, 400, 429]


def test_rated_value_maps_to_quick_questionnaire_options(app, client, kiosk):
    """Satisfied follows the questionnaire's is_satisfied flags, not a rule of our own."""
    with app.app_context():
        rating_q = db.session.scalar(sa.select(Question).where(
            Question.questionnaire_id == kiosk.survey.questionnaire_id, Question.code == "rating"))
        satisfied = {o.value: int(o.is_satisfied) for o in rating_q.options}
        rating_q_id = rating_q.id
    batch = spaced(4)
    post(client, kiosk, batch)
    with app.app_context():
        got = dict(db.session.execute(sa.select(Answer.value, Answer.satisfied).where(
            Answer.question_id == rating_q_id)).all())
    assert got == satisfied == {4: 1, 3: 1, 2: 0, 1: 0}
