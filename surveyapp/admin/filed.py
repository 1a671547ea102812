"""The filed báo cáo from the workspace: a form asking organisation, period, agency, number,
signer and recipients, answered with the DOCX or the PDF as a download
(:mod:`surveyapp.documents.report` writes it; the command line shares its header rules)."""
from __future__ import annotations

from flask import current_app, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_babel import gettext as _
from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

import io

from .. import clock
from ..auth.scope import READ_ROLES, login_required_role, organisation_in_scope
from ..documents.decree30 import ConversionError
from ..documents.report import filed_bytes, filed_filename, header_from, period_dates
from ..reports.layout import upward_report
from ..reports.filters import Filters
from . import bp
from .forms import REQUIRED, AdminForm, choice_list
from .helpers import form_page, org_choices, scoped_organisations

MIMETYPES = {"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
             "pdf": "application/pdf"}


class FiledReportForm(AdminForm):
    organisation_id = SelectField(_l("Đơn vị"), coerce=int, validate_choice=False,
                                  validators=[InputRequired(REQUIRED)])
    kind = SelectField(_l("Kỳ báo cáo"), choices=choice_list([
        ("month", _l("Tháng")), ("quarter", _l("Quý")), ("half", _l("6 tháng")), ("year", _l("Năm")),
        ("custom", _l("Khoảng ngày tự chọn"))]))
    year = IntegerField(_l("Năm"), validators=[Optional(), NumberRange(min=2000, max=2100)])
    number = IntegerField(_l("Tháng, quý hoặc nửa năm thứ"), validators=[Optional(), NumberRange(min=1, max=12)])
    date_from = DateField(_l("Từ ngày"), validators=[Optional()])
    date_to = DateField(_l("Đến ngày"), validators=[Optional()])
    managing_agency = StringField(_l("Cơ quan chủ quản"), validators=[Optional(), Length(max=200)])
    agency = StringField(_l("Cơ quan ban hành"), validators=[Optional(), Length(max=200)])
    doc_number = StringField(_l("Số văn bản"), validators=[Optional(), Length(max=20)])
    place = StringField(_l("Địa danh"), validators=[Optional(), Length(max=100)])
    signer_prefix = SelectField(_l("Thẩm quyền ký"), choices=choice_list([
        ("", _l("(Ký trực tiếp)")), ("TM.", "TM."), ("KT.", "KT."), ("Q.", "Q.")]), validators=[Optional()])
    signer_authority = StringField(_l("Ký thay mặt / ký thay cho"), validators=[Optional(), Length(max=200)])
    signer_title = StringField(_l("Chức vụ người ký"), validators=[InputRequired(REQUIRED), Length(max=200)])
    signer_name = StringField(_l("Họ tên người ký"), validators=[Optional(), Length(max=200)])
    recipients = TextAreaField(_l("Nơi nhận (mỗi dòng một nơi)"), validators=[Optional(), Length(max=2000)])
    fmt = SelectField(_l("Định dạng"), choices=choice_list([("docx", "DOCX"), ("pdf", "PDF")]))

    def validate_year(self, field):
        if self.kind.data != "custom" and not field.data:
            raise ValidationError(REQUIRED)

    def validate_number(self, field):
        if self.kind.data in ("month", "quarter", "half"):
            top = {"month": 12, "quarter": 4, "half": 2}[self.kind.data]
            if not field.data or field.data > top:
                raise ValidationError(_l("Chọn tháng (1–12), quý (1–4) hoặc nửa năm (1–2)."))

    def validate_date_to(self, field):
        if self.kind.data == "custom":
            if not field.data or not self.date_from.data:
                raise ValidationError(_l("Chọn cả ngày bắt đầu và ngày kết thúc."))
            if field.data < self.date_from.data:
                raise ValidationError(_l("Ngày kết thúc phải sau ngày bắt đầu."))


@bp.route("/reports/filed", methods=["GET", "POST"])
@login_required_role(*READ_ROLES)
def filed_report():
    form = FiledReportForm()
    orgs = scoped_organisations(active_only=True)
    form.organisation_id.choices = org_choices(orgs)
    if request.method == "GET":
        form.year.data = clock.today().year
        if request.args.get("org", type=int):
            form.organisation_id.data = organisation_in_scope(request.args.get("org", type=int)).id
    if form.validate_on_submit():
        # An organisation outside the account's subtree is not found, whatever the form says.
        org = organisation_in_scope(form.organisation_id.data)
        if form.kind.data == "custom":
            first, last = form.date_from.data, form.date_to.data
        else:
            first, last = period_dates(form.kind.data, form.year.data, form.number.data or 1)
        f = Filters(first, last)
        lang = str(get_locale() or "vi")
        report = upward_report(org, f, lang)
        header = header_from(org, f, number=(form.doc_number.data or "").strip(), agency=form.agency.data,
                             managing_agency=form.managing_agency.data or "", place=form.place.data or "",
                             signer_prefix=form.signer_prefix.data or "", signer_authority=form.signer_authority.data or "",
                             signer_title=form.signer_title.data, signer_name=form.signer_name.data or "",
                             recipients=[r.strip() for r in (form.recipients.data or "").splitlines()])
        try:
            data = filed_bytes(report, header, form.fmt.data, lang)
        except ConversionError:
            current_app.logger.exception("filed report: PDF conversion failed")
            form.fmt.errors.append(_("Không tạo được tệp PDF; hãy tải bản DOCX."))
            return form_page(form, _("Báo cáo theo Nghị định 30"), cancel=url_for("admin.dashboard"),
                             submit=_("Tải báo cáo"), status=503)
        name = filed_filename(org, first, last, form.fmt.data)
        return send_file(io.BytesIO(data), mimetype=MIMETYPES[form.fmt.data], as_attachment=True, download_name=name)
    return form_page(form, _("Báo cáo theo Nghị định 30"), cancel=url_for("admin.dashboard"), submit=_("Tải báo cáo"),
                     intro=_("Báo cáo gửi cấp trên theo thể thức Nghị định 30/2020/NĐ-CP, với số liệu như trang tổng quan."))
