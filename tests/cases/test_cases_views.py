"""The cases in the workspace: the list (filters, overdue highlighted, inert exports), a case's
page (masking for viewers), who may act, 404 outside the subtree, CSRF, and the comments page
that opens cases instead of marking comments handled."""
from __future__ import annotations

import csv
import io
import re

import sqlalchemy as sa

from case_helpers import add_response, local, the_case
from surveyapp.cases import open_cases_for_new_responses
from surveyapp.extensions import db
from surveyapp.models import AuditEvent, Case
from tests.conftest import detached, reloaded

WIDE = {"from": "2026-01-01", "to": "2026-12-31"}


def opened(app, world, side: str, **kwargs) -> Case:
    """A case opened for a new response at commune ``side`` ("a" or "b"), in an app context of its
    own: the case, detached."""
    with app.app_context():
        commune = getattr(reloaded(world), side)
        response = add_response(commune, **{"rating": 1, "comment": "Chờ quá lâu ở quầy.", **kwargs})
        open_cases_for_new_responses()
        return detached(the_case(response))


def case_now(app, case_id: int) -> Case:
    """The case as stored now, detached."""
    with app.app_context():
        return detached(db.session.get(Case, case_id))


def test_the_list_shows_the_subtree_highlights_overdue_cases_and_filters(app, world_rows, auth):
    world = world_rows
    late = opened(app, world, "a", comment="Quầy đóng cửa sớm.", at=local(2026, 3, 2, 9))
    recent = opened(app, world, "a", comment="Thiếu ghế.")
    other = opened(app, world, "b", comment="Nhà vệ sinh xã Bắc Sơn bẩn.")
    client = auth.client_for(world.a.manager)
    html = client.get("/admin/cases").get_data(as_text=True)
    assert f"#{late.id}" in html and f"#{recent.id}" in html
    assert "Bắc Sơn" not in html and f"#{other.id}<" not in html
    row = re.search(rf'<tr class="overdue">\s*<th scope="row"><a href="/admin/cases/{late.id}">', html)
    assert row is not None and "Quá hạn" in html
    html = client.get("/admin/cases", query_string={"q": "ghế"}).get_data(as_text=True)
    assert f"#{recent.id}<" in html and f"#{late.id}<" not in html
    html = client.get("/admin/cases", query_string={"from": "2026-03-01", "to": "2026-03-02"}).get_data(as_text=True)
    assert f"#{late.id}<" in html and f"#{recent.id}<" in html  # both responses were sent on 2/3
    html = client.get("/admin/cases", query_string={"state": "resolved"}).get_data(as_text=True)
    assert "Không có hồ sơ phản ánh nào." in html
    html = client.get("/admin/cases", query_string={"assignee": world.a.manager.id}).get_data(as_text=True)
    assert f"#{late.id}<" in html
    html = client.get("/admin/cases", query_string={"assignee": "none"}).get_data(as_text=True)
    assert f"#{late.id}<" not in html
    # Filters pointing at another commune, or malformed, are refused.
    assert client.get("/admin/cases", query_string={"org": world.b.org.id}).status_code == 404
    assert client.get("/admin/cases", query_string={"point": world.b.sp.id}).status_code == 404
    bad = client.get("/admin/cases", query_string={"state": "x"})
    assert bad.status_code == 400 and "Trạng thái không hợp lệ." in bad.get_data(as_text=True)
    assert client.get("/admin/cases", query_string={"from": "2026-13-01"}).status_code == 400
    # The on-time share of the cases due in the chosen days: the one due 9/3 is still open.
    html = client.get("/admin/cases", query_string={"from": "2026-03-01", "to": "2026-03-31"}).get_data(as_text=True)
    assert "Xử lý đúng hạn (hồ sơ đến hạn từ 01/03/2026 đến 31/03/2026): 0/2" in html
    # The province's manager sees both communes.
    province = auth.client_for(world.admin).get("/admin/cases").get_data(as_text=True)
    assert f"#{other.id}<" in province and f"#{late.id}<" in province


def test_exports_hold_the_filtered_cases_as_inert_text_without_contacts(app, world_rows, auth):
    world = world_rows
    nasty = opened(app, world, "a", comment="=HYPERLINK(\"http://x\",\"bấm\") gọi 0912 345 678", contact="dan@example.vn")
    opened(app, world, "a", comment="-1+2")
    opened(app, world, "b", comment="Bắc Sơn")
    client = auth.client_for(world.a.viewer)
    r = client.get("/admin/cases/export.csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(r.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][0] == "Mã hồ sơ" and len(rows) == 3
    comments = {row[8] for row in rows[1:]}
    assert comments == {"'=HYPERLINK(\"http://x\",\"bấm\") gọi [số điện thoại]", "'-1+2"}
    assert "dan@example.vn" not in r.get_data(as_text=True) and "Bắc Sơn" not in r.get_data(as_text=True)
    assert str(nasty.id) in {row[0] for row in rows[1:]}

    from openpyxl import load_workbook

    r = client.get("/admin/cases/export.xlsx", query_string={"q": "HYPERLINK"})
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.get_data())).active
    values = [[c.value for c in row] for row in ws.iter_rows()]
    assert len(values) == 2 and values[1][8].startswith("'=HYPERLINK")
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)


