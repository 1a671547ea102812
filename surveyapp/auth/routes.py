"""Sign-in and sign-out of officials.

Failed sign-ins are throttled twice: per (account, address) with a guard per account
(``throttle.py``: nobody can keep the owner out, many addresses cannot share the guessing)
and per client address (Flask-Limiter, so that one client cannot try many accounts).
Unknown user, wrong password and locked account all give the same message so that the page
never tells which usernames exist.

Every session and remember-me cookie carries the account's ``session_token``
(``User.get_id``); the loader refuses any other, so renewing the token (sign-out, password
change, deactivation, "sign out everywhere else") ends every copy of every cookie at once.
A refused cookie is an anonymous visitor: the workspace redirects it to the sign-in page.
"""
from __future__ import annotations

import hmac
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app, flash, g, has_request_context, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db, limiter, login_manager
from ..models import User, utcnow
from . import bp, sso
from .forms import LoginForm, LogoutForm
from .throttle import Gate

login_manager.login_view = "auth.login"
login_manager.login_message = _l("Vui lòng đăng nhập để tiếp tục.")
login_manager.login_message_category = "info"

# A hash to compare against when the user does not exist, so that an unknown
# username costs as much time as a wrong password.
_DUMMY_HASH: str | None = None


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The account of a session or remember-me cookie, if the cookie's token is still its own."""
    uid, _sep, token = user_id.partition(":")
    if not (uid.isdigit() and len(uid) <= 18 and token):
        return None  # also every cookie issued before tokens existed
    user = db.session.get(User, int(uid))
    if user is None or not user.active or not hmac.compare_digest(user.session_token.encode(), token.encode()):
        return None
    return user


@sa.event.listens_for(User.session_token, "set")
def _keep_this_session(user: User, value, oldvalue, initiator) -> None:
    """The session that renews its own account's token (its own password change, "sign out
    everywhere else") keeps going under the new token; every other copy ends."""
    # ``g._login_user``: where Flask-Login keeps the request's user once loaded (never loaded here).
    if has_request_context() and g.get("_login_user") is user and "_user_id" in session:
        session["_user_id"] = f"{user.id}:{value}"


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
        if _DUMMY_HASH is None:
            _DUMMY_HASH = generate_password_hash("not a password")
        check_password_hash(_DUMMY_HASH, password)
        return False
    return user.check_password(password)


def _only_failed_attempts(response) -> bool:
    """The per-client limit counts failed sign-ins only (the form is re-shown with 200)."""
    return request.method == "POST" and response.status_code == 200


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"],
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
        # Always checked, even when the attempt is refused anyway: the same time for every answer.
        password_ok = _check_password(user, form.password.data)
        gate = Gate(user, now) if user is not None else None
        ok = gate is not None and gate.open and password_ok and user.active
        if ok and not sso.local_signin_allowed(user):
            # The password was right, so saying why tells nothing to someone guessing.
            error = _("Tài khoản này đăng nhập bằng %(provider)s.", provider=sso.provider_name())
            return render_template("auth/login.html", form=form, error=error, next_url=next_url,
                                   sso_provider=sso.provider_name())
        if ok:
            gate.succeeded()
            user.last_login_at = now
            db.session.commit()
            # A fresh session on sign-in: nothing planted before it survives (session fixation).
            session.clear()
            login_user(user)
            session.permanent = True
            return redirect(next_url or home_url())
        if gate is not None and gate.open and not password_ok:
            gate.failed()
        db.session.commit()
        error = _("Tên đăng nhập hoặc mật khẩu không đúng, hoặc tài khoản đang tạm khóa. Vui lòng thử lại sau.")
    return render_template("auth/login.html", form=form, error=error, next_url=next_url,
                           sso_provider=sso.provider_name())


@bp.route("/logout", methods=["POST"])
def logout():
    """Sign out (POST with CSRF token, so that no other site can sign a user out). Every
    session of the account ends, so a copy of this cookie is worth nothing afterwards."""
    form = LogoutForm()
    if not form.validate_on_submit():
        return redirect(url_for("auth.login"))
    if current_user.is_authenticated:
        user = current_user._get_current_object()
        logout_user()
        user.end_sessions()
        db.session.commit()
    session.clear()
    flash(_("Bạn đã đăng xuất."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/logout-everywhere", methods=["POST"])
@login_required
def logout_everywhere():
    """End every other session of the account (another browser, a stolen cookie); this one stays."""
    form = LogoutForm()
    if form.validate_on_submit():
        current_user.end_sessions()
        db.session.commit()
        flash(_("Đã đăng xuất tài khoản của bạn ở mọi nơi khác."), "success")
    return redirect(safe_next(request.form.get("next")) or home_url())


@bp.get("/")
def index():
    """The site root: citizens arrive by QR links, so the root serves officials' workspace."""
    return redirect(url_for("admin.dashboard"))
