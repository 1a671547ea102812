"""The workspace side: alert states, the notification list and its unread count, "send again",
webhooks, the profile page, and the commands; each inside the user's subtree."""
from __future__ import annotations

import re
from datetime import time

import sqlalchemy as sa
from alert_helpers import minutes_ago, rate

from surveyapp import alerts, outbox
from surveyapp.extensions import db
from surveyapp.models import Alert, AlertRule, AlertSubscription, User, Webhook

def raise_burst(province):
    for m in (3, 2, 1):
        rate(province.survey, province.point, 1, minutes_ago(m))
    assert alerts.evaluate_frequent() == 1
    return db.session.scalar(sa.select(Alert))


def test_a_manager_acknowledges_then_closes_and_the_unread_count_falls(app, province, auth):
    alert = raise_burst(province)
    client = auth.client_for(province.manager)
    page = client.get("/admin/alerts").get_data(as_text=True)
    assert "Quầy Tư pháp" in page
    assert re.search(r'class="badge count"[^>]*>1<', page)  # one unread in the header

    assert client.get(f"/admin/alerts/{alert.id}").status_code == 200  # reading it marks it read
    assert not re.search(r'class="badge count"[^>]*>\d', client.get("/admin/notifications").get_data(as_text=True))
    assert client.post(f"/admin/alerts/{alert.id}/acknowledge").status_code == 302
    db.session.expire_all()
    assert alert.state == "acknowledged" and alert.acknowledged_by_id == province.manager.id
    assert client.post(f"/admin/alerts/{alert.id}/close").status_code == 302
    db.session.expire_all()
    assert alert.state == "closed" and alert.closed_at is not None
    again = client.post(f"/admin/alerts/{alert.id}/acknowledge", follow_redirects=True)
    assert "không thể chuyển" in again.get_data(as_text=True)


def test_others_cannot_see_or_change_an_alert(app, province, auth):
    alert = raise_burst(province)
    outsider = auth.client_for(province.outsider)  # manager of the other commune
    assert outsider.get(f"/admin/alerts/{alert.id}").status_code == 404
    assert outsider.post(f"/admin/alerts/{alert.id}/close").status_code == 404
    assert "Quầy Tư pháp" not in outsider.get("/admin/alerts").get_data(as_text=True)
    viewer = auth.client_for(province.viewer)
    assert viewer.get(f"/admin/alerts/{alert.id}").status_code == 200
    assert viewer.post(f"/admin/alerts/{alert.id}/close").status_code == 403
    db.session.expire_all()
    assert alert.state == "open"


def test_failed_delivery_is_shown_with_its_error_and_sent_again_from_the_workspace(app, province, receiver, auth):
    hook = Webhook(organisation_id=province.commune.id, url=receiver.url, secret="x" * 20)
    db.session.add(hook)
    db.session.commit()
    receiver.script = [500]
    [item] = outbox.enqueue_webhook(province.commune.id, "alert.opened", {"n": 1}, dedupe_key="ui")
    db.session.commit()
    outbox.deliver_due()
    client = auth.client_for(province.province_manager)
    listing = client.get("/admin/deliveries").get_data(as_text=True)
    assert "HTTP 500" in listing
    detail = client.get(f"/admin/deliveries/{item.id}").get_data(as_text=True)
    assert item.event_id in detail and "Gửi lại" in detail
    assert client.post(f"/admin/deliveries/{item.id}/send-again").status_code == 302
    assert outbox.deliver_due() == 1
    db.session.expire_all()
    assert item.status == "delivered" and len(receiver.calls) == 2
    # The other commune's manager sees none of it.
    other = auth.client_for(province.outsider)
    assert other.get(f"/admin/deliveries/{item.id}").status_code == 404
    assert receiver.url not in other.get("/admin/deliveries").get_data(as_text=True)


