"""Who hears of an alert, and how: the notification list, e-mail (within the cap and outside
quiet hours, the rest in a held-back summary) and the organisation's webhooks.

No message carries more than its recipient may see in the workspace: aggregates, names of
units, and comments masked with :func:`surveyapp.privacy.mask_personal_data`; never a
citizen's contact.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from ..clock import now_utc, to_local
from ..extensions import db
from ..models import Alert, AlertRule, AlertSubscription, Notification, Organisation, ServicePoint, User
from ..outbox import enqueue_email, enqueue_webhook
from .rules import KIND_LABELS, default_in


def absolute_url(path: str) -> str:
    """A link for a message read outside the app: PUBLIC_BASE_URL in front when it is set."""
    base = current_app.config["PUBLIC_BASE_URL"]
    return (base.rstrip("/") + path) if base else path


def alert_path(alert: Alert) -> str:
    return f"/admin/alerts/{alert.id}"


def recipients(rule: AlertRule, org: Organisation) -> list[User]:
    """Active users who receive the rule's alerts about ``org``: those who may see ``org`` and
    opted in, and, for rules 1-3, its managers and its ancestors' unless they opted out."""
    chain = org.ancestor_ids()
    users = db.session.scalars(sa.select(User).where(User.active, sa.or_(
        User.organisation_id.in_(chain), sa.and_(User.role == "admin", User.organisation_id.is_(None))
    )).order_by(User.id))
    choices = dict(db.session.execute(sa.select(AlertSubscription.user_id, AlertSubscription.subscribed)
                                      .where(AlertSubscription.rule_id == rule.id)).all())
    out = []
    for user in users:
        default = default_in(rule.kind, user) and user.organisation_id in chain
        if choices.get(user.id, default):
            out.append(user)
    return out


def in_quiet_hours(user: User, at: datetime) -> bool:
    """Whether ``at`` (UTC) falls in the user's quiet hours (local; may span midnight)."""
    if user.quiet_start is None or user.quiet_end is None or user.quiet_start == user.quiet_end:
        return False
    t = to_local(at).time()
    if user.quiet_start < user.quiet_end:
        return user.quiet_start <= t < user.quiet_end
    return t >= user.quiet_start or t < user.quiet_end


def over_cap(user: User, rule: AlertRule, at: datetime) -> bool:
    """The user had ``cap_count`` e-mails of this rule within its window already."""
    sent = db.session.scalar(sa.select(sa.func.count()).select_from(Notification).where(
        Notification.user_id == user.id, Notification.rule_id == rule.id, Notification.email_status == "sent",
        Notification.created_at > at - timedelta(minutes=rule.cap_window_minutes)))
    return sent >= rule.cap_count


def describe(alert: Alert) -> dict:
    """What an alert says, in the current locale: a title and lines of plain text."""
    d = alert.details or {}
    sp = alert.service_point
    place = sp.name if sp else alert.organisation.name
    if alert.kind == "dissatisfied_burst":
        title = _("%(n)s ý kiến không hài lòng tại %(place)s trong %(m)s phút", n=d.get("count"), place=place,
                  m=d.get("window_minutes"))
        lines = [_("Từ %(first)s đến %(last)s.", first=d.get("first_local", ""), last=d.get("last_local", ""))]
    elif alert.kind == "below_target":
        title = _("%(place)s dưới chỉ tiêu: %(index)s", place=place, index=d.get("index_label", ""))
        lines = [_("%(survey)s, %(days)s ngày gần nhất: %(index)s (khoảng tin cậy 95%%: %(low)s–%(high)s, "
                   "%(n)s lượt), chỉ tiêu %(target)s; kết luận: không đạt.", survey=d.get("survey", ""),
                   days=d.get("days"), index=d.get("index_label", ""), low=d.get("low_label", ""),
                   high=d.get("high_label", ""), n=d.get("n"), target=d.get("target_label", ""))]
    elif alert.kind == "harassment":
        title = _("Góp ý phản ánh nhũng nhiễu hoặc đòi tiền tại %(place)s", place=place)
        lines = [_("Từ ngữ: %(terms)s.", terms=", ".join(d.get("terms", []))),
                 _("Góp ý (đã che thông tin cá nhân): %(text)s", text=d.get("comment", ""))]
    else:
        title = _("Máy đánh giá %(device)s tại %(place)s không liên lạc", device=d.get("device", ""), place=place)
        lines = [_("Lần cuối: %(last)s; %(hours)s giờ mở cửa không có tín hiệu.", last=d.get("last_local", "-"),
                   hours=d.get("hours"))]
    return {"title": str(title), "lines": [str(x) for x in lines], "rule": str(_(KIND_LABELS[alert.kind]))}


