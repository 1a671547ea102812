"""Nobody sets their own bar: an organisation's own target is set from the level above, and may be
stricter than the one it inherits (the sector's, from Resolution 76; an ancestor's), never laxer."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from admin_helpers import audit_count
from surveyapp.extensions import db
from surveyapp.models import Target
from surveyapp.targets import at_least_as_strict


def text(response) -> str:
    return response.get_data(as_text=True)


def form(org, value, *, operator=">=", start="2026-01-01", end="2026-12-31", source="Kế hoạch riêng"):
    return {"indicator": "quick", "sector": "", "organisation_id": org.id, "value": value, "operator": operator,
            "valid_from": start, "valid_to": end, "source": source}


def own_targets(org) -> list[tuple[float, str]]:
    db.session.expire_all()
    return [(t.value, t.operator) for t in db.session.scalars(
        sa.select(Target).where(Target.organisation_id == org.id).order_by(Target.id))]


def test_a_manager_cannot_set_its_own_units_target(world, auth):
    client = auth.client_for(world.a.manager)
    events, before = audit_count(), own_targets(world.a.org)
    response = client.post("/admin/targets/new", data=form(world.a.org, "10"))
    assert response.status_code == 422  # its own unit is not among the choices
    choices = text(client.get("/admin/targets/new")).split('name="organisation_id"')[1].split("</select>")[0]
    assert f'value="{world.a.org.id}"' not in choices and f'value="{world.a.child.id}"' in choices
    assert client.get(f"/admin/targets/{world.a.target.id}/edit").status_code == 403
    assert client.post(f"/admin/targets/{world.a.target.id}/edit", data=form(world.a.org, "10")).status_code == 403
    assert client.post(f"/admin/targets/{world.a.target.id}/delete").status_code == 403
    assert f"/admin/targets/{world.a.target.id}/edit" not in text(client.get("/admin/targets"))
    assert own_targets(world.a.org) == before and audit_count() == events
    # An administrator of the commune is no different: A's bar is the province's to set.
    assert auth.client_for(world.a.admin).post(f"/admin/targets/{world.a.target.id}/edit",
                                       data=form(world.a.org, "10")).status_code == 403


def test_the_province_sets_a_communes_target_never_below_the_sector(world, auth):
    client = auth.client_for(world.province_admin)
    events = audit_count()
    response = client.post("/admin/targets/new", data=form(world.a.org, "92.5"))
    assert response.status_code == 422
    page = text(response)
    assert "không được thấp hơn: ≥ 95.0% theo Nghị quyết 76/NQ-CP" in page
    assert 'id="value-error"' in page
    assert own_targets(world.a.org) == [(0.9, ">=")] and audit_count() == events
    # Equal to the sector's bar, or stricter, is allowed.
    assert client.post("/admin/targets/new", data=form(world.a.org, "95")).status_code == 302
    assert client.post("/admin/targets/new", data=form(world.a.org, "96", operator=">")).status_code == 302
    assert own_targets(world.a.org)[-2:] == [(0.95, ">="), (0.96, ">")]
    # The previous period's bar was 90%: 92% for 2024 is stricter than it.
    assert client.post("/admin/targets/new", data=form(world.a.org, "92", start="2024-01-01",
                                                       end="2024-12-31")).status_code == 302
    # A period that reaches into 2026 meets the 2026 bar.
    assert client.post("/admin/targets/new", data=form(world.a.org, "92", start="2025-06-01",
                                                       end="2026-06-30")).status_code == 422


def test_a_unit_below_inherits_its_parents_own_target(world, auth):
    """The commune's manager sets its sub-unit's bar: at least the commune's own (set by the province)."""
    assert auth.client_for(world.province_admin).post("/admin/targets/new", data=form(world.a.org, "97")).status_code == 302
    client = auth.client_for(world.a.manager)
    response = client.post("/admin/targets/new", data=form(world.a.child, "96"))
    assert response.status_code == 422 and "≥ 97.0% theo xã An Bình" in text(response)
    response = client.post("/admin/targets/new", data=form(world.a.child, "97"))
    assert response.status_code == 302
    assert own_targets(world.a.child) == [(0.97, ">=")]


def test_lowering_an_existing_own_target_below_the_sector_is_refused_and_nothing_changes(world, auth):
    client = auth.client_for(world.province_admin)
    assert client.post("/admin/targets/new", data=form(world.b.org, "98", source="Tỉnh giao")).status_code == 302
    target = db.session.scalar(sa.select(Target).where(Target.source == "Tỉnh giao"))
    events = audit_count()
    response = client.post(f"/admin/targets/{target.id}/edit", data=form(world.b.org, "10", source="Tỉnh giao"))
    assert response.status_code == 422
    db.session.expire_all()
    assert db.session.get(Target, target.id).value == 0.98 and audit_count() == events
    # The installation's administrator is held to the same rule.
    response = auth.client_for(world.admin).post(f"/admin/targets/{target.id}/edit", data=form(world.b.org, "10"))
    assert response.status_code == 422


def test_top_level_units_target_is_the_installations(world, auth):
    assert auth.client_for(world.province_admin).post("/admin/targets/new", data=form(world.province, "99")).status_code == 422
    assert own_targets(world.province) == []
    assert auth.client_for(world.admin).post("/admin/targets/new", data=form(world.province, "99")).status_code == 302
    assert own_targets(world.province) == [(0.99, ">=")]


@pytest.mark.parametrize(("mine", "theirs", "ok"), [
    ((0.95, ">="), (0.95, ">="), True),
    ((0.95, ">"), (0.95, ">="), True),
    ((0.95, ">="), (0.95, ">"), False),
    ((0.951, ">="), (0.95, ">"), True),
    ((0.949, ">"), (0.95, ">="), False),
    ((0.1, ">="), (0.95, ">="), False),
    ((0.7 + 0.2, ">="), (0.9, ">="), True),  # float noise of a percent entered with one decimal
])
def test_at_least_as_strict(mine, theirs, ok):
    assert at_least_as_strict(*mine, *theirs) is ok