def test_profile_sets_email_language_quiet_hours_digest_and_rules(app, province, auth):
    alerts.evaluate_frequent()  # creates the default rule
    rule = db.session.scalar(sa.select(AlertRule))
    client = auth.client_for(province.viewer)
    page = client.get("/admin/profile").get_data(as_text=True)
    assert "Nhiều ý kiến không hài lòng" in page
    bad = client.post("/admin/profile", data={"email": "not an address", "language": "vi", "digest_frequency": "week"})
    assert bad.status_code == 422 and "không hợp lệ" in bad.get_data(as_text=True)
    res = client.post("/admin/profile", data={"email": " xem2@example.gov.vn ", "language": "en",
                                              "digest_frequency": "week", "quiet_start": "21:00",
                                              "quiet_end": "06:30", "rules": [str(rule.id)]})
    assert res.status_code == 302
    user = db.session.get(User, province.viewer.id)
    db.session.refresh(user)
    assert (user.email, user.language, user.digest_frequency) == ("xem2@example.gov.vn", "en", "week")
    assert (user.quiet_start, user.quiet_end) == (time(21, 0), time(6, 30))
    assert db.session.get(AlertSubscription, (user.id, rule.id)).subscribed is True


def test_webhooks_from_the_workspace_and_the_command_line(app, province, receiver, auth):
    client = auth.client_for(province.manager)
    short = client.post("/admin/webhooks/new", data={"organisation_id": province.commune.id, "url": receiver.url,
                                                     "secret": "short"})
    assert short.status_code == 422 and "ít nhất 16" in short.get_data(as_text=True)
    res = client.post("/admin/webhooks/new", data={"organisation_id": province.commune.id, "url": receiver.url,
                                                   "secret": "a-long-enough-secret"})
    assert res.status_code == 302
    outside = client.post("/admin/webhooks/new", data={"organisation_id": province.other.id, "url": receiver.url,
                                                       "secret": "another-long-secret"})
    assert outside.status_code in (404, 422)  # not one of the form's organisations
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Webhook)) == 1
    page = client.get("/admin/webhooks").get_data(as_text=True)
    assert receiver.url in page and "a-long-enough-secret" not in page

    runner = app.test_cli_runner()
    out = runner.invoke(args=["alerts", "add-webhook", "--org", "P", "--url", "https://ops.example.gov.vn/in",
                              "--secret", "province-ops-secret-1"])
    assert out.exit_code == 0, out.output
    bad = runner.invoke(args=["alerts", "add-webhook", "--org", "P", "--url", "ftp://x", "--secret", "x" * 20])
    assert bad.exit_code != 0 and "http" in bad.output
    listing = runner.invoke(args=["alerts", "list"])
    assert "https://ops.example.gov.vn/in" in listing.output and "dissatisfied_burst" in listing.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Webhook)) == 2


def test_a_webhook_is_switched_off_only_inside_the_subtree_and_the_change_is_audited(app, province, auth):
    from surveyapp.alerts.webhooks import add_webhook
    from surveyapp.models import AuditEvent

    hook = add_webhook(province.commune, "https://ops.example.gov.vn/in", "a-long-enough-secret", None)
    db.session.commit()
    outsider = auth.client_for(province.outsider)  # manager of the other commune
    assert outsider.post(f"/admin/webhooks/{hook.id}/toggle").status_code == 404
    assert outsider.post("/admin/webhooks/999999/toggle").status_code == 404  # missing looks the same
    db.session.expire_all()
    assert db.session.get(Webhook, hook.id).active
    manager = auth.client_for(province.manager)
    response = manager.post(f"/admin/webhooks/{hook.id}/toggle", follow_redirects=True)
    assert response.status_code == 200 and "Đã tắt webhook." in response.get_data(as_text=True)
    db.session.expire_all()
    assert not db.session.get(Webhook, hook.id).active
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "webhook.toggle")).one()
    assert event.before["active"] is True and event.after["active"] is False


