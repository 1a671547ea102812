"""Workspace views of alerts: the alert list and its states, the rules, the notification list,
deliveries (the outbox, with "send again") and webhooks.

Every view declares its roles; every object named in a URL is resolved inside the user's
subtree (404 otherwise); every form carries its CSRF token.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..alerts import rules as alert_rules
from ..alerts.notify import describe, unread_count
from ..alerts.states import NEXT, TransitionError, move
from ..alerts.webhooks import WebhookError, add_webhook
from ..auth.scope import (
    READ_ROLES, WRITE_ROLES, alert_in_scope, is_installation_admin, login_required_role, org_filter,
    organisation_in_scope, rule_in_scope, webhook_in_scope,
)
from ..clock import now_utc, to_local
from ..extensions import db
from ..models import ALERT_STATES, Alert, AlertRule, Notification, OutboxItem, Webhook
from ..outbox import attachments_of, send_again
from .. import audit
from . import bp
from .alert_forms import KIND_FIELDS, PARAM_FIELDS, AlertRuleForm, AlertRuleNewForm, WebhookForm
from .forms import ConfirmForm, choice_list
from .helpers import form_page, org_choices, save_change, scoped_organisations

PAGE = 100
WEEKDAYS = (("0", "Thứ Hai"), ("1", "Thứ Ba"), ("2", "Thứ Tư"), ("3", "Thứ Năm"), ("4", "Thứ Sáu"),
            ("5", "Thứ Bảy"), ("6", "Chủ nhật"))


@bp.context_processor
def notification_context():
    """The unread count in the workspace header."""
    if current_user.is_authenticated:
        return {"unread_notifications": unread_count(current_user)}
    return {}


def kind_label(kind: str) -> str:
    return _(alert_rules.KIND_LABELS[kind])





def visible_items():
    """Deliveries the user may see: the e-mails addressed to them (all for a system-wide
    administrator) and the webhook calls of their subtree (for those who manage webhooks)."""
    if is_installation_admin():
        return sa.true()
    own = OutboxItem.user_id == current_user.id
    if current_user.role in WRITE_ROLES:
        return sa.or_(own, sa.and_(OutboxItem.channel == "webhook", org_filter(OutboxItem.organisation_id)))
    return own


def item_in_scope(item_id: int) -> OutboxItem:
    item = db.session.scalar(sa.select(OutboxItem).where(OutboxItem.id == item_id, visible_items()))
    if item is None:
        abort(404)
    return item


# ---------------------------------------------------------------------------------------------
# Alerts


@bp.route("/alerts")
@login_required_role(*READ_ROLES)
def alerts():
    state = request.args.get("state", "active")
    stmt = sa.select(Alert).where(org_filter(Alert.organisation_id)).order_by(Alert.opened_at.desc()).limit(PAGE)
    if state in ALERT_STATES:
        stmt = stmt.where(Alert.state == state)
    elif state != "all":
        state = "active"
        stmt = stmt.where(Alert.state != "closed")
    rows = [(a, describe(a), to_local(a.opened_at)) for a in db.session.scalars(stmt)]
    return render_template("admin/alerts.html", rows=rows, state=state, kind_label=kind_label, form=ConfirmForm(),
                           next_states=NEXT)


@bp.route("/alerts/<int:alert_id>")
@login_required_role(*READ_ROLES)
def alert_detail(alert_id: int):
    alert = alert_in_scope(alert_id)
    note = db.session.scalar(sa.select(Notification).where(Notification.alert_id == alert.id,
                                                           Notification.user_id == current_user.id))
    if note is not None and note.read_at is None:
        note.read_at = now_utc()
        db.session.commit()
    return render_template("admin/alert.html", alert=alert, text=describe(alert), kind_label=kind_label,
                           opened=to_local(alert.opened_at), form=ConfirmForm(), next_states=NEXT)


@bp.route("/alerts/<int:alert_id>/acknowledge", methods=["POST"])
@login_required_role(*WRITE_ROLES)
def alert_acknowledge(alert_id: int):
    return _move(alert_id, "acknowledged")


@bp.route("/alerts/<int:alert_id>/close", methods=["POST"])
@login_required_role(*WRITE_ROLES)
def alert_close(alert_id: int):
    return _move(alert_id, "closed")


def _move(alert_id: int, state: str):
    alert = alert_in_scope(alert_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    before = audit.snapshot(alert)
    try:
        move(alert, state, current_user)
    except TransitionError:
        flash(_("Cảnh báo này không thể chuyển sang trạng thái đó."), "error")
        return redirect(url_for("admin.alert_detail", alert_id=alert.id)), 303
    audit.record(f"alert.{state}", alert, before)
    db.session.commit()
    flash(_("Đã cập nhật trạng thái cảnh báo."), "success")
    return redirect(url_for("admin.alert_detail", alert_id=alert.id))


# ---------------------------------------------------------------------------------------------
# Rules


def _scoped_rules():
    return list(db.session.scalars(sa.select(AlertRule).where(org_filter(AlertRule.organisation_id))
                                   .order_by(AlertRule.organisation_id, AlertRule.kind)))


@bp.route("/alert-rules")
@login_required_role(*READ_ROLES)
def alert_rules_list():
    alert_rules.ensure_default_rules()
    db.session.commit()
    rows = [(r, alert_rules.params_of(r)) for r in _scoped_rules()]
    return render_template("admin/alert_rules.html", rows=rows, kind_label=kind_label)


def _kind_choices():
    return choice_list((k, kind_label(k)) for k in alert_rules.KIND_LABELS)


@bp.route("/alert-rules/new", methods=["GET", "POST"])
@login_required_role(*WRITE_ROLES)
def alert_rule_new():
    form = AlertRuleNewForm()
    form.organisation_id.choices = org_choices(scoped_organisations(active_only=True))
    form.kind.choices = _kind_choices()
    if form.validate_on_submit():
        org = organisation_in_scope(form.organisation_id.data)
        existing = db.session.scalar(sa.select(AlertRule).where(AlertRule.organisation_id == org.id,
                                                                AlertRule.kind == form.kind.data))
        if existing is not None:
            flash(_("Đơn vị này đã có quy tắc loại này; hãy sửa quy tắc đó."), "error")
            return redirect(url_for("admin.alert_rule_edit", rule_id=existing.id))
        rule = AlertRule(organisation_id=org.id, kind=form.kind.data,
                         params=dict(alert_rules.DEFAULT_PARAMS[form.kind.data]))
        db.session.add(rule)
        audit.record("alert_rule.create", rule)
        db.session.commit()
        flash(_("Đã thêm quy tắc với các giá trị mặc định; hãy xem lại bên dưới."), "success")
        return redirect(url_for("admin.alert_rule_edit", rule_id=rule.id))
    return form_page(form, _("Thêm quy tắc cảnh báo"), cancel=url_for("admin.alert_rules_list"))


@bp.route("/alert-rules/<int:rule_id>/edit", methods=["GET", "POST"])
@login_required_role(*WRITE_ROLES)
def alert_rule_edit(rule_id: int):
    rule = rule_in_scope(rule_id)
    params = alert_rules.params_of(rule)
    form = AlertRuleForm(obj=rule)
    for name in PARAM_FIELDS:
        if name not in KIND_FIELDS[rule.kind]:
            delattr(form, name)
    if "weekdays" in KIND_FIELDS[rule.kind]:
        form.weekdays.choices = choice_list((int(v), _(label)) for v, label in WEEKDAYS)
    if request.method == "GET":
        for name in KIND_FIELDS[rule.kind]:
            value = params[name]
            getattr(form, name).data = "\n".join(value) if name == "terms" else value
    if form.validate_on_submit():
        before = audit.snapshot(rule)
        new = {}
        for name in KIND_FIELDS[rule.kind]:
            value = getattr(form, name).data
            if name == "terms":
                value = list(dict.fromkeys(t.strip() for t in value.splitlines() if t.strip()))
            new[name] = value
        rule.params = new
        rule.active, rule.cap_count, rule.cap_window_minutes = (form.active.data, form.cap_count.data,
                                                                form.cap_window_minutes.data)
        audit.record("alert_rule.update", rule, before)
        db.session.commit()
        flash(_("Đã lưu quy tắc."), "success")
        return redirect(url_for("admin.alert_rules_list"))
    title = f"{kind_label(rule.kind)} – {rule.organisation.name}"
    return form_page(form, title, cancel=url_for("admin.alert_rules_list"),
                     intro=_("Quy tắc áp dụng cho đơn vị và các đơn vị trực thuộc; quy tắc cùng loại của đơn vị "
                             "gần hơn được ưu tiên."))


# ---------------------------------------------------------------------------------------------
# The notification list (each user's own)


@bp.route("/notifications")
@login_required_role(*READ_ROLES)
def notifications():
    notes = db.session.scalars(sa.select(Notification).where(Notification.user_id == current_user.id)
                               .order_by(Notification.created_at.desc()).limit(PAGE)).all()
    rows = [(n, describe(n.alert), to_local(n.created_at)) for n in notes]
    return render_template("admin/notifications.html", rows=rows, form=ConfirmForm())


@bp.route("/notifications/read", methods=["POST"])
@login_required_role(*READ_ROLES)
def notifications_read():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    db.session.execute(sa.update(Notification).where(Notification.user_id == current_user.id,
                                                     Notification.read_at.is_(None)).values(read_at=now_utc()))
    db.session.commit()
    return redirect(url_for("admin.notifications"))


# ---------------------------------------------------------------------------------------------
# Deliveries (the outbox) and webhooks


@bp.route("/deliveries")
@login_required_role(*READ_ROLES)
def deliveries():
    status = request.args.get("status")
    stmt = sa.select(OutboxItem).where(visible_items()).order_by(OutboxItem.id.desc()).limit(PAGE)
    if status in ("pending", "sending", "delivered", "failed"):
        stmt = stmt.where(OutboxItem.status == status)
    items = db.session.scalars(stmt).all()
    return render_template("admin/deliveries.html", items=items, status=status, form=ConfirmForm(),
                           local=to_local)


@bp.route("/deliveries/<int:item_id>")
@login_required_role(*READ_ROLES)
def delivery(item_id: int):
    item = item_in_scope(item_id)
    return render_template("admin/delivery.html", item=item, form=ConfirmForm(), local=to_local,
                           attachments=attachments_of(item))


@bp.route("/deliveries/<int:item_id>/send-again", methods=["POST"])
@login_required_role(*WRITE_ROLES)
def delivery_send_again(item_id: int):
    item = item_in_scope(item_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if item.status == "sending":
        flash(_("Tin này đang được gửi."), "error")
        return redirect(url_for("admin.delivery", item_id=item.id))
    before = audit.snapshot(item, extra={"payload": None})
    send_again(item)
    audit.record("outbox.send_again", item, before, after={"status": item.status})
    db.session.commit()
    flash(_("Tin sẽ được gửi lại trong ít phút."), "success")
    return redirect(url_for("admin.delivery", item_id=item.id))


@bp.route("/webhooks")
@login_required_role(*WRITE_ROLES)
def webhooks():
    hooks = db.session.scalars(sa.select(Webhook).where(org_filter(Webhook.organisation_id))
                               .order_by(Webhook.organisation_id, Webhook.id)).all()
    return render_template("admin/webhooks.html", hooks=hooks, form=ConfirmForm())


@bp.route("/webhooks/new", methods=["GET", "POST"])
@login_required_role(*WRITE_ROLES)
def webhook_new():
    form = WebhookForm()
    form.organisation_id.choices = org_choices(scoped_organisations(active_only=True))
    if form.validate_on_submit():
        org = organisation_in_scope(form.organisation_id.data)
        try:
            hook = add_webhook(org, form.url.data, form.secret.data, form.description.data or None)
        except WebhookError as exc:
            form.url.errors = list(form.url.errors) + [str(exc)]
        else:
            audit.record("webhook.create", hook)
            db.session.commit()
            flash(_("Đã thêm webhook."), "success")
            return redirect(url_for("admin.webhooks"))
    return form_page(form, _("Thêm webhook"), cancel=url_for("admin.webhooks"),
                     intro=_("Mỗi cảnh báo của đơn vị và các đơn vị trực thuộc được gửi tới địa chỉ này bằng một "
                             "yêu cầu POST JSON, ký HMAC-SHA256 bằng khóa bí mật trong tiêu đề X-Signature-256."),
                     status=422 if request.method == "POST" else 200)


@bp.route("/webhooks/<int:webhook_id>/toggle", methods=["POST"])
@login_required_role(*WRITE_ROLES)
def webhook_toggle(webhook_id: int):
    hook = webhook_in_scope(webhook_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    return save_change(hook, lambda: setattr(hook, "active", not hook.active), "webhook.toggle",
                       done=lambda: _("Đã bật webhook.") if hook.active else _("Đã tắt webhook."),
                       back=url_for("admin.webhooks"))
