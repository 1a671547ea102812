"""Sessions end when they should: a copied cookie replayed after each event lands on sign-in."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask_login.utils import encode_cookie

from surveyapp.extensions import db
from surveyapp.models import User

PAGE = "/admin/organisations"


def copy_of(client, app):
    """A second browser holding a copy of ``client``'s session cookie (as a thief would)."""
    name = app.config["SESSION_COOKIE_NAME"]
    thief = app.test_client()
    thief.set_cookie(name, client.get_cookie(name).value)
    assert thief.get(PAGE).status_code == 200  # the copy works while the session lives
    return thief


def assert_sent_to_sign_in(client):
    response = client.get(PAGE)
    assert response.status_code == 302 and response.location.startswith("/login"), response.status_code
    assert "Đăng nhập dành cho cán bộ" in client.get(response.location).get_data(as_text=True)


def test_signing_out_ends_every_copy_of_the_session(app, world, auth):
    owner = auth.client_for(world.a.manager)
    thief = copy_of(owner, app)
    other_browser = auth.client_for(world.a.manager)
    assert owner.post("/logout").status_code == 302
    assert_sent_to_sign_in(thief)
    assert_sent_to_sign_in(other_browser)  # every session of the account, not only this one
    assert auth.login(world.a.manager.username, client=app.test_client()).status_code == 302  # signing in again works


def test_password_reset_by_an_administrator_ends_the_sessions(app, world, auth):
    viewer = world.a.viewer
    owner = auth.client_for(viewer)
    thief = copy_of(owner, app)
    admin = auth.client_for(world.admin)
    response = admin.post(f"/admin/users/{viewer.id}/edit", data={
        "username": viewer.username, "role": "viewer", "active": "y", "organisation_id": world.a.org.id,
        "password": "mat-khau-moi-456"})
    assert response.status_code == 302
    assert_sent_to_sign_in(thief)
    assert_sent_to_sign_in(owner)
    assert auth.login(viewer.username, "mat-khau-moi-456", client=app.test_client()).status_code == 302
    assert admin.get(PAGE).status_code == 200  # the administrator's own session is untouched


def test_own_password_change_keeps_this_session_and_ends_the_others(app, world, auth):
    manager = world.a.manager
    owner = auth.client_for(manager)
    thief = copy_of(owner, app)
    response = owner.post(f"/admin/users/{manager.id}/edit", data={
        "username": manager.username, "role": "manager", "active": "y", "organisation_id": world.a.org.id,
        "password": "mat-khau-moi-789"})
    assert response.status_code == 302
    assert owner.get(PAGE).status_code == 200
    assert_sent_to_sign_in(thief)


def test_deactivation_then_reactivation_does_not_revive_old_cookies(app, world, auth):
    viewer = world.a.viewer
    thief = copy_of(auth.client_for(viewer), app)
    admin = auth.client_for(world.admin)
    assert admin.post(f"/admin/users/{viewer.id}/toggle").status_code == 302
    assert_sent_to_sign_in(thief)
    assert admin.post(f"/admin/users/{viewer.id}/toggle").status_code == 302
    db.session.expire_all()
    assert db.session.get(User, viewer.id).active
    assert_sent_to_sign_in(thief)
    assert auth.login(viewer.username, client=app.test_client()).status_code == 302


def test_remember_me_cookie_ends_with_the_sessions(app, world, auth):
    """Flask-Login's remember-me cookie carries ``get_id()`` as a session does."""
    from flask_login.config import COOKIE_NAME

    user = world.a.manager
    owner = auth.client_for(user)
    db.session.expire_all()
    cookie = encode_cookie(db.session.get(User, user.id).get_id())
    remembered = app.test_client()
    remembered.set_cookie(COOKIE_NAME, cookie)
    assert remembered.get(PAGE).status_code == 200
    owner.post("/logout")
    replayed = app.test_client()
    replayed.set_cookie(COOKIE_NAME, cookie)
    assert_sent_to_sign_in(replayed)


def test_sign_out_everywhere_else_keeps_only_this_browser(app, world, auth):
    owner = auth.client_for(world.a.viewer)
    thief = copy_of(owner, app)
    laptop = auth.client_for(world.a.viewer)
    response = owner.post("/logout-everywhere", data={"next": "/admin/organisations"})
    assert response.status_code == 302 and response.location == "/admin/organisations"
    page = owner.get(PAGE).get_data(as_text=True)
    assert "Đã đăng xuất tài khoản của bạn ở mọi nơi khác." in page
    assert_sent_to_sign_in(thief)
    assert_sent_to_sign_in(laptop)
    assert owner.post("/logout-everywhere", data={"next": "https://evil.example/"}).location.startswith("/")


@pytest.fixture
def csrf_app(make_app):
    return make_app(WTF_CSRF_ENABLED=True)


def _token(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def test_sign_out_everywhere_is_a_form_in_the_header_with_its_csrf_token(csrf_app, world, auth):
    client = csrf_app.test_client()
    auth.login(world.a.viewer, client=client, data={"csrf_token": _token(client.get("/login").get_data(as_text=True))})
    thief = copy_of(client, csrf_app)
    page = client.get(PAGE).get_data(as_text=True)
    assert 'action="/logout-everywhere"' in page and "Đăng xuất ở mọi nơi khác" in page
    assert client.post("/logout-everywhere", data={"next": PAGE}).status_code == 400  # no token
    assert thief.get(PAGE).status_code == 200
    assert client.post("/logout-everywhere", data={"next": PAGE, "csrf_token": _token(page)}).status_code == 302
    assert thief.get(PAGE).status_code == 302
    assert client.get(PAGE).status_code == 200


def test_english_workspace_names_the_button(app, world, auth):
    page = auth.client_for(world.a.viewer).get(PAGE + "?lang=en").get_data(as_text=True)
    assert "Sign out everywhere else" in page


def test_tokens_differ_per_account_and_never_reach_the_audit_log(world, auth):
    tokens = db.session.scalars(sa.select(User.session_token)).all()
    assert len(set(tokens)) == len(tokens) and all(len(t) == 32 for t in tokens)
    admin = auth.client_for(world.admin)
    admin.post(f"/admin/users/{world.a.viewer.id}/toggle")
    from admin_helpers import last_audit

    event = last_audit()
    assert event.action == "user.deactivate" and "session_token" not in (event.before or {}) | (event.after or {})
