"""Submission quotas (``surveyapp.ratelimit``): every limit of a request taken in one Redis
round trip, given back when nothing was stored, counted in process memory without Redis or
while Redis fails, and Redis used again once it answers."""
from __future__ import annotations

import socket

import redis as redis_lib

from surveyapp import ratelimit
from surveyapp.ratelimit import LocalCounters, QuotaStore

COUNTERS = [("quota/submit-client/abc/10/1/hour", 3600), ("quota/submit-point/sp:x/600/1/hour", 3600)]


def test_local_counters_count_per_window_and_give_back(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(ratelimit.time, "monotonic", lambda: clock[0])
    local = LocalCounters()
    assert [local.incr("a", 60) for _ in range(3)] == [1, 2, 3]
    local.decr("a")
    assert local.incr("a", 60) == 3
    assert local.seconds_left("a") == 60
    clock[0] += 61  # the window is over: counting starts again
    assert local.incr("a", 60) == 1


def test_local_counters_forget_expired_keys_when_they_pile_up(monkeypatch):
    clock = [0.0]
    monkeypatch.setattr(ratelimit.time, "monotonic", lambda: clock[0])
    local = LocalCounters()
    for i in range(10_001):  # one phone each, as on a busy day
        local.incr(f"day1-{i}", 60)
    assert len(local._counts) == 10_001  # nothing had expired yet: all kept
    clock[0] += 61
    for i in range(10_002):  # the next window's phones push it over the threshold (twice the survivors)
        local.incr(f"day2-{i}", 60)
    assert len(local._counts) == 10_002 and all(k.startswith("day2-") for k in local._counts)


def _count_sends(store: QuotaStore) -> list:
    """Record the counting commands this thread's connection sends (each one a round trip;
    the connection's own hand-shake when it opens is not counted)."""
    conn, sent = store._connection(), []
    real = conn.send_packed_command
    conn.send_packed_command = lambda command, *a, **kw: (
        b"EVALSHA" in b"".join(command) and sent.append(command)) or real(command, *a, **kw)
    return sent


def test_redis_takes_all_counters_in_one_call_and_gives_back(redis_url):
    client = redis_lib.Redis.from_url(redis_url)
    store = QuotaStore(redis_url)
    sent = _count_sends(store)

    assert store.take(COUNTERS) == ([1, 1], True)
    assert store.take(COUNTERS) == ([2, 2], True)
    assert len(sent) == 2  # one round trip per request, whatever the number of counters
    keys = [store.shared.prefixed_key(k) for k, _ in COUNTERS]
    assert all(3590 <= client.ttl(k) <= 3600 for k in keys)  # the window started with the first hit

    store.give_back(COUNTERS, True)
    assert [int(client.get(k)) for k in keys] == [1, 1]
    client.delete(keys[0])  # expired meanwhile: giving back must not bring it back without expiry
    store.give_back(COUNTERS, True)
    assert client.get(keys[0]) is None and int(client.get(keys[1])) == 0


def test_redis_count_is_sent_first_and_read_when_needed(redis_url):
    """The command leaves when the request starts; its answer is read later, in order, on the
    same connection; a ticket given back unread still reads its answer (the next one is right)."""
    store = QuotaStore(redis_url)
    first = store.start(COUNTERS, [])
    assert first.values is None  # sent, not read yet
    assert first.settle() == ([1, 1], True)
    unread = store.start(COUNTERS, [])
    unread.give_back()  # read (2), then given back (1)
    assert store.take(COUNTERS) == ([2, 2], True)


def test_redis_restart_losing_the_script_is_recovered(redis_url):
    store = QuotaStore(redis_url)
    assert store.take(COUNTERS) == ([1, 1], True)
    redis_lib.Redis.from_url(redis_url).script_flush()  # as after a Redis restart
    assert store.take(COUNTERS) == ([2, 2], True)
    assert store.take(COUNTERS) == ([3, 3], True)


def test_redis_failure_falls_back_to_memory_then_recovers(redis_url, monkeypatch, caplog):
    store = QuotaStore(redis_url)
    real = store._connection

    def broken():
        raise redis_lib.ConnectionError("gone")

    store._connection = broken
    assert store.take(COUNTERS) == ([1, 1], False)  # counted here, the citizen is not refused
    assert "counting in memory" in caplog.text
    store._connection = real
    assert store.take(COUNTERS) == ([2, 2], False)  # still pausing before trying Redis again
    monkeypatch.setattr(ratelimit.time, "monotonic", lambda: store._retry_at + 0.1)
    assert store.take(COUNTERS) == ([1, 1], True)  # Redis answers again and is used


def test_redis_dropping_the_connection_mid_answer_falls_back(redis_url, caplog):
    store = QuotaStore(redis_url)
    ticket = store.start(COUNTERS, [])
    store._connection()._sock.close()  # the connection dies with the answer on its way
    assert ticket.settle() == ([1, 1], False)
    assert "counting in memory" in caplog.text


def test_unreachable_redis_is_not_retried_on_every_request():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    store = QuotaStore(f"redis://127.0.0.1:{port}/0")
    attempts = []
    real = store._connection
    store._connection = lambda: attempts.append(1) or real()
    for _ in range(5):
        assert store.take(COUNTERS)[1] is False
    assert len(attempts) == 1


def test_memory_uri_counts_in_process():
    store = QuotaStore("memory://")
    assert store.shared is None
    assert store.take(COUNTERS) == ([1, 1], False)
    store.give_back(COUNTERS, False)
    assert store.take(COUNTERS) == ([1, 1], False)


# ---------------------------------------------------------------------------------------------
# The survey POST's quotas, through the app (both databases; counters in memory and in Redis)

import pytest  # noqa: E402

from surveyapp.models import Response  # noqa: E402
from tests.citizen.conftest import build_place, count  # noqa: E402
from tests.citizen.test_citizen_survey import SIPAS_ANSWERS, post, standard_for  # noqa: E402


@pytest.fixture(params=["memory", "redis"])
def quota_storage(request) -> str:
    return "memory://" if request.param == "memory" else request.getfixturevalue("redis_url")


def place_for(app):
    """The citizens' province, built in an app context of its own; what the posts read of it (the
    survey's id, the counter's code) is loaded before that context ends."""
    with app.app_context():
        place = build_place(standard_for(app))
        assert place.sipas.id and place.counter.code
    return place


def stored(app) -> int:
    with app.app_context():
        return count(Response)


def test_flagged_submissions_do_not_use_up_a_service_points_quota(make_app, quota_storage):
    """Three addresses posting bot-like submissions (honeypot filled, sent too fast) are stored
    flagged, but the counter's survey stays open to the genuine citizens who come next."""
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=quota_storage, SUBMIT_RATE_LIMIT_POINT="6 per hour",
                   SUBMIT_RATE_LIMIT_ADDRESS="2 per hour", SUBMIT_RATE_LIMIT_CLIENT="2 per hour")
    place = place_for(app)
    n = 0
    for address in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):
        bot = app.test_client()
        bot.environ_base["REMOTE_ADDR"] = address
        statuses = []
        for kind in ("honeypot", "too_fast", "too_fast"):
            n += 1
            extra = {"website": "http://spam"} if kind == "honeypot" else {}
            statuses.append(post(bot, place, SIPAS_ANSWERS | extra, seconds_ago=1 if kind == "too_fast" else 60,
                                 key=f"bot{n:03d}".ljust(32, "x")).status_code)
        assert statuses == [303, 303, 429]  # the bot itself is throttled on its own counters
    assert stored(app) == 6
    for i in range(6):  # the point's whole quota is still there for genuine citizens
        citizen = app.test_client()
        citizen.environ_base["REMOTE_ADDR"] = f"10.1.0.{i}"
        assert post(citizen, place, SIPAS_ANSWERS, key=f"citizen{i}".ljust(32, "x")).status_code == 303
    late = app.test_client()
    late.environ_base["REMOTE_ADDR"] = "10.1.0.99"
    assert post(late, place, SIPAS_ANSWERS, key="late".ljust(32, "x")).status_code == 429  # the quota still holds
    assert stored(app) == 12


