"""API keys of the organisations in the user's subtree: list, create (the key shown once),
revoke. The rules (hashing, scope, audit) are :mod:`surveyapp.auth.apikeys`'."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..clock import to_local
from ..auth.apikeys import SCOPES, ApiKeyError, create_key, revoke_key
from ..auth.scope import WRITE_ROLES, in_scope, login_required_role, org_filter, organisation_in_scope
from ..extensions import db
from ..models import ApiKey
from . import bp
from .forms import ApiKeyForm, ConfirmForm, choice_list
from .helpers import confirm_then, form_page, org_choices, scoped_organisations


def api_key_in_scope(key_id: int) -> ApiKey:
    """A key of an organisation in the user's subtree (404 otherwise)."""
    key = db.session.get(ApiKey, key_id)
    if key is None or not in_scope(key.organisation):
        abort(404)
    return key


@bp.route("/api-keys")
@login_required_role(*WRITE_ROLES)
def api_keys():
    rows = list(db.session.scalars(sa.select(ApiKey).where(org_filter(ApiKey.organisation_id))
                                   .order_by(ApiKey.revoked_at.is_not(None), ApiKey.created_at.desc())))
    return render_template("admin/api_keys.html", rows=rows, scopes={k: str(v) for k, v in SCOPES.items()},
                           form=ConfirmForm(), local=to_local)


@bp.route("/api-keys/new", methods=["GET", "POST"])
@login_required_role(*WRITE_ROLES)
def api_key_new():
    form = ApiKeyForm()
    form.organisation_id.choices = org_choices(scoped_organisations(active_only=True))
    form.scope.choices = choice_list((k, str(v)) for k, v in SCOPES.items())
    if form.validate_on_submit():
        org = organisation_in_scope(form.organisation_id.data)
        try:
            row, key = create_key(org, form.scope.data, form.name.data, current_user)
        except ApiKeyError as exc:
            form.name.errors.append(str(exc))
        else:
            db.session.commit()
            return render_template("admin/api_key_created.html", row=row, key=key,
                                   scope_label=str(SCOPES[row.scope]))
    return form_page(form, _("Tạo khóa API"), cancel=url_for("admin.api_keys"), submit=_("Tạo khóa"),
                     intro=_("Khóa chỉ hiển thị một lần, ngay sau khi tạo. Hệ thống giữ khóa chỉ đọc hoặc gửi "
                             "được dữ liệu của đơn vị đã chọn và các đơn vị trực thuộc."))


@bp.route("/api-keys/<int:key_id>/revoke", methods=["GET", "POST"])
@login_required_role(*WRITE_ROLES)
def api_key_revoke(key_id: int):
    row = api_key_in_scope(key_id)

    def revoke():
        if revoke_key(row):
            db.session.commit()
            flash(_("Đã thu hồi khóa %(name)s.", name=row.name), "success")
        return redirect(url_for("admin.api_keys"))

    return confirm_then(revoke, title=_("Thu hồi khóa %(name)s?", name=row.name),
                        message=_("Hệ thống đang dùng khóa này sẽ bị từ chối ngay lập tức."),
                        button=_("Thu hồi"), back=url_for("admin.api_keys"))
