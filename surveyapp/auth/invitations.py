"""Invitations: the link that lets an official whose account was imported set a first password.

An import never carries a password (docs/IMPORTS.md). Where the account may sign in with a
password (:func:`surveyapp.auth.sso.local_signin_allowed`: always without single sign-on), the
import queues an e-mail, in its own transaction, with a signed link valid
``INVITATION_MAX_AGE_DAYS``. The link carries the account id and a fingerprint of its current
password hash, so it works once: setting the password changes the hash. Where single sign-on
is the way in, nothing is sent: the official signs in through the provider.
"""
from __future__ import annotations

import hashlib

from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeTimedSerializer

from ..extensions import db
from ..models import User
from .. import outbox
from ..qr import base_url
from .sso import local_signin_allowed

SALT = "surveyapp-invitation"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def _fingerprint(user: User) -> str:
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def issue(user: User) -> str:
    """A token for ``user`` as it is now (the account must have its id)."""
    return _serializer().dumps({"u": user.id, "h": _fingerprint(user)})


def read(token: str) -> User | None:
    """The active account a genuine, unexpired, unused token names; None otherwise."""
    max_age = int(current_app.config["INVITATION_MAX_AGE_DAYS"]) * 86400
    try:
        data = _serializer().loads(token, max_age=max_age)
    except BadSignature:  # expired tokens included (SignatureExpired is one)
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        return None
    user = db.session.get(User, data["u"])
    if user is None or not user.active or data.get("h") != _fingerprint(user):
        return None
    return user


def invite(user: User) -> bool:
    """Queue the invitation e-mail of a new account (in the caller's transaction); False when
    there is nowhere to send it or the account signs in through single sign-on."""
    if not user.email or not local_signin_allowed(user):
        return False
    link = base_url() + url_for("auth.invitation", token=issue(user))
    days = int(current_app.config["INVITATION_MAX_AGE_DAYS"])
    with force_locale(user.language or "vi"):
        subject = _("Mời Ông/Bà đặt mật khẩu tài khoản khảo sát sự hài lòng")
        text = _("Một tài khoản đã được tạo cho Ông/Bà với tên đăng nhập %(username)s.\n\n"
                 "Đặt mật khẩu tại địa chỉ sau (hiệu lực %(days)d ngày, dùng được một lần):\n%(link)s\n\n"
                 "Nếu Ông/Bà không chờ thư này, xin bỏ qua.", username=user.username, days=days, link=link)
    return outbox.enqueue_email(user.email, subject, text, None, kind="invitation", user_id=user.id,
                                dedupe_key=f"invitation-{user.id}-{_fingerprint(user)}") is not None
