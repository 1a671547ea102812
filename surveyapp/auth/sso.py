"""Single sign-on with OpenID Connect, through Authlib.

Officials sign in at the province's provider (authorization code flow with PKCE S256;
Authlib checks state and nonce). The provider only says who someone is: the first
sign-in maps to an existing active account by username (``OIDC_USERNAME_CLAIM``) or
by an email the provider has verified, and remembers the provider's (issuer, subject)
so that later sign-ins match by subject. It never creates an account and never
grants a role: an administrator does both in the workspace.
"""
from __future__ import annotations

import logging

import requests
import sqlalchemy as sa
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client import MismatchingStateError
from authlib.integrations.flask_client import OAuth
from flask import Flask, abort, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import login_user
from joserfc.errors import JoseError

from .. import audit
from ..extensions import db
from ..models import User, utcnow
from ..qr import base_url
from . import bp
from . import routes
from .scope import is_installation_admin

log = logging.getLogger(__name__)

CLIENT = "oidc"
_EXTENSION = "authlib.integrations.flask_client"  # where Authlib's OAuth keeps itself in app.extensions
_NEXT = "sso_next"


def init_app(app: Flask) -> None:
    """One OAuth registry per app (Authlib stores it in ``app.extensions``)."""
    oauth = OAuth(app)
    issuer = app.config["OIDC_ISSUER"]
    if issuer:
        oauth.register(
            CLIENT,
            client_id=app.config["OIDC_CLIENT_ID"],
            client_secret=app.config["OIDC_CLIENT_SECRET"],
            server_metadata_url=issuer.rstrip("/") + "/.well-known/openid-configuration",
            client_kwargs={"scope": app.config["OIDC_SCOPES"], "code_challenge_method": "S256"},
        )


def enabled() -> bool:
    return bool(current_app.config["OIDC_ISSUER"])


def provider_name() -> str | None:
    """The label of the sign-in button, or None while SSO is off."""
    return current_app.config["OIDC_PROVIDER_NAME"] if enabled() else None


def local_signin_allowed(user: User) -> bool:
    """Whether ``user`` may sign in with a local password: always without SSO; with SSO only
    installation administrators, unless ``OIDC_LOCAL_SIGNIN`` is "all"."""
    if not enabled() or current_app.config["OIDC_LOCAL_SIGNIN"] == "all":
        return True
    return is_installation_admin(user)


def _client():
    return current_app.extensions[_EXTENSION].create_client(CLIENT)


def match_user(issuer: str, claims: dict) -> User | None:
    """The active account these claims belong to, linking it on the first sign-in; None if none.

    Only accounts not yet linked to a subject are matched by username or email, so that
    another subject of the provider cannot take over a linked account."""
    subject = claims.get("sub")
    if not subject:
        return None
    user = db.session.scalar(sa.select(User).where(User.oidc_issuer == issuer, User.oidc_subject == subject))
    if user is None:
        unlinked = sa.select(User).where(User.oidc_subject.is_(None))
        username = claims.get(current_app.config["OIDC_USERNAME_CLAIM"])
        if isinstance(username, str) and username.strip():
            user = db.session.scalar(unlinked.where(User.username == username.strip()))
        email = claims.get("email")
        if user is None and isinstance(email, str) and email.strip() and claims.get("email_verified") is True:
            found = db.session.scalars(unlinked.where(sa.func.lower(User.email) == email.strip().lower()).limit(2)).all()
            user = found[0] if len(found) == 1 else None  # two accounts share it: neither is meant
        if user is not None and user.active:
            user.oidc_issuer, user.oidc_subject = issuer, subject
    return user if user is not None and user.active else None


def _message(status: int, title: str, message: str):
    return render_template("error.html", title=title, message=message, status=status), status


@bp.get("/login/sso")
def sso_login():
    """Send the browser to the provider; ``next`` (a path on this site) is kept for the return."""
    if not enabled():
        abort(404)
    next_url = routes.safe_next(request.args.get("next"))
    if next_url:
        session[_NEXT] = next_url
    else:
        session.pop(_NEXT, None)
    return _client().authorize_redirect(base_url() + url_for("auth.sso_callback"))


@bp.get("/login/sso/callback")
def sso_callback():
    """The provider's answer: check it, find the account, and sign in as a password sign-in would."""
    if not enabled():
        abort(404)

    title = _("Không đăng nhập được")
    try:
        token = _client().authorize_access_token()
    except MismatchingStateError:
        return _message(400, title, _("Phiên đăng nhập không hợp lệ hoặc đã hết hạn. Vui lòng đăng nhập lại."))
    except (AuthlibBaseError, JoseError) as exc:
        log.warning("OpenID sign-in refused: %s", type(exc).__name__)
        return _message(400, title, _("Nhà cung cấp đăng nhập trả về dữ liệu không hợp lệ. Vui lòng đăng nhập lại."))
    except requests.RequestException as exc:
        log.warning("OpenID provider unreachable: %s", type(exc).__name__)
        return _message(502, title, _("Không liên lạc được với nhà cung cấp đăng nhập. Vui lòng thử lại sau."))
    invalid = _("Nhà cung cấp đăng nhập trả về dữ liệu không hợp lệ. Vui lòng đăng nhập lại.")
    id_claims = token.get("userinfo")  # the checked id_token's claims
    if not id_claims or not id_claims.get("sub"):
        return _message(400, title, invalid)
    claims = dict(id_claims)
    try:
        # Providers may keep the profile and email claims out of the id_token (OpenID Connect
        # Core 5.4): ask the UserInfo endpoint, whose subject must be the id_token's.
        if _client().load_server_metadata().get("userinfo_endpoint"):
            info = _client().userinfo(token=token)
            if info.get("sub") != claims["sub"]:
                return _message(400, title, invalid)
            claims.update({k: v for k, v in info.items() if k not in ("iss", "aud")})
    except requests.RequestException as exc:
        log.warning("OpenID UserInfo failed: %s", type(exc).__name__)
        return _message(502, title, _("Không liên lạc được với nhà cung cấp đăng nhập. Vui lòng thử lại sau."))
    issuer = id_claims["iss"]
    user = match_user(issuer, claims)
    if user is None:
        db.session.rollback()
        audit.record("sso.refused", None, after={"issuer": issuer, "reason": "no matching account"},
                     object_type="User")
        db.session.commit()
        log.info("OpenID sign-in refused: no matching account")
        return _message(403, _("Chưa có tài khoản"),
                        _("Tài khoản của bạn ở nhà cung cấp đăng nhập chưa gắn với tài khoản nào trong hệ thống. "
                          "Vui lòng liên hệ quản trị viên để được cấp quyền."))
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = utcnow()
    db.session.commit()
    next_url = session.get(_NEXT)
    # The same fresh session as a password sign-in (nothing planted before it survives).
    session.clear()
    login_user(user)
    session.permanent = True
    return redirect(next_url or routes.home_url())