def test_repeats_of_a_stored_answer_are_answered_as_stored_and_cost_no_quota(make_app, quota_storage):
    """Twenty posts of one form (a flaky link, an impatient thumb): one response, twenty
    thank-you pages, and the browser's quota still holds its other submissions."""
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=quota_storage, SUBMIT_RATE_LIMIT_CLIENT="10 per hour")
    place = place_for(app)
    client = app.test_client()
    answers = [post(client, place, SIPAS_ANSWERS, key="same" * 8) for _ in range(20)]
    assert [r.status_code for r in answers] == [303] * 20
    assert all(r.headers["Location"].endswith(f"/s/{place.counter.code}/cam-on") for r in answers)
    assert stored(app) == 1
    others = [post(client, place, SIPAS_ANSWERS, key=f"new{i}".ljust(32, "x")).status_code for i in range(10)]
    assert others == [303] * 9 + [429]  # nine more new answers: ten in the hour with the first
    # Over the limit, a repeat of a stored answer is still a thank-you, a new one is refused.
    assert post(client, place, SIPAS_ANSWERS, key="same" * 8).status_code == 303
    assert post(client, place, SIPAS_ANSWERS, key="new0".ljust(32, "x")).status_code == 303
    assert post(client, place, SIPAS_ANSWERS, key="never".ljust(32, "x")).status_code == 429
    assert stored(app) == 10
