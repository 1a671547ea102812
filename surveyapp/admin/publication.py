"""Publishing an organisation's indices on its public page (surveyapp.public): by a manager or
administrator whose scope contains the organisation; publishing covers its sub-units too."""
from __future__ import annotations

from flask import current_app, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.scope import WRITE_ROLES, login_required_role, organisation_in_scope
from ..extensions import db
from ..public.service import own_publication, publication_for, publish, unpublish
from . import bp
from .forms import PublicationForm
from .helpers import confirm_then, form_page


@bp.route("/organisations/<int:org_id>/publication", methods=["GET", "POST"])
@login_required_role(*WRITE_ROLES)
def organisation_publish(org_id: int):
    org = organisation_in_scope(org_id)
    pub = own_publication(org)
    form = PublicationForm(obj=pub)
    if form.min_responses.data is None:
        form.min_responses.data = current_app.config["PUBLIC_MIN_RESPONSES"]
    if form.validate_on_submit():
        publish(org, current_user, form.min_responses.data)
        db.session.commit()
        flash(_("Đã công khai chỉ số của %(name)s tại %(url)s.", name=org.name,
                url=url_for("public.page", code=org.code, _external=True)), "success")
        return redirect(url_for("admin.organisations"))
    inherited = publication_for(org) if pub is None else None
    intro = _("Trang công khai %(url)s sẽ hiển thị chỉ số, khoảng tin cậy, đánh giá và xu hướng của đơn vị và các "
              "đơn vị trực thuộc; không bao giờ hiển thị góp ý hay thông tin về người trả lời.",
              url=url_for("public.page", code=org.code, _external=True))
    if inherited is not None:
        intro += " " + _("Đơn vị đã được công khai cùng cấp trên: %(name)s.", name=inherited.organisation.name)
    return form_page(form, _("Công khai chỉ số của %(name)s", name=org.name), cancel=url_for("admin.organisations"),
                     submit=_("Công khai") if pub is None else _("Lưu"), intro=intro)


@bp.route("/organisations/<int:org_id>/publication/off", methods=["GET", "POST"])
@login_required_role(*WRITE_ROLES)
def organisation_unpublish(org_id: int):
    org = organisation_in_scope(org_id)

    def withdraw():
        if unpublish(org):
            db.session.commit()
            flash(_("Đã ngừng công khai chỉ số của %(name)s.", name=org.name), "success")
        return redirect(url_for("admin.organisations"))

    return confirm_then(withdraw, title=_("Ngừng công khai chỉ số của %(name)s?", name=org.name),
                        message=_("Trang công khai của đơn vị sẽ không còn truy cập được (trừ khi cấp trên đã công khai)."),
                        button=_("Ngừng công khai"), back=url_for("admin.organisations"))