def test_the_case_page_masks_the_comment_and_contact_for_viewers_only(app, world_rows, auth):
    world = world_rows
    case = opened(app, world, "a", comment="Gọi tôi 0912 345 678.", contact="dan@example.vn")
    viewer = auth.client_for(world.a.viewer).get(f"/admin/cases/{case.id}").get_data(as_text=True)
    assert "0912 345 678" not in viewer and "dan@example.vn" not in viewer and "[số điện thoại]" in viewer
    assert "Tiếp nhận" not in viewer and 'action="/admin/cases/' not in viewer  # no buttons
    manager = auth.client_for(world.a.manager).get(f"/admin/cases/{case.id}").get_data(as_text=True)
    assert "0912 345 678" in manager and "dan@example.vn" in manager
    assert "Tiếp nhận" in manager and "Đã xử lý xong" in manager and "Đóng hồ sơ" not in manager
    assert "case.open" in manager  # the history


def test_a_manager_acts_and_a_refused_move_changes_nothing(app, world_rows, auth, outbox):
    world = world_rows
    case = opened(app, world, "a", contact="dan@example.vn")
    client = auth.client_for(world.a.manager)
    r = client.post(f"/admin/cases/{case.id}/transition", data={"to": "closed"})
    assert r.status_code == 303
    assert "Không thể chuyển hồ sơ từ “Mới” sang “Đã đóng”." in client.get(r.location).get_data(as_text=True)
    r = client.post(f"/admin/cases/{case.id}/transition", data={"to": "resolved", "resolution": "  "})
    assert r.status_code == 303 and case_now(app, case.id).state == "new" and outbox.emails == []
    r = client.post(f"/admin/cases/{case.id}/transition", data={"to": "resolved", "resolution": "Đã thêm ghế."})
    assert r.status_code == 302
    assert case_now(app, case.id).state == "resolved" and len(outbox.emails) == 1
    r = client.post(f"/admin/cases/{case.id}/assign", data={"assignee_id": world.b.manager.id})
    assert r.status_code == 400  # not someone who may hold a case of this point
    r = client.post(f"/admin/cases/{case.id}/assign", data={"assignee_id": world.admin.id})
    assert r.status_code == 302 and case_now(app, case.id).assignee_id == world.admin.id
    with app.app_context():
        event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "case.assign")).one()
        assert event.user_id == world.a.manager.id and event.object_id == str(case.id)


def test_a_viewer_cannot_act(app, world_rows, auth):
    world = world_rows
    case = opened(app, world, "a")
    client = auth.client_for(world.a.viewer)
    comment = case.answer_id
    for url, data in ((f"/admin/cases/{case.id}/transition", {"to": "acknowledged"}),
                      (f"/admin/cases/{case.id}/assign", {"assignee_id": world.a.viewer.id}),
                      (f"/admin/cases/open/{comment}", {}),
                      ("/admin/cases/deadlines", {"organisation_id": world.a.org.id, "working_days": 1})):
        assert client.post(url, data=data).status_code == 403, url
    assert case_now(app, case.id).state == "new"
    assert client.get(f"/admin/cases/{case.id}").status_code == 200


def test_another_communes_case_is_404_for_every_route(app, world_rows, auth):
    world = world_rows
    theirs = opened(app, world, "b", comment="Nhà vệ sinh xã Bắc Sơn bẩn.")
    client = auth.client_for(world.a.manager)
    assert client.get(f"/admin/cases/{theirs.id}").status_code == 404
    assert client.post(f"/admin/cases/{theirs.id}/transition", data={"to": "acknowledged"}).status_code == 404
    assert client.post(f"/admin/cases/{theirs.id}/assign", data={"assignee_id": world.a.manager.id}).status_code == 404
    assert client.post(f"/admin/cases/open/{theirs.answer_id}").status_code == 404
    r = client.post("/admin/cases/deadlines", data={"organisation_id": world.b.org.id, "working_days": 1})
    assert r.status_code in (404, 422)
    with app.app_context():
        assert db.session.scalar(sa.text("SELECT count(*) FROM case_deadline")) == 0
    assert case_now(app, theirs.id).state == "new"


def test_deadlines_page_sets_an_organisations_deadline(app, world_rows, auth):
    world = world_rows
    client = auth.client_for(world.a.manager)
    html = client.get("/admin/cases/deadlines").get_data(as_text=True)
    assert "xã An Bình" in html and "Bắc Sơn" not in html
    r = client.post("/admin/cases/deadlines", data={"organisation_id": world.a.org.id, "working_days": 3})
    assert r.status_code == 302
    assert opened(app, world, "a").deadline_days == 3
    r = client.post("/admin/cases/deadlines", data={"organisation_id": world.a.org.id, "working_days": 500})
    assert r.status_code == 422


