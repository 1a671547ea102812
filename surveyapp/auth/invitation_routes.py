"""``/invitation/<token>``: an imported official sets a first password (:mod:`.invitations`)."""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _

from .. import audit
from ..extensions import db
from . import bp, invitations
from .forms import SetPasswordForm


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def invitation(token: str):
    """The form behind an invitation link; the link works once, within its lifetime."""
    user = invitations.read(token)
    if user is None:
        return render_template("error.html", status=404, title=_("Liên kết không còn hiệu lực"),
                               message=_("Liên kết mời đã hết hạn hoặc đã được dùng. Vui lòng liên hệ quản trị viên.")), 404
    form = SetPasswordForm()
    if form.validate_on_submit():
        user.set_password(form.password.data)
        user.failed_logins, user.locked_until = 0, None
        audit.record("user.invitation_accepted", user, after={"username": user.username})
        db.session.commit()
        flash(_("Đã đặt mật khẩu. Mời Ông/Bà đăng nhập."), "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/invitation.html", form=form, user=user), 422 if form.errors else 200
