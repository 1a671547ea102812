"""The outbox: signed webhooks retried with the same event id, e-mail over real SMTP, idempotent
enqueueing, and "send again"."""
from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta

import sqlalchemy as sa
from alert_helpers import HttpReceiver

from surveyapp import outbox
from surveyapp.extensions import db
from surveyapp.models import OutboxItem, Webhook, utcnow

SECRET = "s3cret-for-the-province-ops-centre"


def add_hook(org, url, secret=SECRET) -> Webhook:
    from surveyapp.alerts.webhooks import add_webhook

    hook = add_webhook(org, url, secret)
    db.session.commit()
    return hook


def test_webhook_is_signed_with_the_secret_and_carries_its_event_id(province, receiver):
    add_hook(province.province, receiver.url)
    items = outbox.enqueue_webhook(province.commune.id, "alert.opened", {"alert": {"id": 1}}, dedupe_key="k1")
    db.session.commit()
    assert len(items) == 1  # the province's webhook hears of its commune's events
    assert outbox.deliver_due() == 1

    call = receiver.calls[0]
    expected = "sha256=" + hmac.new(SECRET.encode(), call["body"], hashlib.sha256).hexdigest()
    assert hmac.compare_digest(call["headers"]["X-Signature-256"], expected)
    wrong = "sha256=" + hmac.new(b"another secret entirely", call["body"], hashlib.sha256).hexdigest()
    assert call["headers"]["X-Signature-256"] != wrong
    body = json.loads(call["body"])
    assert body["event_id"] == call["headers"]["X-Event-Id"] == items[0].event_id
    assert body["event_type"] == "alert.opened" and body["alert"] == {"id": 1}


def test_receiver_failing_twice_gets_the_same_event_again_and_it_is_delivered_once(province, receiver):
    add_hook(province.commune, receiver.url)
    receiver.script = [500, 503]
    [item] = outbox.enqueue_webhook(province.commune.id, "alert.opened", {"n": 1}, dedupe_key="retry")
    db.session.commit()
    now = utcnow()

    assert outbox.deliver_due(now=now) == 0
    db.session.expire_all()
    assert (item.status, item.attempts) == ("pending", 1) and "HTTP 500" in item.last_error
    first_wait = item.next_attempt_at - now
    assert outbox.deliver_due(now=now) == 0  # backing off: not due yet
    assert len(receiver.calls) == 1

    assert outbox.deliver_due(now=item.next_attempt_at) == 0
    db.session.expire_all()
    assert (item.status, item.attempts) == ("pending", 2) and "HTTP 503" in item.last_error
    assert item.next_attempt_at - now > first_wait * 2  # exponential backoff

    assert outbox.deliver_due(now=item.next_attempt_at) == 1
    db.session.expire_all()
    assert item.status == "delivered" and item.attempts == 3 and item.last_error is None
    assert outbox.deliver_due(now=item.next_attempt_at + timedelta(days=1)) == 0
    ids = [c["headers"]["X-Event-Id"] for c in receiver.calls]
    assert ids == [item.event_id] * 3
    assert [c["status"] for c in receiver.calls] == [500, 503, 200]
    assert len({c["body"] for c in receiver.calls}) == 1  # the same signed body each time


def test_enqueue_is_idempotent_on_the_dedupe_key(province, receiver):
    add_hook(province.commune, receiver.url)
    first = outbox.enqueue_email("a@example.org", "Chủ đề", "Nội dung", None, kind="test", dedupe_key="once")
    again = outbox.enqueue_email("a@example.org", "Chủ đề", "Nội dung", None, kind="test", dedupe_key="once")
    hooks = outbox.enqueue_webhook(province.commune.id, "x", {}, dedupe_key="once")
    hooks_again = outbox.enqueue_webhook(province.commune.id, "x", {}, dedupe_key="once")
    db.session.commit()
    assert first is not None and again is None
    assert len(hooks) == 1 and hooks_again == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxItem)) == 2


def test_email_goes_over_smtp_with_a_plain_text_and_an_html_part(province, smtp):
    outbox.enqueue_email("tinh@example.gov.vn", "Bản tin tuần", "Chỉ số: 91,2%", "<p>Chỉ số: <b>91,2%</b></p>",
                         kind="digest", dedupe_key="mail-1")
    db.session.commit()
    assert outbox.deliver_due() == 1
    [msg] = smtp.messages
    assert msg["To"] == "tinh@example.gov.vn" and msg["From"] == "khaosat@example.gov.vn"
    assert str(msg["Subject"]) == "Bản tin tuần"
    types = [p.get_content_type() for p in msg.walk()]
    assert "text/plain" in types and "text/html" in types


def test_unreachable_server_is_recorded_and_failed_after_the_last_attempt_then_sent_again(make_app, province):
    dead = HttpReceiver()
    url = dead.url
    dead.stop()  # nothing listens there any more
    hook = add_hook(province.commune, url)
    app = make_app(OUTBOX_MAX_ATTEMPTS=2)
    with app.app_context():
        [item] = outbox.enqueue_webhook(province.commune.id, "x", {}, dedupe_key="dead")
        db.session.commit()
        item_id = item.id
        outbox.deliver_due()
        item = db.session.get(OutboxItem, item_id)
        outbox.deliver_due(now=item.next_attempt_at)
        db.session.expire_all()
        item = db.session.get(OutboxItem, item_id)
        assert item.status == "failed" and item.attempts == 2 and "could not reach" in item.last_error

        live = HttpReceiver()
        try:
            db.session.get(Webhook, hook.id).url = live.url
            item.recipient = live.url
            outbox.send_again(item)
            db.session.commit()
            assert outbox.deliver_due() == 1
            assert live.calls[0]["headers"]["X-Event-Id"] == item.event_id
        finally:
            live.stop()
