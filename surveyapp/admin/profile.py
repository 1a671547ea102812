"""Each user's own profile: e-mail, language, and notification preferences (the rules they
hear from, quiet hours, digest frequency). Self-service: every role may change its own."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..accounts import EmailError, normalise_email
from ..alerts.rules import KIND_LABELS, default_in
from ..auth.scope import READ_ROLES, login_required_role
from ..extensions import db
from ..models import AlertRule, AlertSubscription, Organisation
from .. import audit
from . import bp
from .alert_forms import ProfileForm
from .forms import choice_list
from .helpers import form_page


def applicable_rules(user) -> list[AlertRule]:
    """Rules whose alerts the user could receive: those of the user's subtree and of its ancestors."""
    stmt = sa.select(AlertRule).order_by(AlertRule.organisation_id, AlertRule.kind)
    if user.organisation is not None:
        org = user.organisation
        stmt = stmt.where(sa.or_(
            AlertRule.organisation_id.in_(org.ancestor_ids()),
            AlertRule.organisation_id.in_(sa.select(Organisation.id).where(
                Organisation.path.startswith(org.path, autoescape=True)))))
    return list(db.session.scalars(stmt))


def subscribed(user, rule: AlertRule, choices: dict[int, bool]) -> bool:
    """The user's choice for the rule, else its default (the rules listed are those of the
    user's own organisations and ancestors)."""
    if rule.id in choices:
        return choices[rule.id]
    return user.organisation is not None and default_in(rule.kind, user)


@bp.route("/profile", methods=["GET", "POST"])
@login_required_role(*READ_ROLES)
def profile():
    user = current_user._get_current_object()
    rules = applicable_rules(user)
    choices = dict(db.session.execute(sa.select(AlertSubscription.rule_id, AlertSubscription.subscribed)
                                      .where(AlertSubscription.user_id == user.id)).all())
    form = ProfileForm(obj=user)
    form.rules.choices = choice_list((r.id, f"{_(KIND_LABELS[r.kind])} – {r.organisation.name}"
                                      + ("" if r.active else f" ({_('đang tắt')})")) for r in rules)
    if request.method == "GET":
        form.rules.data = [r.id for r in rules if subscribed(user, r, choices)]
    elif "language" not in request.form:
        # Not this page's form (the checkboxes of an empty post would unsubscribe everything).
        abort(400)
    if form.validate_on_submit():
        try:
            email = normalise_email(form.email.data)
        except EmailError as exc:
            form.email.errors = list(form.email.errors) + [str(exc)]
        else:
            if bool(form.quiet_start.data) != bool(form.quiet_end.data):
                form.quiet_end.errors = list(form.quiet_end.errors) + [_("Nhập cả giờ bắt đầu và giờ kết thúc.")]
            else:
                before = audit.snapshot(user, extra={"rules": sorted(
                    r.id for r in rules if subscribed(user, r, choices))})
                user.email, user.language = email, form.language.data
                user.digest_frequency = form.digest_frequency.data
                user.quiet_start, user.quiet_end = form.quiet_start.data, form.quiet_end.data
                wanted = set(form.rules.data or [])
                for rule in rules:
                    if subscribed(user, rule, choices) == (rule.id in wanted):
                        continue  # unchanged: no row, so that a default stays a default
                    row = db.session.get(AlertSubscription, (user.id, rule.id))
                    if row is None:
                        db.session.add(AlertSubscription(user_id=user.id, rule_id=rule.id,
                                                         subscribed=rule.id in wanted))
                    else:
                        row.subscribed = rule.id in wanted
                after = audit.snapshot(user, extra={"rules": sorted(wanted & {r.id for r in rules})})
                if after != before:
                    audit.record("user.preferences", user, before, after)
                db.session.commit()
                flash(_("Đã lưu thông tin cá nhân."), "success")
                return redirect(url_for("admin.profile"))
    return form_page(form, _("Thông tin cá nhân và thông báo"), cancel=url_for("admin.dashboard"),
                     status=422 if request.method == "POST" else 200)
