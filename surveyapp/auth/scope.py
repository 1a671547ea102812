"""Authority: who may see and change what.

Roles: ``admin`` (everything), ``manager`` (administers and reads its organisation
subtree), ``viewer`` (reads its subtree). Every admin and report view is wrapped
in :func:`login_required_role` and resolves objects through the ``*_in_scope``
helpers, which answer 404 for anything outside the user's subtree so that URL
guessing learns nothing.
"""
from __future__ import annotations

from functools import wraps

import sqlalchemy as sa
from flask import abort
from flask_login import current_user, login_required

from ..extensions import db
from ..models import KioskDevice, Organisation, Questionnaire, ServicePoint, Survey, Target, User, subtree_filter

READ_ROLES = ("admin", "manager", "viewer")
WRITE_ROLES = ("admin", "manager")


def login_required_role(*roles: str):
    """Signed in (else redirect to sign-in) and holding one of ``roles`` (else 403)."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_roles = roles  # read by the route-enumeration test
        return wrapped

    return decorator


def is_installation_admin(user=None) -> bool:
    """An administrator without an organisation: the only account that acts on the whole installation."""
    user = current_user if user is None else user
    return bool(getattr(user, "is_authenticated", False)) and user.role == "admin" and user.organisation_id is None


def scope_root() -> Organisation | None:
    """The root of what the current user may see; None means everything (admin without organisation)."""
    if current_user.role == "admin" and current_user.organisation_id is None:
        return None
    return current_user.organisation


def in_scope(org: Organisation | None) -> bool:
    root = scope_root()
    return org is not None and (root is None or org.is_within(root))


def org_filter(column):
    """SQL condition limiting ``column`` (an organisation id) to the user's subtree."""
    root = scope_root()
    return sa.true() if root is None else subtree_filter(column, root)


def organisation_in_scope(org_id: int) -> Organisation:
    org = db.session.get(Organisation, org_id)
    if not in_scope(org):
        abort(404)
    return org


def service_point_in_scope(sp_id: int) -> ServicePoint:
    sp = db.session.get(ServicePoint, sp_id)
    if sp is None or not in_scope(sp.organisation):
        abort(404)
    return sp


def survey_in_scope(survey_id: int) -> Survey:
    survey = db.session.get(Survey, survey_id)
    if survey is None or not in_scope(survey.organisation):
        abort(404)
    return survey


def can_write() -> bool:
    return current_user.is_authenticated and current_user.role in WRITE_ROLES


def require_write() -> None:
    """Viewers read only: any change is 403."""
    if not can_write():
        abort(403)


def questionnaire_visible(q: Questionnaire | None) -> bool:
    """Standard questionnaires are visible to every official; the others to their organisation's subtree."""
    if q is None:
        return False
    if q.is_standard or q.organisation_id is None:
        return True
    return in_scope(db.session.get(Organisation, q.organisation_id))


def questionnaire_in_scope(questionnaire_id: int, *, write: bool = False) -> Questionnaire:
    """A questionnaire the user may read (404 otherwise); ``write``: one they may edit, never a standard one."""
    q = db.session.get(Questionnaire, questionnaire_id)
    if not questionnaire_visible(q):
        abort(404)
    if write:
        require_write()
        if q.is_standard and current_user.role != "admin":
            abort(403)
    return q


def questionnaire_filter():
    """SQL condition: the questionnaires the user may see."""
    return sa.or_(Questionnaire.is_standard, Questionnaire.organisation_id.is_(None),
                  org_filter(Questionnaire.organisation_id))


def device_in_scope(device_id: int) -> KioskDevice:
    device = db.session.get(KioskDevice, device_id)
    if device is None or not in_scope(device.service_point.organisation):
        abort(404)
    return device


def user_in_scope(user_id: int) -> User:
    """A user account the current user may manage: inside the subtree and never more powerful."""
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    if current_user.role != "admin" and (user.role == "admin" or not in_scope(user.organisation)):
        abort(404)
    return user


def target_visible(target: Target | None) -> bool:
    if target is None:
        return False
    if target.organisation_id is None:
        return True  # sector targets are public policy, readable by all
    return in_scope(db.session.get(Organisation, target.organisation_id))


def target_in_scope(target_id: int, *, write: bool = False) -> Target:
    """A target the user may read; ``write``: sector targets are for admins, organisation targets for its managers."""
    target = db.session.get(Target, target_id)
    if not target_visible(target):
        abort(404)
    if write:
        require_write()
        if target.organisation_id is None and current_user.role != "admin":
            abort(403)
    return target
