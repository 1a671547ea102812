"""Sign-in, sign-out, throttling, safe redirects and CSRF of the officials' workspace."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from admin_helpers import PASSWORD
from surveyapp.extensions import db
from surveyapp.models import AuditEvent, LoginSource, Organisation, User, utcnow

WRONG = "Tên đăng nhập hoặc mật khẩu không đúng"


def test_sign_in_then_workspace_then_sign_out(client, world, auth):
    response = client.get("/admin/organisations")
    assert response.status_code == 302 and response.location.startswith("/login?next=")
    page = client.get(response.location).get_data(as_text=True)
    assert "Vui lòng đăng nhập để tiếp tục." in page  # the login message is Vietnamese

    response = auth.login(world.a.manager.username, query_string={"next": "/admin/organisations"})
    assert response.status_code == 302 and response.location == "/admin/organisations"
    page = client.get("/admin/organisations").get_data(as_text=True)
    assert "xã An Bình" in page and "Đăng xuất" in page

    assert client.get("/logout").status_code == 405  # a link cannot sign anybody out
    assert client.post("/logout").status_code == 302
    assert client.get("/admin/organisations").status_code == 302
    db.session.expire_all()
    assert db.session.get(User, world.a.manager.id).last_login_at is not None


def test_unknown_user_and_wrong_password_give_the_same_answer(app, world, auth):
    pages = []
    for username, password in (("ql-xa-an", "sai-mat-khau"), ("khong-ton-tai", PASSWORD)):
        client = app.test_client()
        response = auth.login(username, password, client=client)
        assert response.status_code == 200 and WRONG in response.get_data(as_text=True)
        pages.append(response.get_data(as_text=True).replace(username, ""))
        assert client.get("/admin/organisations").status_code == 302
    assert pages[0] == pages[1]


def test_next_pointing_off_site_is_refused(app, world, auth):
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)",
                   "http:/evil.example", " //evil.example"):
        response = auth.login(world.admin.username, query_string={"next": target}, client=app.test_client())
        assert response.status_code == 302
        assert "evil" not in response.location and "javascript" not in response.location, target
        assert response.location.startswith("/")


def test_account_locked_after_five_failures_even_with_the_right_password(client, world, auth):
    """Locked for the address the failures came from (tests/admin/test_admin_throttles.py: elsewhere the owner gets in)."""
    user = world.a.manager
    for _ in range(5):
        assert WRONG in auth.login(user.username, "sai").get_data(as_text=True)
    db.session.expire_all()
    row = db.session.scalar(sa.select(LoginSource).where(LoginSource.user_id == user.id))
    assert row.locked_until > utcnow()
    response = auth.login(user.username)  # right password, still locked
    assert response.status_code == 200 and WRONG in response.get_data(as_text=True)

    # When the lock has expired the right password works again and resets the counter.
    row.locked_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert auth.login(user.username).status_code == 302
    db.session.expire_all()
    assert db.session.get(LoginSource, row.id).failures == 0


def test_deactivated_user_cannot_sign_in_and_is_signed_out(client, world, auth):
    signed_in = auth.client_for(world.a.viewer)
    world.a.viewer.active = False
    db.session.commit()
    assert signed_in.get("/admin/organisations").status_code == 302
    assert WRONG in auth.login(world.a.viewer.username).get_data(as_text=True)


def test_login_endpoint_is_rate_limited_per_client(make_app, world, auth):
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute")
    client = app.test_client()
    statuses = [auth.login(f"ai-do-{i}", "sai", client=client).status_code for i in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert "Quá nhiều yêu cầu" in auth.login(world.admin.username, client=client).get_data(as_text=True)


def test_successful_sign_ins_do_not_use_up_the_limit(make_app, world, auth):
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="2 per minute")
    for _ in range(4):
        client = app.test_client()
        assert auth.login(world.admin.username, client=client).status_code == 302


def test_session_cookie_flags(client, world, auth):
    response = auth.login(world.admin.username)
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_password_set_in_the_user_form_is_stored_hashed(world, auth):
    admin = auth.client_for(world.admin)
    response = admin.post("/admin/users/new", data={"username": "moi", "role": "viewer", "active": "y",
                                                    "organisation_id": world.a.org.id, "password": "mot-hai-ba-bon"})
    assert response.status_code == 302
    stored = db.session.scalar(sa.select(User).where(User.username == "moi")).password_hash
    assert "mot-hai-ba-bon" not in stored and stored.startswith("scrypt:")
    assert auth.login("moi", "mot-hai-ba-bon", client=admin.application.test_client()).status_code == 302


# ---------------------------------------------------------------------------------------------
# CSRF: every form refuses a POST without the token.


@pytest.fixture
def csrf_app(make_app):
    return make_app(WTF_CSRF_ENABLED=True)


def _token(client, url: str) -> str:
    import re

    page = client.get(url).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def test_login_without_csrf_token_refused(csrf_app, world, auth):
    client = csrf_app.test_client()
    response = auth.login(world.admin.username, client=client)
    assert response.status_code == 400
    assert "Phiên làm việc đã hết hạn" in response.get_data(as_text=True)
    token = _token(client, "/login")
    response = auth.login(world.admin.username, client=client, data={"csrf_token": token})
    assert response.status_code == 302


def test_logout_without_csrf_token_refused(csrf_app, world, auth):
    client = csrf_app.test_client()
    auth.login(world.admin.username, client=client, data={"csrf_token": _token(client, "/login")})
    assert client.post("/logout").status_code == 400
    assert client.get("/admin/organisations").status_code == 200  # still signed in


def test_admin_forms_without_csrf_token_refused_and_nothing_stored(csrf_app, world, auth):
    client = csrf_app.test_client()
    auth.login(world.admin.username, client=client, data={"csrf_token": _token(client, "/login")})
    forms = [
        ("/admin/organisations/new", {"code": "CSRF", "name": "Đơn vị CSRF", "sector": "administrative", "parent_id": "0"}),
        ("/admin/users/new", {"username": "csrf-user", "role": "admin", "organisation_id": "0", "password": "12345678x"}),
    ]
    for url, data in forms:
        assert client.post(url, data=data).status_code == 400
    assert db.session.scalar(sa.select(Organisation).where(Organisation.code == "CSRF")) is None
    assert db.session.scalar(sa.select(User).where(User.username == "csrf-user")) is None
    for url, data in forms:  # the same forms with their token go through
        assert client.post(url, data=dict(data, csrf_token=_token(client, url))).status_code == 302


def test_confirmation_buttons_need_the_csrf_token(csrf_app, world, auth):
    client = csrf_app.test_client()
    auth.login(world.admin.username, client=client, data={"csrf_token": _token(client, "/login")})
    url = f"/admin/service-points/{world.a.sp.id}/toggle"
    assert client.post(url).status_code == 400
    db.session.expire_all()
    assert world.a.sp.active


def test_unlock_user_command(runner, world, client, auth):
    user = world.admin
    user.locked_until, user.failed_logins = utcnow() + timedelta(minutes=15), 0
    db.session.commit()
    assert auth.login(user.username).status_code == 200  # locked
    result = runner.invoke(args=["unlock-user", user.username])
    assert result.exit_code == 0, result.output
    assert auth.login(user.username).status_code == 302
    event = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event.action == "user.unlock" and event.before["locked_until"] and event.after["locked_until"] is None
    assert runner.invoke(args=["unlock-user", "khong-co"]).exit_code != 0
