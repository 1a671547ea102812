"""Citizens' requests in the workspace: find the responses carrying a contact within the
user's subtree, export what is stored of them (CSV) or erase the contact and comments.

The contact never travels in a URL (it would reach access logs): the search is a POST and the
contact searched for is kept in the signed session for the export and the erasure.
"""
from __future__ import annotations

from flask import Response as HttpResponse
from flask import abort, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import StringField
from wtforms.validators import DataRequired, Length, ValidationError

from ..auth.scope import WRITE_ROLES, login_required_role, scope_root
from ..clock import to_local
from ..contacts import comments_of, erase_contact, export_rows, find_by_contact, mask_contact, normalise_contact
from ..reports.exports import csv_chunks
from . import bp
from .forms import AdminForm, ConfirmForm
from .helpers import confirm_then

SESSION_KEY = "privacy_contact"


class ContactSearchForm(AdminForm):
    contact = StringField(_l("Email hoặc số điện thoại"), validators=[DataRequired(), Length(max=255)])

    def validate_contact(self, field):
        if normalise_contact(field.data) is None:
            raise ValidationError(_("Không phải địa chỉ email hay số điện thoại."))


def _contact() -> str | None:
    """The contact last searched for in this session (None: search first)."""
    return session.get(SESSION_KEY)


@bp.route("/privacy", methods=["GET", "POST"])
@login_required_role(*WRITE_ROLES)
def privacy():
    form = ContactSearchForm()
    found, masked, status = None, None, 200
    if form.validate_on_submit():
        session[SESSION_KEY] = form.contact.data.strip()
        found = [(r, to_local(r.submitted_at), bool(comments_of(r))) for r in find_by_contact(form.contact.data,
                                                                                             scope_root())]
        masked = mask_contact(form.contact.data)
    elif form.errors:
        status = 422
    return render_template("admin/privacy.html", form=form, found=found, masked=masked,
                           action_form=ConfirmForm()), status


@bp.route("/privacy/export.csv", methods=["POST"])
@login_required_role(*WRITE_ROLES)
def privacy_export():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    contact = _contact()
    if not contact:
        return redirect(url_for("admin.privacy"))
    rows = export_rows(find_by_contact(contact, scope_root()))
    header = [_("Mã phiếu"), _("Thời điểm"), _("Mã điểm phục vụ"), _("Điểm phục vụ"), _("Liên hệ"), _("Góp ý")]
    return HttpResponse(csv_chunks(header, rows), mimetype="text/csv",
                        headers={"Content-Disposition": 'attachment; filename="du-lieu-ca-nhan.csv"'})


@bp.route("/privacy/erase", methods=["GET", "POST"])
@login_required_role(*WRITE_ROLES)
def privacy_erase():
    contact = _contact()
    if not contact:
        return redirect(url_for("admin.privacy"))

    def do():
        count = erase_contact(contact, current_user, scope_root())
        session.pop(SESSION_KEY, None)
        flash(_("Đã xoá thông tin liên hệ và góp ý của %(n)s phiếu; các đánh giá ẩn danh được giữ lại.", n=count),
              "success")
        return redirect(url_for("admin.privacy"))

    return confirm_then(do, title=_("Xoá dữ liệu cá nhân"),
                        message=_("Xoá thông tin liên hệ %(contact)s và góp ý của các phiếu tìm thấy? Không thể hoàn tác.",
                                  contact=mask_contact(contact)),
                        button=_("Xoá"), back=url_for("admin.privacy"))
