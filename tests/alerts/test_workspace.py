"""The workspace side: alert states, the notification list and its unread count, "send again",
webhooks, the profile page, and the commands; each inside the user's subtree."""
from __future__ import annotations

import re
from datetime import time

import sqlalchemy as sa
from alert_helpers import minutes_ago, rate

from surveyapp import alerts, outbox
from surveyapp.extensions import db
from surveyapp.models import Alert, AlertRule, AlertSubscription, OutboxItem, User, Webhook
from tests.conftest import reloaded


def raise_burst(app, province) -> int:
    """Three dissatisfied ratings at the commune's counter: the id of the one alert they raise."""
    with app.app_context():
        p = reloaded(province)
        for m in (3, 2, 1):
            rate(p.survey, p.point, 1, minutes_ago(m))
        assert alerts.evaluate_frequent() == 1
        return db.session.scalar(sa.select(Alert.id))


def test_a_manager_acknowledges_then_closes_and_the_unread_count_falls(app, province_rows, auth):
    province = province_rows
    alert_id = raise_burst(app, province)
    client = auth.client_for(province.manager)
    page = client.get("/admin/alerts").get_data(as_text=True)
    assert "Quầy Tư pháp" in page
    assert re.search(r'class="badge count"[^>]*>1<', page)  # one unread in the header

    assert client.get(f"/admin/alerts/{alert_id}").status_code == 200  # reading it marks it read
    assert not re.search(r'class="badge count"[^>]*>\d', client.get("/admin/notifications").get_data(as_text=True))
    assert client.post(f"/admin/alerts/{alert_id}/acknowledge").status_code == 302
    with app.app_context():
        alert = db.session.get(Alert, alert_id)
        assert alert.state == "acknowledged" and alert.acknowledged_by_id == province.manager.id
    assert client.post(f"/admin/alerts/{alert_id}/close").status_code == 302
    with app.app_context():
        alert = db.session.get(Alert, alert_id)
        assert alert.state == "closed" and alert.closed_at is not None
    again = client.post(f"/admin/alerts/{alert_id}/acknowledge", follow_redirects=True)
    assert "không thể chuyển" in again.get_data(as_text=True)


def test_others_cannot_see_or_change_an_alert(app, province_rows, auth):
    province = province_rows
    alert_id = raise_burst(app, province)
    outsider = auth.client_for(province.outsider)  # manager of the other commune
    assert outsider.get(f"/admin/alerts/{alert_id}").status_code == 404
    assert outsider.post(f"/admin/alerts/{alert_id}/close").status_code == 404
    assert "Quầy Tư pháp" not in outsider.get("/admin/alerts").get_data(as_text=True)
    viewer = auth.client_for(province.viewer)
    assert viewer.get(f"/admin/alerts/{alert_id}").status_code == 200
    assert viewer.post(f"/admin/alerts/{alert_id}/close").status_code == 403
    with app.app_context():
        assert db.session.get(Alert, alert_id).state == "open"


def test_failed_delivery_is_shown_with_its_error_and_sent_again_from_the_workspace(app, province_rows, receiver, auth):
    province = province_rows
    with app.app_context():
        hook = Webhook(organisation_id=province.commune.id, url=receiver.url, secret="x" * 20)
        db.session.add(hook)
        db.session.commit()
        receiver.script = [500]
        [item] = outbox.enqueue_webhook(province.commune.id, "alert.opened", {"n": 1}, dedupe_key="ui")
        db.session.commit()
        item_id, event_id = item.id, item.event_id
        outbox.deliver_due()
    client = auth.client_for(province.province_manager)
    listing = client.get("/admin/deliveries").get_data(as_text=True)
    assert "HTTP 500" in listing
    detail = client.get(f"/admin/deliveries/{item_id}").get_data(as_text=True)
    assert event_id in detail and "Gửi lại" in detail
    assert client.post(f"/admin/deliveries/{item_id}/send-again").status_code == 302
    with app.app_context():
        assert outbox.deliver_due() == 1
        assert db.session.get(OutboxItem, item_id).status == "delivered" and len(receiver.calls) == 2
    # The other commune's manager sees none of it.
    other = auth.client_for(province.outsider)
    assert other.get(f"/admin/deliveries/{item_id}").status_code == 404
    assert receiver.url not in other.get("/admin/deliveries").get_data(as_text=True)


def test_profile_sets_email_language_quiet_hours_digest_and_rules(app, province_rows, auth):
    province = province_rows
    with app.app_context():
        alerts.evaluate_frequent()  # creates the default rule
        rule_id = db.session.scalar(sa.select(AlertRule.id))
    client = auth.client_for(province.viewer)
    page = client.get("/admin/profile").get_data(as_text=True)
    assert "Nhiều ý kiến không hài lòng" in page
    bad = client.post("/admin/profile", data={"email": "not an address", "language": "vi", "digest_frequency": "week"})
    assert bad.status_code == 422 and "không hợp lệ" in bad.get_data(as_text=True)
    res = client.post("/admin/profile", data={"email": " xem2@example.gov.vn ", "language": "en",
                                              "digest_frequency": "week", "quiet_start": "21:00",
                                              "quiet_end": "06:30", "rules": [str(rule_id)]})
    assert res.status_code == 302
    with app.app_context():
        user = db.session.get(User, province.viewer.id)
        assert (user.email, user.language, user.digest_frequency) == ("xem2@example.gov.vn", "en", "week")
        assert (user.quiet_start, user.quiet_end) == (time(21, 0), time(6, 30))
        assert db.session.get(AlertSubscription, (user.id, rule_id)).subscribed is True


def webhooks(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Webhook))


