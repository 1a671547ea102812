"""Targets: the satisfaction a unit must reach, by sector (Resolution 76, the installation's) or
by organisation. An organisation's own target is set from the level above and never laxer than
the one it inherits (:mod:`surveyapp.targets`, :func:`surveyapp.auth.scope.may_set_target_for`)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from wtforms.fields.choices import SelectChoice

from ..auth.scope import (
    READ_ROLES,
    WRITE_ROLES,
    is_installation_admin,
    login_required_role,
    may_set_target_for,
    org_filter,
    organisation_in_scope,
    target_in_scope,
)
from .. import targets as target_rules
from ..extensions import db
from ..models import Target
from .. import audit
from . import bp
from .forms import TargetForm, sector_choices
from .helpers import clean, confirm_then, form_page, org_choices, scoped_organisations


@bp.route("/targets")
@login_required_role(*READ_ROLES)
def targets():
    rows = list(db.session.scalars(
        sa.select(Target).where(sa.or_(Target.organisation_id.is_(None), org_filter(Target.organisation_id)))
        .order_by(Target.valid_from.desc(), Target.sector, Target.indicator)))
    editable = {t.id for t in rows if may_set_target_for(t.organisation)}
    return render_template("admin/targets.html", rows=rows, editable=editable,
                           sectors={c.value: c.label for c in sector_choices()})


def _target_form(target: Target | None) -> TargetForm:
    form = TargetForm(obj=target)
    form.sector.choices = [SelectChoice("", _("(Theo đơn vị)"))] + (sector_choices() if is_installation_admin() else [])
    # Never one's own root: its bar is set from the level above.
    orgs = [o for o in scoped_organisations(active_only=True) if may_set_target_for(o)]
    form.organisation_id.choices = org_choices(orgs, none_label=_("(Theo lĩnh vực)"))
    if request.method == "GET":
        if target is not None:
            form.value.data = round(target.value * 100, 1)
            form.sector.data = target.sector or ""
            form.organisation_id.data = target.organisation_id or 0
        else:
            form.operator.data = ">="
    return form


def _apply_target_form(form: TargetForm, target: Target) -> bool:
    """Copy the form into ``target``; False (with the error on the value, nothing changed) when an
    organisation's own target would be laxer than the one it inherits."""
    org = organisation_in_scope(form.organisation_id.data) if form.organisation_id.data else None
    if not may_set_target_for(org):
        abort(403)
    value = float(form.value.data) / 100
    if org is not None:
        undercut = target_rules.undercut_target(org, form.indicator.data, value, form.operator.data,
                                                form.valid_from.data, form.valid_to.data)
        if undercut is not None:
            origin = undercut.organisation.name if undercut.organisation else (undercut.source or _("lĩnh vực"))
            bar = f"{'>' if undercut.operator == '>' else '≥'} {undercut.value * 100:.1f}%"
            form.value.errors.append(_(
                "Chỉ tiêu riêng của đơn vị chỉ được bằng hoặc cao hơn chỉ tiêu áp dụng từ cấp trên, "
                "không được thấp hơn: %(bar)s theo %(origin)s.", bar=bar, origin=origin))
            return False
    target.indicator = form.indicator.data
    target.sector = form.sector.data or None
    target.organisation = org
    target.value = value
    target.operator = form.operator.data
    target.valid_from, target.valid_to = form.valid_from.data, form.valid_to.data
    target.source = clean(form.source.data)
    return True


@bp.route("/targets/new", methods=["GET", "POST"])
@login_required_role(*WRITE_ROLES)
def target_new():
    form = _target_form(None)
    if form.validate_on_submit():
        target = Target()
        if _apply_target_form(form, target):
            db.session.add(target)
            audit.record("target.create", target)
            db.session.commit()
            flash(_("Đã thêm chỉ tiêu."), "success")
            return redirect(url_for("admin.targets"))
    return form_page(form, _("Thêm chỉ tiêu"), cancel=url_for("admin.targets"))


@bp.route("/targets/<int:target_id>/edit", methods=["GET", "POST"])
@login_required_role(*WRITE_ROLES)
def target_edit(target_id: int):
    target = target_in_scope(target_id, write=True)
    form = _target_form(target)
    if form.validate_on_submit():
        before = audit.snapshot(target)
        if _apply_target_form(form, target):
            audit.record("target.update", target, before)
            db.session.commit()
            flash(_("Đã lưu chỉ tiêu."), "success")
            return redirect(url_for("admin.targets"))
    return form_page(form, _("Sửa chỉ tiêu"), cancel=url_for("admin.targets"))


@bp.route("/targets/<int:target_id>/delete", methods=["GET", "POST"])
@login_required_role(*WRITE_ROLES)
def target_delete(target_id: int):
    """Targets are settings, not data that responses refer to: they may be deleted, after confirmation."""
    target = target_in_scope(target_id, write=True)
    back = url_for("admin.targets")

    def delete():
        audit.record("target.delete", target, audit.snapshot(target), {})
        db.session.delete(target)
        db.session.commit()
        flash(_("Đã xóa chỉ tiêu."), "success")
        return redirect(back)

    return confirm_then(delete, title=_("Xóa chỉ tiêu này?"),
                        message=_("Các báo cáo sẽ không còn so sánh với chỉ tiêu này."), button=_("Xóa"), back=back)
