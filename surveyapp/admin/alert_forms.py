"""Forms of the alert, webhook and profile pages (Flask-WTF; CSRF on each)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField, TimeField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp, ValidationError

from .forms import REQUIRED, AdminForm, MultiCheckboxField, choice_list

HHMM = r"^([01]\d|2[0-3]):[0-5]\d$"


class AlertRuleNewForm(AdminForm):
    organisation_id = SelectField(_l("Đơn vị"), coerce=int, validators=[InputRequired(REQUIRED)])
    kind = SelectField(_l("Loại cảnh báo"), validators=[DataRequired(REQUIRED)])


class AlertRuleForm(AdminForm):
    active = BooleanField(_l("Đang bật"))
    threshold = IntegerField(_l("Số ý kiến không hài lòng (N)"), validators=[InputRequired(REQUIRED), NumberRange(1, 1000)])
    window_minutes = IntegerField(_l("Trong khoảng (phút, M)"), validators=[InputRequired(REQUIRED), NumberRange(1, 1440)])
    days = IntegerField(_l("Số ngày gần nhất (D)"), validators=[InputRequired(REQUIRED), NumberRange(1, 365)])
    terms = TextAreaField(_l("Từ ngữ cần phát hiện (mỗi dòng một cụm từ; có dấu hay không dấu đều được)"),
                          validators=[DataRequired(REQUIRED), Length(max=5000)])
    hours = IntegerField(_l("Số giờ mở cửa không liên lạc (H)"), validators=[InputRequired(REQUIRED), NumberRange(1, 200)])
    opens = StringField(_l("Giờ mở cửa (HH:MM)"), validators=[DataRequired(REQUIRED),
                                                            Regexp(HHMM, message=_l("Nhập giờ dạng HH:MM."))])
    closes = StringField(_l("Giờ đóng cửa (HH:MM)"), validators=[DataRequired(REQUIRED),
                                                               Regexp(HHMM, message=_l("Nhập giờ dạng HH:MM."))])
    weekdays = MultiCheckboxField(_l("Ngày làm việc"), coerce=int, validators=[DataRequired(REQUIRED)])
    cap_count = IntegerField(_l("Tối đa số thư cho mỗi người nhận"), validators=[InputRequired(REQUIRED), NumberRange(1, 100)])
    cap_window_minutes = IntegerField(_l("trong mỗi khoảng (phút)"), validators=[InputRequired(REQUIRED),
                                                                                NumberRange(1, 10080)])

    def validate_closes(self, field):
        if self.opens.data and field.data and field.data <= self.opens.data:
            raise ValidationError(_l("Giờ đóng cửa phải sau giờ mở cửa."))


# The fields of each kind; the others are removed from the form.
KIND_FIELDS = {
    "dissatisfied_burst": ("threshold", "window_minutes"),
    "below_target": ("days",),
    "harassment": ("terms",),
    "silent_kiosk": ("hours", "opens", "closes", "weekdays"),
}
PARAM_FIELDS = ("threshold", "window_minutes", "days", "terms", "hours", "opens", "closes", "weekdays")


class WebhookForm(AdminForm):
    organisation_id = SelectField(_l("Đơn vị"), coerce=int, validators=[InputRequired(REQUIRED)])
    url = StringField(_l("Địa chỉ nhận (URL)"), validators=[DataRequired(REQUIRED), Length(max=2000)])
    secret = StringField(_l("Khóa bí mật dùng để ký (ít nhất 16 ký tự)"), validators=[DataRequired(REQUIRED),
                                                                                   Length(max=255)])
    description = StringField(_l("Mô tả"), validators=[Optional(), Length(max=255)])


class ProfileForm(AdminForm):
    email = StringField(_l("Thư điện tử"), validators=[Optional(), Length(max=255)])
    language = SelectField(_l("Ngôn ngữ của thư"), choices=choice_list([("vi", "Tiếng Việt"), ("en", "English")]))
    digest_frequency = SelectField(_l("Bản tin tổng hợp"), choices=choice_list([
        ("none", _l("Không nhận")), ("day", _l("Hằng ngày")), ("week", _l("Hằng tuần")), ("month", _l("Hằng tháng"))]))
    quiet_start = TimeField(_l("Giờ yên lặng từ"), validators=[Optional()])
    quiet_end = TimeField(_l("đến"), validators=[Optional()])
    rules = MultiCheckboxField(_l("Nhận cảnh báo của các quy tắc"), coerce=int, validators=[Optional()])
