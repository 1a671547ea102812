"""The workspace's personal-data page: managers find a citizen's responses within their subtree,
export them as inert CSV, erase them after a confirmation; viewers have no access; the erase
form needs its CSRF token."""
from __future__ import annotations

import sqlalchemy as sa

from case_helpers import add_response
from surveyapp.extensions import db
from surveyapp.models import AuditEvent, Response
from tests.conftest import reloaded


def test_manager_finds_exports_and_erases_within_the_subtree(app, world_rows, auth):
    world = world_rows
    with app.app_context():
        w = reloaded(world)
        mine = add_response(w.a, comment="=HYPERLINK(\"http://x\")", contact="Dan@Example.vn")
        theirs = add_response(w.b, comment="Khác", contact="dan@example.vn")
        mine_id, theirs_id = mine.id, theirs.id
    client = auth.client_for(world.a.manager)
    assert "Dữ liệu cá nhân" in client.get("/admin/privacy").get_data(as_text=True)  # the nav entry and page
    page = client.post("/admin/privacy", data={"contact": "dan@example.vn"}).get_data(as_text=True)
    assert "1 phiếu có d***@example.vn" in page and f">{mine_id}<" in page and f">{theirs_id}<" not in page
    bad = client.post("/admin/privacy", data={"contact": "xin chào"})
    assert bad.status_code == 422 and "Không phải địa chỉ email hay số điện thoại." in bad.get_data(as_text=True)
    client.post("/admin/privacy", data={"contact": "dan@example.vn"})
    csv_text = client.post("/admin/privacy/export.csv").get_data(as_text=True)
    assert "Dan@Example.vn" in csv_text and "'=HYPERLINK" in csv_text
    confirm = client.get("/admin/privacy/erase").get_data(as_text=True)
    assert "d***@example.vn" in confirm and "Dan@Example.vn" not in confirm
    assert client.post("/admin/privacy/erase").status_code == 302
    with app.app_context():
        assert db.session.get(Response, mine_id).contact is None
        assert all(a.text is None for a in db.session.get(Response, mine_id).answers)
        assert db.session.get(Response, theirs_id).contact == "dan@example.vn"  # another commune's
        event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "privacy.erase")).one()
        assert event.user_id == world.a.manager.id and "example" not in str(event.after)


def test_viewers_cannot_use_the_page(world_rows, auth):
    world = world_rows
    client = auth.client_for(world.a.viewer)
    assert client.get("/admin/privacy").status_code == 403
    assert client.post("/admin/privacy", data={"contact": "dan@example.vn"}).status_code == 403


def test_erase_needs_the_csrf_token(app, world_rows, auth):
    world = world_rows
    with app.app_context():
        add_response(reloaded(world).a, contact="dan@example.vn")
    client = auth.client_for(world.a.manager)
    client.post("/admin/privacy", data={"contact": "dan@example.vn"})
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post("/admin/privacy/erase").status_code == 400
    app.config["WTF_CSRF_ENABLED"] = False
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Response).where(
            Response.contact.is_not(None))) == 1


def test_erase_without_a_search_goes_back_to_the_search(world_rows, auth):
    world = world_rows
    client = auth.client_for(world.a.manager)
    r = client.get("/admin/privacy/erase")
    assert r.status_code == 302 and r.location.endswith("/admin/privacy")
