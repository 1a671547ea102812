"""API keys in the workspace: made for one's own subtree, shown once, audited, revoked at once;
another commune's keys are neither listed nor revocable, and viewers get nothing."""
from __future__ import annotations

import re

import sqlalchemy as sa
from flask import current_app

from admin_helpers import audit_count
from surveyapp.auth.apikeys import create_key
from surveyapp.extensions import db
from surveyapp.models import ApiKey, AuditEvent


def test_a_manager_makes_a_key_for_its_subtree_sees_it_once_and_revokes_it(app, world, auth):
    client = auth.client_for(world.a.manager)
    form = client.get("/admin/api-keys/new").get_data(as_text=True)
    assert world.a.org.code in form and world.a.child.code in form
    assert "XA-BAC" not in form and f"({world.province.code})" not in form

    r = client.post("/admin/api-keys/new", data={"organisation_id": world.a.child.id, "scope": "reports",
                                                 "name": "Cổng dữ liệu xã"})
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    key = re.search(r'data-testid="api-key">(sak_[^<]+)<', page).group(1)
    row = db.session.scalar(sa.select(ApiKey).where(ApiKey.name == "Cổng dữ liệu xã"))
    assert (row.organisation_id, row.scope, row.name) == (world.a.child.id, "reports", "Cổng dữ liệu xã")
    assert key.split("_", 2)[2] not in client.get("/admin/api-keys").get_data(as_text=True)
    assert f"sak_{row.prefix}_…" in client.get("/admin/api-keys").get_data(as_text=True)
    assert app.test_client().get("/api/v1/reports", headers={"X-API-Key": key}).json["scope_code"] == world.a.child.code
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "api_key.create"))
    assert event.user_id == world.a.manager.id and event.after["organisation_id"] == world.a.child.id

    # Revoking asks first (GET), then refuses the key at once.
    assert client.get(f"/admin/api-keys/{row.id}/revoke").status_code == 200
    assert client.post(f"/admin/api-keys/{row.id}/revoke").status_code == 302
    assert app.test_client().get("/api/v1/reports", headers={"X-API-Key": key}).status_code == 401
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "api_key.revoke")) == 1


def test_nothing_of_another_commune_and_nothing_for_viewers(app, world, auth):
    with current_app.test_request_context():
        theirs, _key = create_key(world.b.org, "reports", "Hệ thống xã Bắc Sơn")
    db.session.commit()
    events, keys = audit_count(), db.session.scalar(sa.select(sa.func.count()).select_from(ApiKey))
    client = auth.client_for(world.a.manager)
    assert "Hệ thống xã Bắc Sơn" not in client.get("/admin/api-keys").get_data(as_text=True)
    assert client.get(f"/admin/api-keys/{theirs.id}/revoke").status_code == 404
    assert client.post(f"/admin/api-keys/{theirs.id}/revoke").status_code == 404
    refused = client.post("/admin/api-keys/new", data={"organisation_id": world.b.org.id, "scope": "reports",
                                                       "name": "Chiếm quyền"})
    assert refused.status_code == 422 and "sak_" not in refused.get_data(as_text=True)
    bad_scope = client.post("/admin/api-keys/new", data={"organisation_id": world.a.org.id, "scope": "admin",
                                                         "name": "x"})
    assert bad_scope.status_code == 422
    viewer = auth.client_for(world.a.viewer)
    assert viewer.get("/admin/api-keys").status_code == 403
    assert viewer.post("/admin/api-keys/new", data={"organisation_id": world.a.org.id, "scope": "reports",
                                                    "name": "x"}).status_code == 403
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiKey)) == keys
    assert db.session.get(ApiKey, theirs.id).revoked_at is None
    assert audit_count() == events
