"""Sign-in routes of the auth blueprint (the workspace's own sign-in tests: tests/admin/)."""
from __future__ import annotations

from flask import has_app_context

from auth_actions import PASSWORD
from surveyapp.extensions import db
from surveyapp.models import User


def test_site_root_leads_to_the_workspace_sign_in(client):
    r = client.get("/")
    assert r.status_code == 302 and r.headers["Location"].endswith("/admin/")
    assert "/login" in client.get("/admin/").headers["Location"]


def test_one_browser_signing_in_signs_in_no_other_and_signing_out_ends_it(app, client, auth):
    """Each request has an app context of its own (none is held by the test), so the user one
    browser signed in as is never the next browser's."""
    with app.app_context():
        admin = User(username="quantri", role="admin")
        admin.set_password(PASSWORD)
        db.session.add(admin)
        db.session.commit()
    assert not has_app_context()
    assert auth.login("quantri").status_code == 302
    other = app.test_client()
    assert client.get("/admin/organisations").status_code == 200
    assert other.get("/admin/organisations").status_code == 302
    assert auth.logout().status_code == 302
    assert client.get("/admin/organisations").status_code == 302
