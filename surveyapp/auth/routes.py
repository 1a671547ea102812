"""Sign-in and sign-out of officials.

Failed sign-ins are throttled twice: per account (a lock after
``MAX_FAILED_LOGINS`` failures, so that spreading guesses over many addresses
does not help) and per client (Flask-Limiter, so that one client cannot try many
accounts). Unknown user, wrong password and locked account all give the same
message so that the page never tells which usernames exist.
"""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user

from ..extensions import db, limiter, login_manager
from ..models import User, utcnow
from . import bp, sso
from .forms import LoginForm, LogoutForm

MAX_FAILED_LOGINS = 5
LOCK_MINUTES = 15
LOGIN_RATE_LIMIT = "20 per 10 minutes"

login_manager.login_view = "auth.login"
login_manager.login_message = _l("Vui lòng đăng nhập để tiếp tục.")
login_manager.login_message_category = "info"

# A hash to compare against when the user does not exist, so that an unknown
# username costs as much time as a wrong password.
_DUMMY_HASH: str | None = None


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    try:
        user = db.session.get(User, int(user_id))
    except ValueError:
        return None
    return user if user is not None and user.active else None


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None (no open redirect)."""
    if not target:
        return None
    target = target.strip()
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


def home_url() -> str:
    """The workspace's first page: the dashboard, or the organisations while it does not exist."""
    for endpoint in ("admin.dashboard", "admin.organisations"):
        if endpoint in current_app.view_functions:
            return url_for(endpoint)
    return "/"


def _check_password(user: User | None, password: str) -> bool:
    global _DUMMY_HASH
    if user is None:
        from werkzeug.security import check_password_hash, generate_password_hash

        if _DUMMY_HASH is None:
            _DUMMY_HASH = generate_password_hash("not a password")
        check_password_hash(_DUMMY_HASH, password)
        return False
    return user.check_password(password)


def _only_failed_attempts(response) -> bool:
    """The per-client limit counts failed sign-ins only (the form is re-shown with 200)."""
    return request.method == "POST" and response.status_code == 200


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config.get("LOGIN_RATE_LIMIT", LOGIN_RATE_LIMIT), methods=["POST"],
               deduct_when=_only_failed_attempts)
def login():
    """Sign-in form; on success go to ``next`` when it is on this site, else the dashboard."""
    next_url = safe_next(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url or home_url())
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        username = form.username.data.strip()
        user = db.session.scalar(sa.select(User).where(User.username == username))
        now = utcnow()
        locked = user is not None and user.locked_until is not None and user.locked_until > now
        ok = _check_password(user, form.password.data) and not locked and user.active
        if ok and not sso.local_signin_allowed(user):
            # The password was right, so saying why tells nothing to someone guessing.
            error = _("Tài khoản này đăng nhập bằng %(provider)s.", provider=sso.provider_name())
            return render_template("auth/login.html", form=form, error=error, next_url=next_url,
                                   sso_provider=sso.provider_name())
        if ok:
            user.failed_logins = 0
            user.locked_until = None
            user.last_login_at = now
            db.session.commit()
            # A fresh session on sign-in: nothing planted before it survives (session fixation).
            session.clear()
            login_user(user)
            session.permanent = True
            return redirect(next_url or home_url())
        if user is not None and not locked:
            user.failed_logins = (user.failed_logins or 0) + 1
            if user.failed_logins >= current_app.config.get("MAX_FAILED_LOGINS", MAX_FAILED_LOGINS):
                user.locked_until = now + timedelta(minutes=current_app.config.get("LOGIN_LOCK_MINUTES", LOCK_MINUTES))
                user.failed_logins = 0
            db.session.commit()
        error = _("Tên đăng nhập hoặc mật khẩu không đúng, hoặc tài khoản đang tạm khóa. Vui lòng thử lại sau.")
    return render_template("auth/login.html", form=form, error=error, next_url=next_url,
                           sso_provider=sso.provider_name())


@bp.route("/logout", methods=["POST"])
def logout():
    """Sign out (POST with CSRF token, so that no other site can sign a user out)."""
    form = LogoutForm()
    if not form.validate_on_submit():
        return redirect(url_for("auth.login"))
    logout_user()
    session.clear()
    flash(_("Bạn đã đăng xuất."), "info")
    return redirect(url_for("auth.login"))


@bp.get("/")
def index():
    """The site root: citizens arrive by QR links, so the root serves officials' workspace."""
    return redirect(url_for("admin.dashboard"))
