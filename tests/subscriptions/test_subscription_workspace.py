"""The workspace page and the command line of scheduled reports: scope (404 outside the subtree),
recipients only among accounts that may read the organisation, bad input refused in Vietnamese
with nothing stored, CSRF, the audit log."""
from __future__ import annotations

import re

import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.models import AuditEvent, ReportSubscription




def form(p, **extra) -> dict:
    data = {"organisation_id": p.commune.id, "period_kind": "quarter", "formats": ["docx", "pdf"], "language": "vi",
            "recipient_ids": [p.manager.id, p.province_manager.id], "signer_title": "Chủ tịch",
            "signer_prefix": "TM.", "signer_authority": "Ủy ban nhân dân", "filed_recipients": "Lưu: VT"}
    data.update(extra)
    return {k: v for k, v in data.items() if v is not None}


def count(app, model=ReportSubscription) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_manager_subscribes_and_the_list_shows_it_audited(auth, app, province):
    client = auth.client_for("tinh")
    page = client.get("/admin/report-subscriptions/new").get_data(as_text=True)
    assert "Lê Văn Tỉnh (tinh)" in page and "xamot" in page
    assert "xahai" in page  # an account of the subtree; refused below for a commune it may not read
    response = client.post("/admin/report-subscriptions/new", data=form(province))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with app.app_context():
        sub = db.session.scalars(sa.select(ReportSubscription)).one()
        assert (sub.agency, sub.managing_agency, sub.want_docx, sub.want_pdf) == (
            "UBND xã Một", "UBND tỉnh Thử", True, True)
        assert [u.username for u in sub.recipients] == ["tinh", "xamot"]
        event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "report_subscription.create")).one()
        assert event.user_id == province.province_manager.id and event.after["recipients"] == ["tinh", "xamot"]
    listing = client.get("/admin/report-subscriptions").get_data(as_text=True)
    assert "UBND xã Một" in listing and "Hằng quý" in listing and "DOCX, PDF" in listing
    # The commune's own manager sees it too; the viewer reads it without the buttons.
    assert "UBND xã Một" in auth.client_for("xamot").get("/admin/report-subscriptions").get_data(as_text=True)
    viewer_page = auth.client_for("xem").get("/admin/report-subscriptions").get_data(as_text=True)
    assert "UBND xã Một" in viewer_page and "/toggle" not in viewer_page


def test_outside_the_subtree_nothing_is_seen_or_changed(auth, app, province):
    tinh = auth.client_for("tinh")
    assert tinh.post("/admin/report-subscriptions/new", data=form(province)).status_code == 302
    with app.app_context():
        sub_id = db.session.scalars(sa.select(ReportSubscription.id)).one()
    outsider = auth.client_for("xahai")  # the manager of the other commune
    assert "UBND xã Một" not in outsider.get("/admin/report-subscriptions").get_data(as_text=True)
    for url in (f"/admin/report-subscriptions/{sub_id}/toggle", f"/admin/report-subscriptions/{sub_id}/delete"):
        assert outsider.get(url).status_code == 404
        assert outsider.post(url).status_code == 404
    # Subscribing the other commune (its organisation is outside the subtree): not found.
    refused = outsider.post("/admin/report-subscriptions/new", data=form(province, recipient_ids=[province.outsider.id]))
    assert refused.status_code == 404
    assert count(app) == 1
    with app.app_context():
        assert db.session.get(ReportSubscription, sub_id).active


def test_viewer_changes_nothing(auth, app, province):
    viewer = auth.client_for("xem")
    assert viewer.get("/admin/report-subscriptions/new").status_code == 403
    assert viewer.post("/admin/report-subscriptions/new", data=form(province, recipient_ids=[province.viewer.id])
                       ).status_code == 403
    assert count(app) == 0


def test_bad_input_is_refused_in_vietnamese_and_nothing_is_stored(auth, app, province):
    client = auth.client_for("tinh")
    events = count(app, AuditEvent)
    cases = [
        (form(province, formats=None), "Chọn ít nhất một định dạng: DOCX hoặc PDF."),
        (form(province, recipient_ids=None), "Chọn ít nhất một người nhận."),
        (form(province, signer_title=""), "Vui lòng điền mục này."),
        (form(province, period_kind="week"), "Lựa chọn không hợp lệ."),
        (form(province, signer_title="x" * 201), "Tối đa 200 ký tự."),
        # The other commune's manager may not read commune Một's figures.
        (form(province, recipient_ids=[province.manager.id, province.outsider.id]),
         "Không thể gửi báo cáo của UBND xã Một cho tài khoản xahai"),
    ]
    for data, message in cases:
        response = client.post("/admin/report-subscriptions/new", data=data)
        assert response.status_code == 422, message
        assert message in response.get_data(as_text=True), re.findall(r"<p class=\"error\"[^>]*>([^<]*)", response.get_data(as_text=True))
    # An account of another branch (not in the list, typed into the request): refused too.
    commune_manager = auth.client_for("xamot")
    response = commune_manager.post("/admin/report-subscriptions/new",
                                    data=form(province, recipient_ids=[province.province_manager.id]))
    assert response.status_code == 422
    assert count(app) == 0 and count(app, AuditEvent) == events