def test_webhooks_from_the_workspace_and_the_command_line(app, province_rows, receiver, auth):
    province = province_rows
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
    assert webhooks(app) == 1
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
    assert webhooks(app) == 2


def test_a_webhook_is_switched_off_only_inside_the_subtree_and_the_change_is_audited(app, province_rows, auth):
    from surveyapp.alerts.webhooks import add_webhook
    from surveyapp.models import AuditEvent

    province = province_rows
    with app.app_context():
        hook_id = add_webhook(reloaded(province).commune, "https://ops.example.gov.vn/in", "a-long-enough-secret",
                              None).id
        db.session.commit()
    outsider = auth.client_for(province.outsider)  # manager of the other commune
    assert outsider.post(f"/admin/webhooks/{hook_id}/toggle").status_code == 404
    assert outsider.post("/admin/webhooks/999999/toggle").status_code == 404  # missing looks the same
    with app.app_context():
        assert db.session.get(Webhook, hook_id).active
    manager = auth.client_for(province.manager)
    response = manager.post(f"/admin/webhooks/{hook_id}/toggle", follow_redirects=True)
    assert response.status_code == 200 and "Đã tắt webhook." in response.get_data(as_text=True)
    with app.app_context():
        assert not db.session.get(Webhook, hook_id).active
        event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "webhook.toggle")).one()
        assert event.before["active"] is True and event.after["active"] is False


def test_create_admin_takes_an_email(app, province_rows):
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["create-admin", "sep", "--password", "12345678", "--email", "sep@example.gov.vn"])
    assert ok.exit_code == 0, ok.output
    with app.app_context():
        assert db.session.scalar(sa.select(User.email).where(User.username == "sep")) == "sep@example.gov.vn"
    bad = runner.invoke(args=["create-admin", "sep2", "--password", "12345678", "--email", "nope"])
    assert bad.exit_code != 0 and "không hợp lệ" in bad.output


def test_forms_carry_a_csrf_token_and_refuse_a_post_without_one(make_app, province_rows, auth):
    province = province_rows
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    login_page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
    assert auth.login("xamot", client=client, data={"csrf_token": token}).status_code == 302
    page = client.get("/admin/profile").get_data(as_text=True)
    assert 'name="csrf_token"' in page
    refused = client.post("/admin/profile", data={"email": "a@b.vn", "language": "vi",
                                                  "digest_frequency": "none"})
    assert refused.status_code in (400, 422)
    with app.app_context():
        assert db.session.get(User, province.manager.id).email == "xamot@example.gov.vn"


def test_rules_are_added_and_edited_in_the_workspace_and_the_terms_list_is_editable(app, province_rows, auth):
    from alert_helpers import comment

    province = province_rows
    client = auth.client_for(province.manager)
    res = client.post("/admin/alert-rules/new", data={"organisation_id": province.commune.id, "kind": "harassment"})
    assert res.status_code == 302
    with app.app_context():
        rule_id = db.session.scalar(sa.select(AlertRule.id).where(AlertRule.kind == "harassment"))
    form = client.get(f"/admin/alert-rules/{rule_id}/edit").get_data(as_text=True)
    assert "nhũng nhiễu" in form
    res = client.post(f"/admin/alert-rules/{rule_id}/edit", data={
        "active": "y", "terms": "tiền trà bánh\nnhũng nhiễu\n\n", "cap_count": "2", "cap_window_minutes": "30"})
    assert res.status_code == 302, res.get_data(as_text=True)[:2000]
    with app.app_context():
        rule = db.session.get(AlertRule, rule_id)
        assert rule.params == {"terms": ["tiền trà bánh", "nhũng nhiễu"]} and rule.cap_count == 2
        p = reloaded(province)
        comment(p.full_survey, p.point, "Phai dua tien tra banh", minutes_ago(1), overall=4)
        assert alerts.evaluate_frequent() == 1

    empty = client.post(f"/admin/alert-rules/{rule_id}/edit", data={"terms": "", "cap_count": "0",
                                                                   "cap_window_minutes": "30"})
    assert empty.status_code == 422
    outsider = auth.client_for(province.outsider)
    assert outsider.get(f"/admin/alert-rules/{rule_id}/edit").status_code == 404
    assert auth.client_for(province.viewer).get(f"/admin/alert-rules/{rule_id}/edit").status_code == 403


def test_a_silent_kiosk_rule_takes_opening_hours_and_working_days(app, province_rows, auth):
    province = province_rows
    client = auth.client_for(province.manager)
    client.post("/admin/alert-rules/new", data={"organisation_id": province.commune.id, "kind": "silent_kiosk"})
    with app.app_context():
        rule_id = db.session.scalar(sa.select(AlertRule.id).where(AlertRule.kind == "silent_kiosk"))
    assert "Thứ Bảy" in client.get(f"/admin/alert-rules/{rule_id}/edit").get_data(as_text=True)
    bad = client.post(f"/admin/alert-rules/{rule_id}/edit", data={
        "hours": "3", "opens": "17:00", "closes": "07:30", "weekdays": ["0"], "cap_count": "1",
        "cap_window_minutes": "60"})
    assert bad.status_code == 422 and "sau giờ mở cửa" in bad.get_data(as_text=True)
    ok = client.post(f"/admin/alert-rules/{rule_id}/edit", data={
        "active": "y", "hours": "3", "opens": "07:00", "closes": "11:30", "weekdays": ["0", "5"], "cap_count": "1",
        "cap_window_minutes": "60"})
    assert ok.status_code == 302
    with app.app_context():
        assert db.session.get(AlertRule, rule_id).params == {
            "hours": 3, "opens": "07:00", "closes": "11:30", "weekdays": [0, 5]}
