"""Scheduled filed reports in the workspace: the subscriptions of the user's subtree (list), a new
one (form), pause or resume, delete. The rules are :mod:`surveyapp.documents.subscriptions`';
every object is resolved inside the user's subtree (404 otherwise), every change is audited and
every form carries its CSRF token."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from ..auth.scope import READ_ROLES, WRITE_ROLES, in_scope, login_required_role, organisation_in_scope, scope_root
from ..documents import subscriptions as subs
from ..documents.report import period_label
from ..extensions import db
from ..models import ReportSubscription, User, subtree_filter
from .. import audit
from . import bp
from .forms import REQUIRED, AdminForm, ConfirmForm, MultiCheckboxField, choice_list
from .helpers import ToggleTexts, confirm_then, form_page, org_choices, scoped_organisations, toggle_active

PERIOD_LABELS = {"month": _l("Hằng tháng"), "quarter": _l("Hằng quý"), "half": _l("6 tháng một lần"),
                 "year": _l("Hằng năm")}


class ReportSubscriptionForm(AdminForm):
    organisation_id = SelectField(_l("Đơn vị"), coerce=int, validate_choice=False,
                                  validators=[InputRequired(REQUIRED)])
    period_kind = SelectField(_l("Kỳ báo cáo"), choices=choice_list(PERIOD_LABELS.items()))
    formats = MultiCheckboxField(_l("Định dạng tệp đính kèm"), choices=choice_list([("docx", "DOCX"), ("pdf", "PDF")]),
                                 validators=[DataRequired(_l("Chọn ít nhất một định dạng: DOCX hoặc PDF."))])
    language = SelectField(_l("Ngôn ngữ của báo cáo"), choices=choice_list([("vi", "Tiếng Việt"), ("en", "English")]))
    recipient_ids = MultiCheckboxField(_l("Người nhận (tài khoản có địa chỉ thư điện tử)"), coerce=int,
                                       validators=[DataRequired(_l("Chọn ít nhất một người nhận."))])
    send_last = BooleanField(_l("Gửi ngay báo cáo của kỳ vừa kết thúc (ở lần chạy tới)"))
    managing_agency = StringField(_l("Cơ quan chủ quản (để trống: đơn vị cấp trên)"),
                                  validators=[Optional(), Length(max=200)])
    agency = StringField(_l("Cơ quan ban hành (để trống: tên đơn vị)"), validators=[Optional(), Length(max=200)])
    symbol = StringField(_l("Ký hiệu văn bản (để trống: theo cấu hình, ví dụ BC-UBND)"),
                         validators=[Optional(), Length(max=40)])
    place = StringField(_l("Địa danh"), validators=[Optional(), Length(max=100)])
    signer_prefix = SelectField(_l("Thẩm quyền ký"), choices=choice_list(
        [("", _l("(Ký trực tiếp)"))] + [(p, p) for p in subs.SIGNER_PREFIXES if p]), validators=[Optional()])
    signer_authority = StringField(_l("Ký thay mặt / ký thay cho"), validators=[Optional(), Length(max=200)])
    signer_title = StringField(_l("Chức vụ người ký"), validators=[InputRequired(REQUIRED), Length(max=200)])
    signer_name = StringField(_l("Họ tên người ký"), validators=[Optional(), Length(max=200)])
    filed_recipients = TextAreaField(_l("Nơi nhận ghi trên văn bản (mỗi dòng một nơi)"),
                                     validators=[Optional(), Length(max=2000)])


def subscription_in_scope(subscription_id: int) -> ReportSubscription:
    sub = db.session.get(ReportSubscription, subscription_id)
    if sub is None or not in_scope(sub.organisation):
        abort(404)
    return sub


def recipient_choices() -> list:
    """Accounts of the user's subtree with an e-mail; the rule for the chosen organisation is
    checked on saving (:func:`surveyapp.documents.subscriptions.subscribe`)."""
    root = scope_root()
    stmt = sa.select(User).where(User.active, User.email.is_not(None), User.email != "")
    if root is not None:
        stmt = stmt.where(subtree_filter(User.organisation_id, root))
    users = db.session.scalars(stmt.order_by(User.username))
    return choice_list((u.id, f"{u.full_name or u.username} ({u.username}) – "
                               f"{u.organisation.name if u.organisation else _('toàn hệ thống')}") for u in users)


@bp.route("/report-subscriptions")
@login_required_role(*READ_ROLES)
def report_subscriptions():
    rows = []
    for sub in subs.visible_subscriptions(scope_root()):
        last = subs.last_delivery(sub)
        rows.append({"sub": sub, "period": PERIOD_LABELS[sub.period_kind], "formats": subs.formats_of(sub),
                     "last": period_label(last.period_start, last.period_end) if last else None})
    return render_template("admin/report_subscriptions.html", rows=rows, form=ConfirmForm())


@bp.route("/report-subscriptions/new", methods=["GET", "POST"])
@login_required_role(*WRITE_ROLES)
def report_subscription_new():
    form = ReportSubscriptionForm()
    form.organisation_id.choices = org_choices(scoped_organisations(active_only=True))
    form.recipient_ids.choices = recipient_choices()
    if not form.is_submitted():
        form.formats.data = ["docx"]
        if current_user.email:
            form.recipient_ids.data = [current_user.id]
    if form.validate_on_submit():
        org = organisation_in_scope(form.organisation_id.data)
        chosen = list(db.session.scalars(sa.select(User).where(User.id.in_(form.recipient_ids.data))))
        data = subs.SubscriptionInput(
            period_kind=form.period_kind.data, formats=tuple(form.formats.data), language=form.language.data,
            signer_title=form.signer_title.data, recipients=chosen, managing_agency=form.managing_agency.data,
            agency=form.agency.data, symbol=form.symbol.data, place=form.place.data,
            signer_prefix=form.signer_prefix.data or "", signer_authority=form.signer_authority.data,
            signer_name=form.signer_name.data, filed_recipients=tuple((form.filed_recipients.data or "").splitlines()),
            send_last=form.send_last.data)
        try:
            sub = subs.subscribe(org, data, scope_root=scope_root(), created_by=current_user)
        except subs.SubscriptionError as exc:
            db.session.rollback()
            field = {"recipients": "recipient_ids"}.get(exc.field, exc.field) or "recipient_ids"
            getattr(form, field).errors = list(getattr(form, field).errors) + [str(exc)]
        else:
            audit.record("report_subscription.create", sub,
                         after=audit.snapshot(sub, extra={"recipients": sorted(u.username for u in sub.recipients)}))
            db.session.commit()
            flash(_("Đã đăng ký gửi báo cáo định kỳ."), "success")
            return redirect(url_for("admin.report_subscriptions"))
    return form_page(form, _("Đăng ký gửi báo cáo định kỳ"), cancel=url_for("admin.report_subscriptions"),
                     intro=_("Sau khi mỗi kỳ kết thúc, vào ngày làm việc đầu tiên của kỳ sau, hệ thống lập báo cáo "
                             "theo Nghị định 30/2020/NĐ-CP cho kỳ vừa kết thúc và gửi thư kèm tệp báo cáo cho từng "
                             "người nhận. Người nhận phải là tài khoản được xem số liệu của đơn vị."))


@bp.route("/report-subscriptions/<int:subscription_id>/toggle", methods=["GET", "POST"])
@login_required_role(*WRITE_ROLES)
def report_subscription_toggle(subscription_id: int):
    sub = subscription_in_scope(subscription_id)
    texts = ToggleTexts(
        off_title=_("Tạm dừng gửi báo cáo định kỳ?"),
        off_message=_("Trong thời gian tạm dừng, báo cáo của %(org)s không được gửi.", org=sub.organisation.name),
        off_button=_("Tạm dừng"), off_done=_("Đã tạm dừng gửi báo cáo định kỳ."),
        on_title=_("Tiếp tục gửi báo cáo định kỳ?"), on_button=_("Tiếp tục"),
        on_done=_("Đã tiếp tục gửi báo cáo định kỳ."))
    return toggle_active(sub, "report_subscription", texts, back=url_for("admin.report_subscriptions"))


@bp.route("/report-subscriptions/<int:subscription_id>/delete", methods=["GET", "POST"])
@login_required_role(*WRITE_ROLES)
def report_subscription_delete(subscription_id: int):
    sub = subscription_in_scope(subscription_id)

    def delete():
        before = audit.snapshot(sub)
        sub_id = sub.id
        subs.unsubscribe(sub)
        audit.record("report_subscription.delete", None, before, after={}, object_type="ReportSubscription",
                     object_id=sub_id)
        db.session.commit()
        flash(_("Đã xóa đăng ký gửi báo cáo định kỳ."), "success")
        return redirect(url_for("admin.report_subscriptions"))

    return confirm_then(delete, title=_("Xóa đăng ký gửi báo cáo định kỳ?"),
                        message=_("Báo cáo của %(org)s sẽ không được gửi nữa. Thư đã xếp hàng vẫn được gửi.",
                                  org=sub.organisation.name),
                        button=_("Xóa"), back=url_for("admin.report_subscriptions"))
