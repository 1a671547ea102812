"""Monthly service volumes of a service point: the weights of the population estimate, entered
one month at a time or as a CSV file (all rows or none)."""
from __future__ import annotations

import csv
import io
from datetime import date

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..auth.scope import READ_ROLES, login_required_role, require_write, service_point_in_scope
from ..extensions import db
from ..models import MAX_VOLUME, ServicePoint, ServiceVolume
from .. import audit
from . import bp
from .forms import MONTH_RE, VolumeForm, VolumeUploadForm


def _first_of_month(text: str) -> date:
    year, month = text.strip().split("-")
    return date(int(year), int(month), 1)


def _set_volume(sp: ServicePoint, month: date, volume: int) -> None:
    row = db.session.scalar(sa.select(ServiceVolume).where(ServiceVolume.service_point_id == sp.id,
                                                           ServiceVolume.month == month))
    before = audit.snapshot(row)
    if row is None:
        row = ServiceVolume(service_point=sp, month=month, volume=volume)
        db.session.add(row)
    else:
        row.volume = volume
    audit.record("service_volume.set", row, before)


@bp.route("/service-points/<int:sp_id>/volumes", methods=["GET", "POST"])
@login_required_role(*READ_ROLES)
def service_point_volumes(sp_id: int):
    """Monthly service volumes (the weights of the population estimate): one month or a CSV file."""
    sp = service_point_in_scope(sp_id)
    form = VolumeForm(prefix="one")
    upload = VolumeUploadForm(prefix="csv")
    status = 200
    if request.method == "POST":
        require_write()
        if "csv-file" in request.files or request.form.get("which") == "csv":
            if upload.validate_on_submit():
                rows, error = _parse_volumes(upload.file.data)
                if error:
                    upload.file.errors.append(error)
                else:
                    for month, volume in rows:
                        _set_volume(sp, month, volume)
                    db.session.commit()
                    flash(_("Đã nhập %(n)d tháng.", n=len(rows)), "success")
                    return redirect(url_for("admin.service_point_volumes", sp_id=sp.id))
        elif form.validate_on_submit():
            _set_volume(sp, _first_of_month(form.month.data), form.volume.data)
            db.session.commit()
            flash(_("Đã lưu số lượt phục vụ."), "success")
            return redirect(url_for("admin.service_point_volumes", sp_id=sp.id))
        status = 422
    volumes = list(db.session.scalars(sa.select(ServiceVolume).where(ServiceVolume.service_point_id == sp.id)
                                      .order_by(ServiceVolume.month.desc())))
    return render_template("admin/volumes.html", sp=sp, volumes=volumes, form=form, upload=upload), status


def _parse_volumes(storage) -> tuple[list[tuple[date, int]], str | None]:
    """Rows of a CSV with columns month (YYYY-MM) and volume; all or nothing."""
    try:
        text = storage.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], _("Tệp phải là CSV mã hóa UTF-8.")
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or not {"month", "volume"} <= {f.strip().lower() for f in reader.fieldnames}:
        return [], _("Tệp cần hai cột: month và volume.")
    rows: dict[date, int] = {}
    for line_no, raw in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
        if not MONTH_RE.match(row.get("month", "")):
            return [], _("Dòng %(n)d: tháng không hợp lệ (định dạng năm-tháng).", n=line_no)
        try:
            volume = int(row.get("volume", ""))
        except ValueError:
            volume = -1
        if not 0 <= volume <= MAX_VOLUME:
            return [], _("Dòng %(n)d: số lượt phải là số nguyên từ 0 đến 10.000.000.", n=line_no)
        rows[_first_of_month(row["month"])] = volume
    if not rows:
        return [], _("Tệp không có dòng dữ liệu nào.")
    return sorted(rows.items()), None