def test_pause_and_delete_ask_first_and_are_audited(auth, app, province):
    client = auth.client_for("tinh")
    client.post("/admin/report-subscriptions/new", data=form(province))
    with app.app_context():
        sub_id = db.session.scalars(sa.select(ReportSubscription.id)).one()
    assert "Tạm dừng gửi báo cáo định kỳ?" in client.get(f"/admin/report-subscriptions/{sub_id}/toggle").get_data(
        as_text=True)
    assert client.post(f"/admin/report-subscriptions/{sub_id}/toggle").status_code == 302
    assert "Đang tạm dừng" in client.get("/admin/report-subscriptions").get_data(as_text=True)
    assert client.post(f"/admin/report-subscriptions/{sub_id}/delete").status_code == 302
    assert count(app) == 0
    with app.app_context():
        actions = list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions[-3:] == ["report_subscription.create", "report_subscription.deactivate",
                            "report_subscription.delete"]


def test_forms_need_their_csrf_token(auth, make_app, province):
    csrf_app = make_app(WTF_CSRF_ENABLED=True)
    client = csrf_app.test_client()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                      client.get("/login").get_data(as_text=True)).group(1)
    assert auth.login("tinh", client=client, data={"csrf_token": token}).status_code == 302
    data = form(province)
    assert client.post("/admin/report-subscriptions/new", data=data).status_code == 400
    assert count(csrf_app) == 0
    page = client.get("/admin/report-subscriptions/new").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post("/admin/report-subscriptions/new", data={**data, "csrf_token": token}).status_code == 302
    with csrf_app.app_context():
        sub_id = db.session.scalars(sa.select(ReportSubscription.id)).one()
    assert client.post(f"/admin/report-subscriptions/{sub_id}/toggle").status_code == 400
    assert client.post(f"/admin/report-subscriptions/{sub_id}/delete").status_code == 400
    with csrf_app.app_context():
        assert db.session.get(ReportSubscription, sub_id).active


def test_command_line_add_list_pause_remove(app, province):
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["report-subscriptions", "add", "--org", "P-C", "--period", "quarter",
                                  "--recipient", "xahai", "--signer-title", "Chủ tịch"])
    assert refused.exit_code != 0 and "xahai" in refused.output and count(app) == 0
    outside = runner.invoke(args=["report-subscriptions", "add", "--org", "P-D", "--period", "month",
                                  "--recipient", "xahai", "--signer-title", "Chủ tịch", "--by", "xamot"])
    assert outside.exit_code != 0 and count(app) == 0
    added = runner.invoke(args=["report-subscriptions", "add", "--org", "P-C", "--period", "quarter", "--format", "pdf",
                                "--recipient", "xamot", "--recipient", "tinh", "--signer-title", "Chủ tịch",
                                "--by", "tinh"])
    assert added.exit_code == 0, added.output
    with app.app_context():
        sub = db.session.scalars(sa.select(ReportSubscription)).one()
        assert (sub.want_docx, sub.want_pdf, sub.created_by_id) == (False, True, province.province_manager.id)
        sub_id = sub.id
    listing = runner.invoke(args=["report-subscriptions", "list"]).output
    assert "P-C" in listing and "quarter" in listing and "pdf" in listing and "active" in listing
    assert runner.invoke(args=["report-subscriptions", "pause", str(sub_id)]).exit_code == 0
    assert "paused" in runner.invoke(args=["report-subscriptions", "list", "--org", "P-C"]).output
    assert "No subscriptions." in runner.invoke(args=["report-subscriptions", "list", "--org", "P-D"]).output
    assert runner.invoke(args=["report-subscriptions", "remove", str(sub_id)]).exit_code == 0
    assert count(app) == 0
    with app.app_context():
        actions = list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions == ["report_subscription.create", "report_subscription.pause", "report_subscription.delete"]
