"""Forms of the workspace (Flask-WTF). Labels and messages are Vietnamese source strings."""
from __future__ import annotations

import re

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp, ValidationError
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import CheckboxInput, ListWidget

from ..models import CODE_PATTERN, INDICATORS, MAX_VOLUME, USERNAME_PATTERN, QUESTION_TYPES, ROLES, SECTORS, SURVEY_STATUSES

# WTForms ships no Vietnamese catalogue: its built-in messages, translated here.
WTFORMS_VI = {
    "This field is required.": "Vui lòng điền mục này.",
    "Not a valid choice.": "Lựa chọn không hợp lệ.",
    "Not a valid choice": "Lựa chọn không hợp lệ.",
    "Invalid Choice: could not coerce.": "Lựa chọn không hợp lệ.",
    "Choices cannot be None.": "Lựa chọn không hợp lệ.",
    "'%(value)s' is not a valid choice for this field.": "'%(value)s' không phải là lựa chọn hợp lệ.",
    "'%(value)s' are not valid choices for this field.": "'%(value)s' không phải là lựa chọn hợp lệ.",
    "Not a valid date value.": "Ngày không hợp lệ (định dạng năm-tháng-ngày).",
    "Not a valid integer value.": "Vui lòng nhập một số nguyên.",
    "Not a valid decimal value.": "Vui lòng nhập một số.",
    "Not a valid float value.": "Vui lòng nhập một số.",
    "Number must be at least %(min)s.": "Giá trị phải từ %(min)s trở lên.",
    "Number must be at most %(max)s.": "Giá trị phải không quá %(max)s.",
    "Number must be between %(min)s and %(max)s.": "Giá trị phải từ %(min)s đến %(max)s.",
    "Field must be at least %(min)d character long.": "Cần ít nhất %(min)d ký tự.",
    "Field must be at least %(min)d characters long.": "Cần ít nhất %(min)d ký tự.",
    "Field cannot be longer than %(max)d character.": "Tối đa %(max)d ký tự.",
    "Field cannot be longer than %(max)d characters.": "Tối đa %(max)d ký tự.",
    "Field must be between %(min)d and %(max)d characters long.": "Cần từ %(min)d đến %(max)d ký tự.",
    "Invalid input.": "Giá trị không hợp lệ.",
    "This field is required": "Vui lòng điền mục này.",
}


class _Translations:
    """WTForms' messages in the user's language (English is WTForms' own)."""

    def _vi(self) -> bool:
        locale = get_locale()
        return locale is not None and locale.language == "vi"

    def gettext(self, string):
        return WTFORMS_VI.get(string, string) if self._vi() else string

    def ngettext(self, singular, plural, n):
        chosen = singular if n == 1 else plural
        return self.gettext(chosen)


class AdminForm(FlaskForm):
    class Meta:
        def get_translations(self, form):
            return _Translations()


class ConfirmForm(AdminForm):
    """No fields: a POST button (deactivate, revoke...) with its CSRF token."""


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


REQUIRED = _l("Vui lòng điền mục này.")


