"""Kiosk devices (the tablets at the counters): enrolment codes shown once, renaming, moving,
revoking. The rules are :mod:`surveyapp.kiosk.devices`'."""
from __future__ import annotations

import sqlalchemy as sa
from flask import flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup

from .. import qr
from ..auth.scope import READ_ROLES, WRITE_ROLES, device_in_scope, login_required_role, org_filter, service_point_in_scope
from ..extensions import db
from ..kiosk import devices as kiosk_devices
from ..models import KioskDevice, Organisation, ServicePoint
from .. import audit
from . import bp
from .forms import DeviceForm, DeviceMoveForm, DeviceRenameForm
from .helpers import confirm_then, form_page, org_from_arg, save_change, scoped_service_points, sp_choices


@bp.route("/kiosks")
@login_required_role(*READ_ROLES)
def kiosks():
    org = org_from_arg()
    stmt = (sa.select(KioskDevice).join(ServicePoint).join(Organisation)
            .where(org_filter(ServicePoint.organisation_id)).order_by(Organisation.name, ServicePoint.name, KioskDevice.name))
    if org is not None:
        stmt = stmt.where(Organisation.path.startswith(org.path, autoescape=True))
    return render_template("admin/kiosks.html", devices=list(db.session.scalars(stmt)), org=org)


def _show_code(device: KioskDevice, code: str):
    """The one-time enrolment code and its QR: shown once, never cached."""
    url = kiosk_devices.enrolment_url(code)
    response = make_response(render_template("admin/kiosk_code.html", device=device, code=code, url=url,
                                             qr_svg=Markup(qr.qr_svg(url))))  # our own SVG, no user text
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/kiosks/new", methods=["GET", "POST"])
@login_required_role(*WRITE_ROLES)
def kiosk_new():
    form = DeviceForm()
    org = org_from_arg()
    form.service_point_id.choices = sp_choices(scoped_service_points(under=org))
    if request.method == "GET" and request.args.get("sp", type=int):
        form.service_point_id.data = service_point_in_scope(request.args.get("sp", type=int)).id
    if form.validate_on_submit():
        sp = service_point_in_scope(form.service_point_id.data)
        device, code = kiosk_devices.create_device(sp, form.name.data.strip())
        audit.record("kiosk.create", device)
        db.session.commit()
        return _show_code(device, code)
    return form_page(form, _("Đăng ký máy đánh giá"), cancel=url_for("admin.kiosks"), submit=_("Tạo mã đăng ký"))


@bp.route("/kiosks/<int:device_id>/rename", methods=["GET", "POST"])
@login_required_role(*WRITE_ROLES)
def kiosk_rename(device_id: int):
    device = device_in_scope(device_id)
    form = DeviceRenameForm(obj=device)
    if form.validate_on_submit():
        return save_change(device, lambda: kiosk_devices.rename_device(device, form.name.data.strip()), "kiosk.rename",
                           done=_("Đã đổi tên thiết bị."), back=url_for("admin.kiosks"))
    return form_page(form, _("Đổi tên thiết bị %(name)s", name=device.name), cancel=url_for("admin.kiosks"))


@bp.route("/kiosks/<int:device_id>/move", methods=["GET", "POST"])
@login_required_role(*WRITE_ROLES)
def kiosk_move(device_id: int):
    device = device_in_scope(device_id)
    form = DeviceMoveForm(obj=device)
    form.service_point_id.choices = sp_choices(scoped_service_points())
    if form.validate_on_submit():
        sp = service_point_in_scope(form.service_point_id.data)
        return save_change(device, lambda: kiosk_devices.move_device(device, sp), "kiosk.move",
                           done=_("Đã chuyển thiết bị đến %(name)s.", name=sp.name), back=url_for("admin.kiosks"))
    return form_page(form, _("Chuyển thiết bị %(name)s", name=device.name), cancel=url_for("admin.kiosks"))


@bp.route("/kiosks/<int:device_id>/revoke", methods=["GET", "POST"])
@login_required_role(*WRITE_ROLES)
def kiosk_revoke(device_id: int):
    device = device_in_scope(device_id)
    back = url_for("admin.kiosks")

    def revoke():
        return save_change(device, lambda: kiosk_devices.revoke_device(device), "kiosk.revoke",
                           done=_("Đã thu hồi thiết bị."), back=back)

    return confirm_then(revoke, title=_("Thu hồi thiết bị %(name)s?", name=device.name),
                        message=_("Thiết bị sẽ không gửi được đánh giá nữa; muốn dùng lại phải đăng ký lại. "
                                  "Các đánh giá đã nhận được giữ nguyên."),
                        button=_("Thu hồi"), back=back)


@bp.route("/kiosks/<int:device_id>/code", methods=["GET", "POST"])
@login_required_role(*WRITE_ROLES)
def kiosk_code(device_id: int):
    """A new one-time enrolment code (e.g. a replaced tablet); the old token stops working."""
    device = device_in_scope(device_id)
    if device.revoked_at is not None:
        flash(_("Thiết bị đã bị thu hồi; hãy đăng ký một thiết bị mới."), "error")
        return redirect(url_for("admin.kiosks"))

    def new_code():
        before = audit.snapshot(device)
        code = kiosk_devices.new_enrolment_code(device)
        audit.record("kiosk.new_code", device, before)
        db.session.commit()
        return _show_code(device, code)

    return confirm_then(new_code, title=_("Tạo mã đăng ký mới cho %(name)s?", name=device.name),
                        message=_("Mã đăng ký cũ không còn dùng được."), button=_("Tạo mã mới"),
                        back=url_for("admin.kiosks"))
