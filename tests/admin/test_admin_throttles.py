"""Throttles one header cannot reset, and a lockout nobody can use to keep the owner out."""
from __future__ import annotations

import sqlalchemy as sa

from admin_helpers import PASSWORD
from surveyapp.extensions import db
from surveyapp.models import LoginSource, User, utcnow

WRONG = "Tên đăng nhập hoặc mật khẩu không đúng"
ATTACKER, OWNER, ELSEWHERE = "198.51.100.7", "203.0.113.9", "192.0.2.44"


def attempt(auth, client, username: str, password: str, address: str, user_agent: str = "Mozilla/5.0"):
    """Sign in from ``address`` with ``user_agent``."""
    return auth.login(username, password, client=client, environ_base={"REMOTE_ADDR": address},
                      headers={"User-Agent": user_agent})


def signed_in(response) -> bool:
    return response.status_code == 302


def test_rotating_the_user_agent_does_not_reset_the_sign_in_limit(make_app, world, auth):
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute")
    client = app.test_client()
    statuses = [attempt(auth, client, f"ai-do-{i}", "sai", ATTACKER, f"Agent/{i}").status_code for i in range(6)]
    assert statuses == [200, 200, 200, 429, 429, 429]
    # Another address is counted on its own.
    assert attempt(auth, app.test_client(), "ai-do", "sai", OWNER).status_code == 200


def test_rotating_addresses_inside_one_ipv6_network_does_not_reset_the_limit(make_app, world, auth):
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute")
    client = app.test_client()
    statuses = [attempt(auth, client, "ai-do", "sai", f"2001:db8:5:7::{i:x}").status_code for i in range(1, 5)]
    assert statuses == [200, 200, 200, 429]
    assert attempt(auth, client, "ai-do", "sai", "2001:db8:5:8::1").status_code == 200  # another /64


def test_rotating_the_user_agent_does_not_reset_the_kiosk_enrolment_limit(make_app, world):
    app = make_app(RATELIMIT_ENABLED=True, KIOSK_ENROL_RATE_LIMIT="3 per minute")
    client = app.test_client()
    statuses = [client.post("/api/v1/kiosk/enroll", json={"code": f"SAI{i:05d}"},
                            headers={"User-Agent": f"Tablet/{i}"}, environ_base={"REMOTE_ADDR": ATTACKER}).status_code
                for i in range(5)]
    assert statuses == [400, 400, 400, 429, 429]


def test_attacker_locked_out_from_one_address_while_the_owner_signs_in_from_another(client, world, auth):
    owner = world.a.manager
    results = []
    for i in range(12):
        results.append(signed_in(attempt(auth, client, owner.username, f"doan-{i}", ATTACKER)))
        if i in (3, 7, 11):  # meanwhile the owner, from the office
            assert signed_in(attempt(auth, world_client(client), owner.username, PASSWORD, OWNER))
    assert not any(results)
    # The attacker's address has used its five guesses: even the right password is refused there.
    response = attempt(auth, client, owner.username, PASSWORD, ATTACKER)
    assert not signed_in(response) and WRONG in response.get_data(as_text=True)
    row = db.session.scalar(sa.select(LoginSource).where(LoginSource.user_id == owner.id,
                                                          LoginSource.locked_until.is_not(None)))
    assert row is not None and row.locked_until > utcnow() and len(row.source_hash) == 64
    assert ATTACKER not in row.source_hash  # a keyed hash, never the address
    # A brand-new address with the right password is let in (only 5 failures counted account-wide).
    assert signed_in(attempt(auth, world_client(client), owner.username, PASSWORD, ELSEWHERE))


def world_client(client):
    return client.application.test_client()


def test_guessing_spread_over_many_addresses_is_capped_but_the_owner_gets_in(client, world, auth):
    owner = world.a.manager
    assert signed_in(attempt(auth, world_client(client), owner.username, PASSWORD, OWNER))  # a usual address
    # Ten addresses, one wrong guess each: the account is now guarded.
    for i in range(10):
        assert not signed_in(attempt(auth, world_client(client), owner.username, "sai", f"198.51.100.{i + 10}"))
    db.session.expire_all()
    assert db.session.get(User, owner.id).locked_until > utcnow()
    # From any address that never got in, even the right password is no longer checked ...
    for i in range(20):
        assert not signed_in(attempt(auth, world_client(client), owner.username, PASSWORD, f"198.51.100.{i + 100}"))
    # ... while the owner, from their usual address, signs in.
    assert signed_in(attempt(auth, world_client(client), owner.username, PASSWORD, OWNER))
    # Another account is not affected.
    assert signed_in(attempt(auth, world_client(client), world.a.viewer.username, PASSWORD, ELSEWHERE))


def test_unlock_user_lifts_the_address_locks(runner, world, client, auth):
    user = world.admin
    for _ in range(5):
        attempt(auth, client, user.username, "sai", OWNER)
    assert not signed_in(attempt(auth, client, user.username, PASSWORD, OWNER))
    assert runner.invoke(args=["unlock-user", user.username]).exit_code == 0
    assert signed_in(attempt(auth, client, user.username, PASSWORD, OWNER))


def test_wrong_api_keys_are_throttled_per_address(make_app, world):
    app = make_app(RATELIMIT_ENABLED=True, DOSSIER_API_KEYS="khoa-dung", API_BAD_KEY_RATE_LIMIT="3 per minute")
    client = app.test_client()

    def post(key: str, address: str = ATTACKER):
        return client.post("/api/v1/dossier-tokens", json={"service_point": world.a.sp.code, "dossiers": ["HS-1"]},
                           headers={"X-API-Key": key}, environ_base={"REMOTE_ADDR": address}).status_code

    assert [post(f"sai-{i}") for i in range(5)] == [401, 401, 401, 429, 429]
    assert post("khoa-dung") == 200  # the right key is never held up by someone else's wrong ones
    assert post("sai-x", OWNER) == 401  # counted per address