def test_holidays_page_is_for_administrators(app, world_rows, auth):
    world = world_rows
    assert auth.client_for(world.a.manager).get("/admin/holidays").status_code == 403
    client = auth.client_for(world.admin)
    html = client.get("/admin/holidays", query_string={"year": 2026}).get_data(as_text=True)
    assert "30/04/2026" in html and "Ngày Giỗ Tổ Hùng Vương" in html
    r = client.post("/admin/holidays?year=2026", data={"day": "2026-02-23", "kind": "off", "note": "Nghỉ Tết thêm"})
    assert r.status_code == 302
    assert "Nghỉ Tết thêm" in client.get("/admin/holidays", query_string={"year": 2026}).get_data(as_text=True)
    assert client.post("/admin/holidays/remove", data={"day": "2026-02-23"}).status_code == 302
    assert client.post("/admin/holidays/remove", data={"day": "2026-02-23"}).status_code == 404


def test_the_comments_page_opens_a_case_instead_of_marking_handled(app, world_rows, auth):
    world = world_rows
    with app.app_context():
        response = add_response(reloaded(world).a, rating=5, comment="Cán bộ nhiệt tình, nên có thêm quạt.")
        comment = detached(next(a for a in response.answers if a.text))
        response_id = response.id
    client = auth.client_for(world.a.manager)
    html = client.get("/admin/reports/comments", query_string=WIDE).get_data(as_text=True)
    assert "Mở hồ sơ phản ánh" in html and "Đánh dấu đã xử lý" not in html
    assert client.post(f"/admin/reports/comments/{comment.id}/handled").status_code == 404  # the old route is gone
    r = client.post(f"/admin/cases/open/{comment.id}")
    with app.app_context():
        case = detached(db.session.scalar(sa.select(Case).where(Case.response_id == response_id)))
    assert r.status_code == 302 and r.location.endswith(f"/admin/cases/{case.id}")
    assert (case.origin, case.opened_by_id, case.state) == ("manual", world.a.manager.id, "new")
    assert client.post(f"/admin/cases/open/{comment.id}").location.endswith(f"/admin/cases/{case.id}")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Case)) == 1
    html = client.get("/admin/reports/comments", query_string=WIDE).get_data(as_text=True)
    assert f"Hồ sơ phản ánh #{case.id}" in html
    # A comment counts as handled once its case is resolved.
    client.post(f"/admin/cases/{case.id}/transition", data={"to": "resolved", "resolution": "Đã lắp quạt."})
    assert "quạt" not in client.get("/admin/reports/comments", query_string={**WIDE, "state": "open"}).get_data(
        as_text=True)
    assert "quạt" in client.get("/admin/reports/comments", query_string={**WIDE, "state": "handled"}).get_data(
        as_text=True)


def test_every_case_form_needs_its_csrf_token(make_app, auth):
    from case_helpers import Commune, make_user
    from surveyapp.models import Organisation, ServicePoint, Survey
    from surveyapp.seed import seed_standard

    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        standard = seed_standard()
        org = Organisation(code="XA", name="Xã Một", sector="administrative")
        sp = ServicePoint(organisation=org, name="Một cửa")
        survey = Survey(questionnaire=standard["sipas-admin"], organisation=org, name="S",
                        starts_on=local(2026, 1, 1).date(), status="open", service_points=[sp])
        manager = make_user("ql", "manager", org)
        admin = make_user("qt", "admin", None)
        db.session.add_all([org, sp, survey])
        db.session.commit()
        org_id, admin_id = org.id, admin.id
        response = add_response(Commune(org, sp, survey, manager, manager),
                                rating=1, comment="Chờ quá lâu ở quầy.")
        open_cases_for_new_responses()
        case = detached(the_case(response))
    client = app.test_client()

    def token(url):
        page = client.get(url).get_data(as_text=True)
        return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)

    r = auth.login("qt", client=client, data={"csrf_token": token("/login")})
    assert r.status_code == 302
    for url, data in ((f"/admin/cases/{case.id}/transition", {"to": "acknowledged"}),
                      (f"/admin/cases/{case.id}/assign", {"assignee_id": admin_id}),
                      (f"/admin/cases/open/{case.answer_id}", {}),
                      ("/admin/cases/deadlines", {"organisation_id": org_id, "working_days": 2}),
                      ("/admin/holidays", {"day": "2026-02-23", "kind": "off"}),
                      ("/admin/holidays/remove", {"day": "2026-02-23"})):
        assert client.post(url, data=data).status_code == 400, url
    assert case_now(app, case.id).state == "new"
    with app.app_context():
        assert db.session.scalar(sa.text("SELECT count(*) FROM calendar_day")) == 0
    r = client.post(f"/admin/cases/{case.id}/transition",
                    data={"to": "acknowledged", "csrf_token": token(f"/admin/cases/{case.id}")})
    assert r.status_code == 302 and case_now(app, case.id).state == "acknowledged"