def choice_list(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms choices."""
    return [SelectChoice(value, label) for value, label in pairs]
CODE_RE = CODE_PATTERN
USERNAME_RE = USERNAME_PATTERN


def sector_choices():
    labels = {"administrative": _l("Hành chính công"), "health": _l("Y tế"), "education": _l("Giáo dục")}
    return choice_list((s, labels[s]) for s in SECTORS)


def role_choices(roles=ROLES):
    labels = {"admin": _l("Quản trị viên"), "manager": _l("Cán bộ quản lý"), "viewer": _l("Người xem")}
    return choice_list((r, labels[r]) for r in roles)


def indicator_choices():
    labels = {
        "composite": _l("Chỉ số hài lòng chung (trung bình các khía cạnh)"),
        "overall_rate": _l("Tỷ lệ hài lòng chung"),
        "quick": _l("Đánh giá nhanh tại quầy"),
        "procedure": _l("Hài lòng về giải quyết thủ tục"),
    }
    return choice_list((i, labels[i]) for i in INDICATORS)


def status_choices():
    labels = {"draft": _l("Bản nháp"), "open": _l("Đang mở"), "closed": _l("Đã đóng")}
    return choice_list((s, labels[s]) for s in SURVEY_STATUSES)


def question_type_choices():
    labels = {"rating": _l("Thang điểm hài lòng 1–5"), "number": _l("Số"), "choice": _l("Chọn một"),
              "yesno": _l("Có / Không"), "text": _l("Ý kiến tự do")}
    return choice_list((t, labels[t]) for t in QUESTION_TYPES)


class OrganisationForm(AdminForm):
    code = StringField(_l("Mã đơn vị"), validators=[
        DataRequired(REQUIRED), Length(max=32), Regexp(CODE_RE, message=_l("Chỉ dùng chữ không dấu, số, dấu chấm, gạch ngang."))])
    name = StringField(_l("Tên đơn vị"), validators=[DataRequired(REQUIRED), Length(max=255)])
    name_en = StringField(_l("Tên tiếng Anh"), validators=[Optional(), Length(max=255)])
    sector = SelectField(_l("Lĩnh vực"), choices=sector_choices)
    parent_id = SelectField(_l("Đơn vị cấp trên"), coerce=int, validators=[InputRequired(REQUIRED)])


class ServicePointForm(AdminForm):
    organisation_id = SelectField(_l("Thuộc đơn vị"), coerce=int, validators=[InputRequired(REQUIRED)])
    name = StringField(_l("Tên điểm phục vụ"), validators=[DataRequired(REQUIRED), Length(max=255)])
    official_code = StringField(_l("Mã điểm phục vụ (mã của tỉnh, dùng khi nhập tệp)"), validators=[
        Optional(), Length(max=64), Regexp(CODE_RE, message=_l("Chỉ dùng chữ không dấu, số, dấu chấm, gạch ngang."))])
    name_en = StringField(_l("Tên tiếng Anh"), validators=[Optional(), Length(max=255)])


class CloneForm(AdminForm):
    organisation_id = SelectField(_l("Đơn vị sở hữu bản sao"), coerce=int, validators=[InputRequired(REQUIRED)])
    title_vi = StringField(_l("Tên phiếu (tiếng Việt)"), validators=[DataRequired(REQUIRED), Length(max=255)])
    title_en = StringField(_l("Tên phiếu (tiếng Anh)"), validators=[DataRequired(REQUIRED), Length(max=255)])


class QuestionnaireTitleForm(AdminForm):
    title_vi = StringField(_l("Tên phiếu (tiếng Việt)"), validators=[DataRequired(REQUIRED), Length(max=255)])
    title_en = StringField(_l("Tên phiếu (tiếng Anh)"), validators=[DataRequired(REQUIRED), Length(max=255)])


class QuestionTextForm(AdminForm):
    text_vi = TextAreaField(_l("Câu hỏi (tiếng Việt)"), validators=[DataRequired(REQUIRED), Length(max=2000)])
    text_en = TextAreaField(_l("Câu hỏi (tiếng Anh)"), validators=[DataRequired(REQUIRED), Length(max=2000)])


class NewQuestionForm(QuestionTextForm):
    code = StringField(_l("Mã câu hỏi"), validators=[
        DataRequired(REQUIRED), Length(max=32), Regexp(r"^[a-z0-9_]+$", message=_l("Chỉ dùng chữ thường không dấu, số và dấu gạch dưới."))])
    type = SelectField(_l("Loại câu hỏi"), choices=question_type_choices)
    aspect_id = SelectField(_l("Khía cạnh"), coerce=int, validators=[InputRequired(REQUIRED)])
    required = BooleanField(_l("Bắt buộc trả lời"))
    counts_in_index = BooleanField(_l("Tính vào chỉ số"))
    options = TextAreaField(
        _l("Các lựa chọn (mỗi dòng một lựa chọn: tiếng Việt | tiếng Anh)"), validators=[Optional(), Length(max=4000)])
    min_value = IntegerField(_l("Giá trị nhỏ nhất"), validators=[Optional()])
    max_value = IntegerField(_l("Giá trị lớn nhất"), validators=[Optional()])

    def parsed_options(self) -> list[tuple[str, str]]:
        rows = []
        for line in (self.options.data or "").splitlines():
            if not line.strip():
                continue
            vi, _sep, en = line.partition("|")
            rows.append((vi.strip()[:255], (en.strip() or vi.strip())[:255]))
        return rows

    def validate_options(self, field):
        if self.type.data == "choice" and len(self.parsed_options()) < 2:
            raise ValidationError(_l("Câu hỏi chọn một cần ít nhất hai lựa chọn."))

    def validate_max_value(self, field):
        if self.min_value.data is not None and field.data is not None and field.data < self.min_value.data:
            raise ValidationError(_l("Giá trị lớn nhất phải không nhỏ hơn giá trị nhỏ nhất."))

    def validate_counts_in_index(self, field):
        if field.data and self.type.data != "rating":
            raise ValidationError(_l("Chỉ câu hỏi thang điểm hài lòng mới được tính vào chỉ số."))


class SurveyForm(AdminForm):
    name = StringField(_l("Tên đợt khảo sát"), validators=[DataRequired(REQUIRED), Length(max=255)])
    organisation_id = SelectField(_l("Đơn vị tổ chức"), coerce=int, validators=[InputRequired(REQUIRED)])
    questionnaire_id = SelectField(_l("Phiếu khảo sát (phiên bản)"), coerce=int, validators=[InputRequired(REQUIRED)])
    service_point_ids = MultiCheckboxField(_l("Điểm phục vụ"), coerce=int)
    channel_qr = BooleanField(_l("Mã QR"))
    channel_kiosk = BooleanField(_l("Máy đánh giá tại quầy"))
    starts_on = DateField(_l("Ngày bắt đầu"), validators=[InputRequired(REQUIRED)])
    ends_on = DateField(_l("Ngày kết thúc"), validators=[Optional()])
    status = SelectField(_l("Trạng thái"), choices=status_choices)

    def validate_channel_kiosk(self, field):
        if not (field.data or self.channel_qr.data):
            raise ValidationError(_l("Chọn ít nhất một kênh khảo sát."))

    def validate_ends_on(self, field):
        if field.data and self.starts_on.data and field.data < self.starts_on.data:
            raise ValidationError(_l("Ngày kết thúc phải sau ngày bắt đầu."))

    def validate_service_point_ids(self, field):
        if not field.data:
            raise ValidationError(_l("Chọn ít nhất một điểm phục vụ."))


class DeviceForm(AdminForm):
    name = StringField(_l("Tên thiết bị"), validators=[DataRequired(REQUIRED), Length(max=255)])
    service_point_id = SelectField(_l("Điểm phục vụ"), coerce=int, validators=[InputRequired(REQUIRED)])


class DeviceRenameForm(AdminForm):
    name = StringField(_l("Tên thiết bị"), validators=[DataRequired(REQUIRED), Length(max=255)])


class DeviceMoveForm(AdminForm):
    service_point_id = SelectField(_l("Chuyển đến điểm phục vụ"), coerce=int, validators=[InputRequired(REQUIRED)])


class UserForm(AdminForm):
    username = StringField(_l("Tên đăng nhập"), validators=[
        DataRequired(REQUIRED), Length(min=3, max=64),
        Regexp(USERNAME_RE, message=_l("Chỉ dùng chữ không dấu, số, dấu chấm, gạch ngang."))])
    full_name = StringField(_l("Họ và tên"), validators=[Optional(), Length(max=255)])
    role = SelectField(_l("Vai trò"), choices=role_choices)
    organisation_id = SelectField(_l("Phạm vi (đơn vị)"), coerce=int, validators=[InputRequired(REQUIRED)])
    password = PasswordField(_l("Mật khẩu"), validators=[Optional(), Length(min=8, max=256)],
                             render_kw={"autocomplete": "new-password"})
    active = BooleanField(_l("Đang hoạt động"), default=True)

    def validate_organisation_id(self, field):
        if self.role.data != "admin" and not field.data:
            raise ValidationError(_l("Cán bộ quản lý và người xem phải thuộc một đơn vị."))


class TargetForm(AdminForm):
    indicator = SelectField(_l("Chỉ số"), choices=indicator_choices)
    sector = SelectField(_l("Lĩnh vực"), validators=[Optional()])
    organisation_id = SelectField(_l("Hoặc đơn vị"), coerce=int, validators=[InputRequired(REQUIRED)])
    value = DecimalField(_l("Chỉ tiêu (%)"), places=1, validators=[
        InputRequired(REQUIRED), NumberRange(min=0.1, max=100, message=_l("Chỉ tiêu phải lớn hơn 0 và không quá 100."))])
    operator = SelectField(_l("Phép so sánh"), choices=choice_list([(">=", "≥"), (">", ">")]))
    valid_from = DateField(_l("Áp dụng từ ngày"), validators=[InputRequired(REQUIRED)])
    valid_to = DateField(_l("Đến ngày"), validators=[Optional()])
    source = StringField(_l("Căn cứ"), validators=[Optional(), Length(max=255)])

    def validate_organisation_id(self, field):
        if bool(field.data) == bool(self.sector.data):
            raise ValidationError(_l("Chọn một lĩnh vực hoặc một đơn vị (không chọn cả hai)."))

    def validate_valid_to(self, field):
        if field.data and self.valid_from.data and field.data < self.valid_from.data:
            raise ValidationError(_l("Ngày kết thúc phải sau ngày bắt đầu."))


MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


class VolumeForm(AdminForm):
    month = StringField(_l("Tháng (năm-tháng, ví dụ 2026-05)"), validators=[
        DataRequired(REQUIRED), Regexp(MONTH_RE.pattern, message=_l("Tháng không hợp lệ (định dạng năm-tháng)."))])
    volume = IntegerField(_l("Số lượt phục vụ"), validators=[
        InputRequired(REQUIRED), NumberRange(min=0, max=MAX_VOLUME, message=_l("Số lượt phải từ 0 đến 10.000.000."))])


class VolumeUploadForm(AdminForm):
    file = FileField(_l("Tệp CSV (cột: month, volume)"), validators=[FileRequired(_l("Vui lòng chọn tệp."))])


class AuditFilterForm(AdminForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    user_id = SelectField(_l("Người thực hiện"), coerce=int, validators=[Optional()])
    object_type = SelectField(_l("Loại đối tượng"), validators=[Optional()])


class PublicationForm(AdminForm):
    """Publishing an organisation's indices: below how many responses a unit shows no number."""

    min_responses = IntegerField(_l("Số phiếu tối thiểu để công bố số liệu của một đơn vị"),
                                 validators=[InputRequired(), NumberRange(min=1, max=100000)])


class ApiKeyForm(AdminForm):
    """A new API key: whose subtree it reads or writes, for what, and which system holds it."""

    organisation_id = SelectField(_l("Đơn vị"), coerce=int, validators=[InputRequired()])
    scope = SelectField(_l("Mục đích"), validators=[InputRequired()])
    name = StringField(_l("Tên (hệ thống nào dùng khóa)"), validators=[DataRequired(), Length(max=255)])
