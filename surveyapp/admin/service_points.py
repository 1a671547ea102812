"""Service points (the counters where citizens are served) and their printable QR posters."""
from __future__ import annotations

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from .. import qr
from ..auth.scope import READ_ROLES, WRITE_ROLES, login_required_role, organisation_in_scope, service_point_in_scope
from ..extensions import db
from ..models import ServicePoint
from .. import audit
from . import bp
from .forms import ServicePointForm
from .helpers import (
    ToggleTexts,
    clean,
    form_page,
    org_choices,
    org_from_arg,
    scoped_organisations,
    scoped_service_points,
    toggle_active,
)


@bp.route("/service-points")
@login_required_role(*READ_ROLES)
def service_points():
    org = org_from_arg()
    points = scoped_service_points(active_only=False, under=org)
    return render_template("admin/service_points.html", points=points, org=org)


def _service_point_form(sp: ServicePoint | None) -> ServicePointForm:
    form = ServicePointForm(obj=sp)
    form.organisation_id.choices = org_choices(scoped_organisations(active_only=True))
    if request.method == "GET" and sp is None:
        org = org_from_arg()
        if org is not None:
            form.organisation_id.data = org.id
    return form


@bp.route("/service-points/new", methods=["GET", "POST"])
@login_required_role(*WRITE_ROLES)
def service_point_new():
    form = _service_point_form(None)
    if form.validate_on_submit():
        org = organisation_in_scope(form.organisation_id.data)
        sp = ServicePoint(organisation=org, name=form.name.data.strip(), name_en=clean(form.name_en.data),
                          official_code=clean(form.official_code.data))
        db.session.add(sp)
        try:
            audit.record("service_point.create", sp)  # flushes: a taken code fails here
        except IntegrityError:
            db.session.rollback()
            form.official_code.errors.append(_("Mã điểm phục vụ đã được dùng."))
        else:
            db.session.commit()
            flash(_("Đã tạo điểm phục vụ %(name)s.", name=sp.name), "success")
            return redirect(url_for("admin.service_points", org=org.id))
    return form_page(form, _("Thêm điểm phục vụ"), cancel=url_for("admin.service_points"))


@bp.route("/service-points/<int:sp_id>/edit", methods=["GET", "POST"])
@login_required_role(*WRITE_ROLES)
def service_point_edit(sp_id: int):
    sp = service_point_in_scope(sp_id)
    form = _service_point_form(sp)
    if form.validate_on_submit():
        before = audit.snapshot(sp)
        sp.organisation = organisation_in_scope(form.organisation_id.data)
        sp.name, sp.name_en = form.name.data.strip(), clean(form.name_en.data)
        sp.official_code = clean(form.official_code.data)
        try:
            audit.record("service_point.update", sp, before)  # flushes: a taken code fails here
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            form.official_code.errors.append(_("Mã điểm phục vụ đã được dùng."))
        else:
            flash(_("Đã lưu điểm phục vụ %(name)s.", name=sp.name), "success")
            return redirect(url_for("admin.service_points", org=sp.organisation_id))
    return form_page(form, _("Sửa điểm phục vụ %(name)s", name=sp.name), cancel=url_for("admin.service_points"))


@bp.route("/service-points/<int:sp_id>/toggle", methods=["GET", "POST"])
@login_required_role(*WRITE_ROLES)
def service_point_toggle(sp_id: int):
    sp = service_point_in_scope(sp_id)
    return toggle_active(sp, "service_point", ToggleTexts(
        off_title=_("Ngừng hoạt động điểm phục vụ %(name)s?", name=sp.name),
        off_message=_("Mã QR của điểm này sẽ không nhận đánh giá mới. Các đánh giá đã có được giữ nguyên."),
        off_button=_("Ngừng hoạt động"), off_done=_("Đã ngừng hoạt động điểm phục vụ."),
        on_title=_("Kích hoạt lại điểm phục vụ %(name)s?", name=sp.name), on_button=_("Kích hoạt lại"),
        on_done=_("Đã kích hoạt lại điểm phục vụ.")), back=url_for("admin.service_points", org=sp.organisation_id))


def _paper() -> str:
    return "A5" if request.args.get("paper", "").upper() == "A5" else "A4"


def _posters_response(points: list[ServicePoint]):
    html = qr.render_posters(points, paper=_paper())
    response = make_response(html)
    response.headers["Content-Type"] = "text/html; charset=utf-8"
    return response


@bp.route("/service-points/<int:sp_id>/poster")
@login_required_role(*READ_ROLES)
def service_point_poster(sp_id: int):
    """The printable QR poster of one service point."""
    sp = service_point_in_scope(sp_id)
    if not sp.active:
        abort(404)
    return _posters_response([sp])


@bp.route("/organisations/<int:org_id>/posters")
@login_required_role(*READ_ROLES)
def organisation_posters(org_id: int):
    """The posters of every active service point in an organisation's subtree, for batch printing."""
    org = organisation_in_scope(org_id)
    points = scoped_service_points(under=org)
    if not points:
        flash(_("Đơn vị này chưa có điểm phục vụ nào đang hoạt động."), "info")
        return redirect(url_for("admin.organisations"))
    return _posters_response(points)
