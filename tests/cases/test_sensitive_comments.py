"""Comments on health services are sensitive: only the roles in SENSITIVE_COMMENT_ROLES see them
unmasked on the case page; the other managers see them masked."""
from __future__ import annotations

from case_helpers import add_response, the_case
from surveyapp.cases import open_cases_for_new_responses
from surveyapp.extensions import db
from tests.conftest import reloaded


def test_health_comments_are_unmasked_only_for_the_granted_roles(app, world_rows, auth):
    world = world_rows
    with app.app_context():
        w = reloaded(world)
        w.a.org.sector = "health"
        db.session.commit()
        response = add_response(w.a, rating=1, comment="Bệnh nhân gọi 0912 345 678, đau dạ dày.",
                                contact="dan@example.vn")
        open_cases_for_new_responses()
        case_id = the_case(response).id
    manager = auth.client_for(world.a.manager).get(f"/admin/cases/{case_id}").get_data(as_text=True)
    assert "0912 345 678" not in manager and "[số điện thoại]" in manager
    assert "dan@example.vn" in manager  # the contact is basic data, for answering the citizen
    admin = auth.client_for(world.admin).get(f"/admin/cases/{case_id}").get_data(as_text=True)
    assert "0912 345 678" in admin
    app.config["SENSITIVE_COMMENT_ROLES"] = ("admin", "manager")
    assert "0912 345 678" in auth.client_for(world.a.manager).get(f"/admin/cases/{case_id}").get_data(as_text=True)


def test_other_sectors_stay_unmasked_for_managers(app, world_rows, auth):
    world = world_rows
    with app.app_context():
        response = add_response(reloaded(world).a, rating=1, comment="Gọi tôi 0912 345 678.")
        open_cases_for_new_responses()
        case_id = the_case(response).id
    assert "0912 345 678" in auth.client_for(world.a.manager).get(f"/admin/cases/{case_id}").get_data(as_text=True)