def webhook_payload(alert: Alert) -> dict:
    """The alert as a webhook body: the same masked details, in Vietnamese."""
    with force_locale("vi"):
        text = describe(alert)
    sp = alert.service_point
    return {
        "occurred_at": alert.opened_at.isoformat() + "Z",
        "alert": {
            "id": alert.id, "kind": alert.kind, "rule_id": alert.rule_id, "state": alert.state,
            "title": text["title"], "lines": text["lines"],
            "organisation": {"code": alert.organisation.code, "name": alert.organisation.name},
            "service_point": {"code": sp.code, "name": sp.name} if sp else None,
            "details": alert.details, "url": absolute_url(alert_path(alert)),
        },
    }


def raise_alert(rule: AlertRule, org: Organisation, subject: str, dedupe_key: str, details: dict,
                service_point: ServicePoint | None = None, now: datetime | None = None) -> Alert | None:
    """Record an alert and notify (in the caller's transaction); None when it exists already."""
    now = now or now_utc()
    if db.session.scalar(sa.select(Alert.id).where(Alert.dedupe_key == dedupe_key)):
        return None
    alert = Alert(rule_id=rule.id, kind=rule.kind, organisation_id=org.id, organisation=org, subject=subject,
                  dedupe_key=dedupe_key, details=details, service_point=service_point, opened_at=now)
    db.session.add(alert)
    db.session.flush()
    for user in recipients(rule, org):
        note = Notification(user_id=user.id, alert_id=alert.id, rule_id=rule.id, created_at=now)
        if user.email:
            if in_quiet_hours(user, now):
                note.email_status, note.held_reason = "held", "quiet"
            elif over_cap(user, rule, now):
                note.email_status, note.held_reason = "held", "cap"
            else:
                send_alert_email(user, alert)
                note.email_status = "sent"
        db.session.add(note)
        db.session.flush()
    enqueue_webhook(org.id, "alert.opened", webhook_payload(alert), dedupe_key=f"alert:{alert.id}")
    return alert


def send_alert_email(user: User, alert: Alert) -> None:
    with force_locale(user.language or "vi"):
        text = describe(alert)
        ctx = dict(alerts=[(alert, text)], url=absolute_url(alert_path(alert)), user=user, held=False,
                   list_url=absolute_url("/admin/notifications"), profile_url=absolute_url("/admin/profile"))
        subject = _("[Cảnh báo] %(title)s", title=text["title"])
        body = render_template("email/alert.txt", **ctx)
        html = render_template("email/alert.html", subject=subject, **ctx)
    enqueue_email(user.email, subject, body, html, kind="alert", dedupe_key=f"alert:{alert.id}:user:{user.id}",
                  user_id=user.id, organisation_id=alert.organisation_id)


def send_held_summaries(now: datetime | None = None) -> int:
    """One e-mail per user listing the alerts whose e-mails were held back, once the reason has
    passed (the quiet hours are over; the rule's cap window has run since)."""
    now = now or now_utc()
    held = db.session.scalars(
        sa.select(Notification).where(Notification.email_status == "held").order_by(Notification.user_id,
                                                                                     Notification.id)).all()
    by_user: dict[int, list[Notification]] = {}
    for note in held:
        by_user.setdefault(note.user_id, []).append(note)
    sent = 0
    for user_id, notes in by_user.items():
        user = db.session.get(User, user_id)
        if not user.email or not user.active or in_quiet_hours(user, now):
            continue
        rules = {r.id: r for r in db.session.scalars(sa.select(AlertRule).where(
            AlertRule.id.in_({n.rule_id for n in notes})))}
        ready = [n for n in notes if n.held_reason == "quiet"
                 or n.created_at <= now - timedelta(minutes=rules[n.rule_id].cap_window_minutes)]
        if not ready:
            continue
        with force_locale(user.language or "vi"):
            items = [(n.alert, describe(n.alert)) for n in ready]
            subject = _("[Cảnh báo] %(n)s cảnh báo chưa gửi thư", n=len(items))
            ctx = dict(alerts=items, url=absolute_url("/admin/alerts"), user=user, held=True,
                       list_url=absolute_url("/admin/notifications"), profile_url=absolute_url("/admin/profile"))
            body = render_template("email/alert.txt", **ctx)
            html = render_template("email/alert.html", subject=subject, **ctx)
        enqueue_email(user.email, subject, body, html, kind="alert-summary",
                      dedupe_key=f"held:{user.id}:{max(n.id for n in ready)}", user_id=user.id)
        for n in ready:
            n.email_status = "summarised"
        sent += 1
    db.session.commit()
    return sent


def unread_count(user: User) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)))