def test_create_admin_takes_an_email(app, province):
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["create-admin", "sep", "--password", "12345678", "--email", "sep@example.gov.vn"])
    assert ok.exit_code == 0, ok.output
    assert db.session.scalar(sa.select(User.email).where(User.username == "sep")) == "sep@example.gov.vn"
    bad = runner.invoke(args=["create-admin", "sep2", "--password", "12345678", "--email", "nope"])
    assert bad.exit_code != 0 and "không hợp lệ" in bad.output


def test_forms_carry_a_csrf_token_and_refuse_a_post_without_one(make_app, province, auth):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        client = app.test_client()
        login_page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
        assert auth.login("xamot", client=client, data={"csrf_token": token}).status_code == 302
        page = client.get("/admin/profile").get_data(as_text=True)
        assert 'name="csrf_token"' in page
        refused = client.post("/admin/profile", data={"email": "a@b.vn", "language": "vi",
                                                      "digest_frequency": "none"})
        assert refused.status_code in (400, 422)
        db.session.expire_all()
        assert db.session.get(User, province.manager.id).email == "xamot@example.gov.vn"


def test_rules_are_added_and_edited_in_the_workspace_and_the_terms_list_is_editable(app, province, auth):
    from alert_helpers import comment

    client = auth.client_for(province.manager)
    res = client.post("/admin/alert-rules/new", data={"organisation_id": province.commune.id, "kind": "harassment"})
    assert res.status_code == 302
    rule = db.session.scalar(sa.select(AlertRule).where(AlertRule.kind == "harassment"))
    form = client.get(f"/admin/alert-rules/{rule.id}/edit").get_data(as_text=True)
    assert "nhũng nhiễu" in form
    res = client.post(f"/admin/alert-rules/{rule.id}/edit", data={
        "active": "y", "terms": "tiền trà bánh\nnhũng nhiễu\n\n", "cap_count": "2", "cap_window_minutes": "30"})
    assert res.status_code == 302, res.get_data(as_text=True)[:2000]
    db.session.refresh(rule)
    assert rule.params == {"terms": ["tiền trà bánh", "nhũng nhiễu"]} and rule.cap_count == 2
    comment(province.full_survey, province.point, "Phai dua tien tra banh", minutes_ago(1), overall=4)
    assert alerts.evaluate_frequent() == 1

    empty = client.post(f"/admin/alert-rules/{rule.id}/edit", data={"terms": "", "cap_count": "0",
                                                                   "cap_window_minutes": "30"})
    assert empty.status_code == 422
    outsider = auth.client_for(province.outsider)
    assert outsider.get(f"/admin/alert-rules/{rule.id}/edit").status_code == 404
    assert auth.client_for(province.viewer).get(f"/admin/alert-rules/{rule.id}/edit").status_code == 403


def test_a_silent_kiosk_rule_takes_opening_hours_and_working_days(app, province, auth):
    client = auth.client_for(province.manager)
    client.post("/admin/alert-rules/new", data={"organisation_id": province.commune.id, "kind": "silent_kiosk"})
    rule = db.session.scalar(sa.select(AlertRule).where(AlertRule.kind == "silent_kiosk"))
    assert "Thứ Bảy" in client.get(f"/admin/alert-rules/{rule.id}/edit").get_data(as_text=True)
    bad = client.post(f"/admin/alert-rules/{rule.id}/edit", data={
        "hours": "3", "opens": "17:00", "closes": "07:30", "weekdays": ["0"], "cap_count": "1",
        "cap_window_minutes": "60"})
    assert bad.status_code == 422 and "sau giờ mở cửa" in bad.get_data(as_text=True)
    ok = client.post(f"/admin/alert-rules/{rule.id}/edit", data={
        "active": "y", "hours": "3", "opens": "07:00", "closes": "11:30", "weekdays": ["0", "5"], "cap_count": "1",
        "cap_window_minutes": "60"})
    assert ok.status_code == 302
    db.session.refresh(rule)
    assert rule.params == {"hours": 3, "opens": "07:00", "closes": "11:30", "weekdays": [0, 5]}
