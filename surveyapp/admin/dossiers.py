"""Dossiers in the workspace: import a CSV/XLSX file (a dry run first, then confirm), the
template, and the ranking of units with the rule that decided each rank."""
from __future__ import annotations

import base64
import binascii
import io
import zlib

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, IntegerField, SelectField
from wtforms.validators import DataRequired, NumberRange, Optional

from .. import imports, rankings
from ..auth.scope import READ_ROLES, WRITE_ROLES, login_required_role, organisation_in_scope, scope_root
from ..clock import today
from . import bp
from .forms import AdminForm, choice_list
from .helpers import org_choices, scoped_organisations

KIND = "dossiers"


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


class DossierUploadForm(AdminForm):
    file = FileField(_l("Tệp CSV hoặc XLSX"), validators=[FileRequired(_l("Vui lòng chọn tệp."))])


class DossierConfirmForm(AdminForm):
    # The checked file, sent back to be checked again and stored (never trusted as checked).
    filename = HiddenField(validators=[DataRequired()])
    payload = HiddenField(validators=[DataRequired()])


class RankingForm(AdminForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    org = SelectField(_l("Đơn vị"), coerce=int)
    year = IntegerField(_l("Năm"), validators=[DataRequired(), NumberRange(2000, 2100)])
    quarter = SelectField(_l("Quý"), coerce=int, validators=[Optional()],
                          choices=choice_list([(0, _l("Cả năm")), (1, "I"), (2, "II"), (3, "III"), (4, "IV")]))
    rules = SelectField(_l("Quy tắc xếp loại"),
                        choices=choice_list([("khanh-hoa", "Khánh Hòa"), ("lam-dong", "Lâm Đồng")]))


@bp.route("/dossiers/import", methods=["GET", "POST"])
@login_required_role(*WRITE_ROLES)
def dossier_import():
    """Upload dossiers: the file is checked (nothing stored) and shown; confirming stores it whole."""
    upload, confirm = DossierUploadForm(prefix="up"), DossierConfirmForm(prefix="ok")
    result, status = None, 200
    if request.method == "POST" and "ok-payload" in request.form:
        if not confirm.validate_on_submit():
            abort(400)
        try:
            data = _unpack(confirm.payload.data)
            result = imports.run_import(KIND, confirm.filename.data, data, scope=scope_root())
        except (binascii.Error, ValueError) as exc:
            upload.file.errors = [str(exc) if isinstance(exc, imports.FileProblem) else _("Tệp không hợp lệ.")]
            status = 422
        else:
            if result.ok:
                c = result.counts
                flash(_("Đã nhập %(rows)d dòng: %(created)d mới, %(updated)d cập nhật, %(unchanged)d không đổi.",
                        rows=result.rows, created=c["created"], updated=c["updated"], unchanged=c["unchanged"]),
                      "success")
                return redirect(url_for("admin.dossier_import"))
            status = 422
    elif request.method == "POST":
        if upload.validate_on_submit():
            storage = upload.file.data
            data = storage.read()
            try:
                result = imports.run_import(KIND, storage.filename or "", data, scope=scope_root(), dry_run=True)
            except imports.FileProblem as exc:
                upload.file.errors = [str(exc)]
                status = 422
            else:
                if result.ok:
                    confirm = DossierConfirmForm(prefix="ok", formdata=None, filename=storage.filename,
                                                 payload=_pack(data))
                else:
                    status = 422
        else:
            status = 422
    return render_template("admin/dossier_import.html", upload=upload, confirm=confirm, result=result,
                           columns=imports.get(KIND).columns), status


def _template(ext: str):
    out = io.BytesIO()
    imports.template(KIND, f"mau.{ext}", out)
    out.seek(0)
    mimetype = "text/csv" if ext == "csv" else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return send_file(out, mimetype=mimetype, as_attachment=True, download_name=f"mau-ho-so.{ext}")


@bp.route("/dossiers/template.csv")
@login_required_role(*READ_ROLES)
def dossier_template():
    """The import template with one example row, as CSV."""
    return _template("csv")


@bp.route("/dossiers/template.xlsx")
@login_required_role(*READ_ROLES)
def dossier_template_xlsx():
    """The import template with one example row, as XLSX."""
    return _template("xlsx")


@bp.route("/rankings")
@login_required_role(*READ_ROLES)
def rankings_page():
    """Units of an organisation ranked for a year or quarter, with the rule that decided each rank."""
    orgs = scoped_organisations(active_only=True)
    form = RankingForm(request.args, meta={"csrf": False})
    form.org.choices = org_choices(orgs)
    if not request.args.get("year"):
        form.year.data = today().year
    rows, org = None, None
    if orgs:
        org_id = form.org.data or orgs[0].id
        org = organisation_in_scope(org_id)
        form.org.data = org.id
        if form.validate() or not request.args:
            rows = rankings.rank(org, form.year.data, form.quarter.data or None, form.rules.data or "khanh-hoa")
    return render_template("admin/rankings.html", form=form, rows=rows, org=org)
