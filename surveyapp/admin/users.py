"""User accounts: creating, editing and switching off the accounts of the user's subtree, never
one with more authority than the user may grant (:mod:`surveyapp.auth.scope`)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.validators import DataRequired, Optional

from ..auth.scope import (
    WRITE_ROLES,
    grantable_roles,
    login_required_role,
    organisation_in_scope,
    scope_root,
    user_filter,
    user_in_scope,
)
from ..clock import now_utc
from ..extensions import db
from ..models import User
from .. import audit
from . import bp
from .forms import UserForm, role_choices
from .helpers import ToggleTexts, clean, commit_or_error, form_page, org_choices, scoped_organisations, toggle_active


@bp.route("/users")
@login_required_role(*WRITE_ROLES)
def users():
    stmt = sa.select(User).where(user_filter()).order_by(User.username)
    return render_template("admin/users.html", rows=list(db.session.scalars(stmt)), now=now_utc())


def _user_form(user: User | None) -> UserForm:
    form = UserForm(obj=user)
    # Never more authority than oneself: a manager creates managers and viewers of its subtree.
    form.role.choices = role_choices(grantable_roles())
    root = scope_root()
    form.organisation_id.choices = org_choices(
        scoped_organisations(active_only=True), none_label=_("(Toàn bộ – chỉ quản trị viên)") if root is None else None)
    if request.method == "GET":
        form.organisation_id.data = (user.organisation_id if user else None) or (root.id if root else 0)
    if user is None:
        form.password.validators = [v for v in form.password.validators if not isinstance(v, Optional)]
        form.password.validators.insert(0, DataRequired(_("Vui lòng đặt mật khẩu (ít nhất 8 ký tự).")))
    return form


def _apply_user_form(form: UserForm, user: User) -> None:
    org = organisation_in_scope(form.organisation_id.data) if form.organisation_id.data else None
    if org is None and scope_root() is not None:
        abort(403)
    if form.role.data not in grantable_roles():
        abort(403)
    user.username, user.full_name = form.username.data.strip(), clean(form.full_name.data)
    user.role, user.organisation = form.role.data, org
    user.active = form.active.data
    if form.password.data:
        user.set_password(form.password.data)
        user.failed_logins, user.locked_until = 0, None


def _username_taken(username: str, own_id: int | None = None) -> bool:
    stmt = sa.select(User.id).where(sa.func.lower(User.username) == username.strip().lower())
    if own_id is not None:
        stmt = stmt.where(User.id != own_id)
    return db.session.scalar(stmt) is not None


@bp.route("/users/new", methods=["GET", "POST"])
@login_required_role(*WRITE_ROLES)
def user_new():
    form = _user_form(None)
    if form.validate_on_submit():
        if _username_taken(form.username.data):
            form.username.errors.append(_("Tên đăng nhập đã được dùng."))
        else:
            user = User()
            _apply_user_form(form, user)
            db.session.add(user)
            audit.record("user.create", user)
            if commit_or_error(_("Tên đăng nhập đã được dùng.")):
                flash(_("Đã tạo tài khoản %(name)s.", name=user.username), "success")
                return redirect(url_for("admin.users"))
    return form_page(form, _("Thêm người dùng"), cancel=url_for("admin.users"))


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@login_required_role(*WRITE_ROLES)
def user_edit(user_id: int):
    user = user_in_scope(user_id)
    form = _user_form(user)
    form.password.label.text = _("Mật khẩu mới (để trống nếu không đổi)")
    if form.validate_on_submit():
        if _username_taken(form.username.data, user.id):
            form.username.errors.append(_("Tên đăng nhập đã được dùng."))
        elif user.id == current_user.id and (not form.active.data or form.role.data != user.role):
            form.role.errors.append(_("Bạn không thể tự đổi vai trò hoặc tự khóa tài khoản của mình."))
        else:
            before = audit.snapshot(user)
            password_changed = bool(form.password.data)
            _apply_user_form(form, user)
            audit.record("user.update", user, before, audit.snapshot(user, extra={"password_changed": password_changed}))
            if commit_or_error(_("Tên đăng nhập đã được dùng.")):
                flash(_("Đã lưu tài khoản %(name)s.", name=user.username), "success")
                return redirect(url_for("admin.users"))
    return form_page(form, _("Sửa tài khoản %(name)s", name=user.username), cancel=url_for("admin.users"))


@bp.route("/users/<int:user_id>/toggle", methods=["GET", "POST"])
@login_required_role(*WRITE_ROLES)
def user_toggle(user_id: int):
    """Deactivate or reactivate an account (never deleted: the audit log refers to it)."""
    user = user_in_scope(user_id)
    if user.id == current_user.id:
        abort(403)

    def unlock(account: User) -> None:
        account.failed_logins, account.locked_until = 0, None

    return toggle_active(user, "user", ToggleTexts(
        off_title=_("Khóa tài khoản %(name)s?", name=user.username),
        off_message=_("Người này sẽ không đăng nhập được nữa."), off_button=_("Khóa tài khoản"),
        off_done=_("Đã khóa tài khoản."), on_title=_("Mở lại tài khoản %(name)s?", name=user.username),
        on_button=_("Mở lại"), on_done=_("Đã mở lại tài khoản.")), back=url_for("admin.users"), on_change=unlock)
