"""Sign-in routes of the auth blueprint (the workspace's own sign-in tests: tests/admin/)."""
from __future__ import annotations


def test_site_root_leads_to_the_workspace_sign_in(client):
    r = client.get("/")
    assert r.status_code == 302 and r.headers["Location"].endswith("/admin/")
    assert "/login" in client.get("/admin/").headers["Location"]
