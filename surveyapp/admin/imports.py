"""Bulk import in the workspace: every kind's template (CSV and XLSX), an upload checked as a dry
run (the errors as a table, nothing stored), then the real run on confirmation; the export of
what the user may import back; the posters of a subtree's service points as one PDF.

Rules live in :mod:`surveyapp.imports` and :mod:`surveyapp.qr`; the views only pass the
signed-in account, whose subtree bounds every row (:mod:`surveyapp.auth.scope`)."""
from __future__ import annotations

import base64
import binascii
import io
import zlib

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, SelectField
from wtforms.validators import DataRequired

from .. import imports, qr
from ..auth.scope import READ_ROLES, WRITE_ROLES, login_required_role, organisation_in_scope
from ..clock import today
from . import bp
from .forms import AdminForm
from .helpers import org_choices, scoped_organisations, scoped_service_points

# The kinds of the workspace page, in the order a province moves in.
ORDER = ("organisations", "service-points", "users", "volumes", "targets", "dossiers")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _pack(data: bytes) -> str:
    # Compressed so that a file near the upload limit still fits the form-field limit.
    return base64.b64encode(zlib.compress(data, 9)).decode()


def _unpack(payload: str) -> bytes:
    try:
        inflater = zlib.decompressobj()
        limit = int(current_app.config["MAX_CONTENT_LENGTH"])
        data = inflater.decompress(base64.b64decode(payload, validate=True), limit + 1)
    except zlib.error as exc:
        raise ValueError("bad payload") from exc
    if len(data) > limit or inflater.unconsumed_tail:
        raise ValueError("payload too large")
    return data


class UploadForm(AdminForm):
    file = FileField(_l("Tệp CSV hoặc XLSX"), validators=[FileRequired(_l("Vui lòng chọn tệp."))])


class ConfirmForm(AdminForm):
    # The checked file, sent back to be checked again and stored (never trusted as checked).
    filename = HiddenField(validators=[DataRequired()])
    payload = HiddenField(validators=[DataRequired()])


class PostersForm(AdminForm):
    class Meta:
        csrf = False  # a GET that changes nothing

    org = SelectField(_l("Đơn vị"), coerce=int)


def _kind(name: str) -> imports.Kind:
    if name not in ORDER:
        abort(404)
    return imports.get(name)


def import_page(kind_name: str, here: str):
    """Upload a file of ``kind_name``: checked (nothing stored) and shown; confirming stores it whole.
    ``here``: this page's URL, where a finished import returns."""
    kind = _kind(kind_name)
    upload, confirm = UploadForm(prefix="up"), ConfirmForm(prefix="ok")
    result, status = None, 200
    if request.method == "POST" and "ok-payload" in request.form:
        if not confirm.validate_on_submit():
            abort(400)
        try:
            data = _unpack(confirm.payload.data)
            result = imports.run_import(kind.name, confirm.filename.data, data)
        except (binascii.Error, ValueError) as exc:
            upload.file.errors = [str(exc) if isinstance(exc, imports.FileProblem) else _("Tệp không hợp lệ.")]
            status = 422
        else:
            if result.ok:
                c = result.counts
                flash(_("Đã nhập %(rows)d dòng: %(created)d mới, %(updated)d cập nhật, %(unchanged)d không đổi.",
                        rows=result.rows, created=c["created"], updated=c["updated"], unchanged=c["unchanged"]),
                      "success")
                if c.get("invited"):
                    flash(_("Đã gửi %(n)d thư mời đặt mật khẩu.", n=c["invited"]), "success")
                return redirect(here)
            status = 422
    elif request.method == "POST":
        if upload.validate_on_submit():
            storage = upload.file.data
            data = storage.read()
            try:
                result = imports.run_import(kind.name, storage.filename or "", data, dry_run=True)
            except imports.FileProblem as exc:
                upload.file.errors = [str(exc)]
                status = 422
            else:
                if result.ok:
                    confirm = ConfirmForm(prefix="ok", formdata=None, filename=storage.filename, payload=_pack(data))
                else:
                    status = 422
        else:
            status = 422
    return render_template("admin/import.html", kind=kind, upload=upload, confirm=confirm, result=result), status


@bp.route("/imports")
@login_required_role(*WRITE_ROLES)
def imports_index():
    """Every kind with its templates, its import page and its export; the posters as one PDF."""
    form = PostersForm(meta={"csrf": False})
    form.org.choices = org_choices(scoped_organisations(active_only=True))
    return render_template("admin/imports.html", kinds=[imports.get(k) for k in ORDER], posters_form=form)


@bp.route("/imports/<kind>", methods=["GET", "POST"])
@login_required_role(*WRITE_ROLES)
def import_kind(kind: str):
    """Import one kind: a dry run first, then the real run on confirmation."""
    return import_page(kind, url_for("admin.import_kind", kind=kind))


def _extension(ext: str) -> str:
    if ext not in ("csv", "xlsx"):
        abort(404)
    return ext


def send_template(kind_name: str, ext: str):
    """The kind's header (Vietnamese) and one example row, as CSV or XLSX."""
    kind = _kind(kind_name)
    ext = _extension(ext)
    out = io.BytesIO()
    imports.template(kind.name, f"mau.{ext}", out)
    out.seek(0)
    return send_file(out, mimetype="text/csv" if ext == "csv" else XLSX, as_attachment=True,
                     download_name=f"mau-{kind.name}.{ext}")


@bp.route("/imports/<kind>/template.<ext>")
@login_required_role(*READ_ROLES)
def import_template(kind: str, ext: str):
    return send_template(kind, ext)


@bp.route("/imports/<kind>/export.<ext>")
@login_required_role(*WRITE_ROLES)
def import_export(kind: str, ext: str):
    """What the user may import back: the kind's rows of its subtree, in the template's layout."""
    _kind(kind)
    ext = _extension(ext)
    out = io.BytesIO()
    imports.write_export(kind, f"x.{ext}", out)
    out.seek(0)
    return send_file(out, mimetype="text/csv" if ext == "csv" else XLSX, as_attachment=True,
                     download_name=f"{kind}-{today():%Y%m%d}.{ext}")


@bp.route("/organisations/<int:org_id>/posters.pdf")
@login_required_role(*READ_ROLES)
def organisation_posters_pdf(org_id: int):
    """The posters of every active service point of an organisation's subtree: one PDF, one A4 page each."""
    org = organisation_in_scope(org_id)
    points = scoped_service_points(under=org)
    if not points:
        flash(_("Đơn vị này chưa có điểm phục vụ nào đang hoạt động."), "info")
        return redirect(url_for("admin.imports_index"))
    pdf = qr.posters_pdf(points)
    return send_file(io.BytesIO(pdf), mimetype="application/pdf", as_attachment=True,
                     download_name=f"ap-phich-{org.code}.pdf")


@bp.route("/imports/posters.pdf")
@login_required_role(*READ_ROLES)
def imports_posters():
    """The workspace's posters button: the chosen organisation's PDF (default: the first of the subtree)."""
    org_id = request.args.get("org", type=int)
    if org_id is None:
        orgs = scoped_organisations(active_only=True)
        if not orgs:
            abort(404)
        org_id = orgs[0].id
    return redirect(url_for("admin.organisation_posters_pdf", org_id=organisation_in_scope(org_id).id))
