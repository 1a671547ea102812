"""Authority: who may see and change what.

The rule: every account, whatever its role, acts only inside its organisation's
subtree. Only an administrator *without* an organisation (:func:`is_installation_admin`)
administers the installation: users anywhere, sector targets, standard questionnaires,
the whole audit log. An administrator *with* an organisation is, inside its subtree, a
manager who may also grant the administrator role there.

A bar is set from the level above: an organisation's own target only by an account whose scope
contains the organisation's parent (:func:`may_set_target_for`), so a manager of commune A sets
the targets of A's units, never A's own; a province's manager sets A's. A top-level
organisation's own target, like a sector's, is the installation administrator's.

Roles: ``admin``, ``manager`` (administers and reads its subtree), ``viewer`` (reads its
subtree). Every admin and report view is wrapped in :func:`login_required_role` and
resolves objects through the ``*_in_scope`` helpers, which answer 404 for anything
outside the user's subtree so that URL guessing learns nothing.
"""
from __future__ import annotations

from functools import wraps

import sqlalchemy as sa
from flask import abort
from flask_login import current_user, login_required

from ..extensions import db
from ..models import (
    ROLES, Alert, AlertRule, Case, KioskDevice, Organisation, Questionnaire, ServicePoint, Survey, Target, User, Webhook,
    subtree_filter,
)

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


def login_required_installation_admin(view):
    """Signed in as an administrator without an organisation (else 403)."""
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not is_installation_admin():
            abort(403)
        return view(*args, **kwargs)

    return login_required_role("admin")(wrapped)


def installation_operator() -> User:
    """Who runs a command at the installation's shell (``flask import``): the installation's
    authority, as an unsaved account that no session or audit event refers to."""
    return User(username="-", role="admin", organisation=None, active=True)


def scope_root(user=None) -> Organisation | None:
    """The root of what the user (default: the current one) may see; None means everything
    (the installation administrator)."""
    user = current_user if user is None else user
    if is_installation_admin(user):
        return None
    return user.organisation


def within(org: Organisation | None, root: Organisation | None) -> bool:
    """``org`` lies in ``root``'s subtree (None: the whole installation)."""
    return org is not None and (root is None or org.is_within(root))


def in_scope(org: Organisation | None, user=None) -> bool:
    return within(org, scope_root(user))


def org_filter(column):
    """SQL condition limiting ``column`` (an organisation id) to the user's subtree."""
    root = scope_root()
    return sa.true() if root is None else subtree_filter(column, root)


def _get_in_scope(model, object_id: int, organisation_of):
    """The ``model`` row ``object_id`` when ``organisation_of(row)`` is in the user's subtree; 404
    otherwise, missing or not, so that URL guessing learns nothing."""
    obj = db.session.get(model, object_id)
    if obj is None or not in_scope(organisation_of(obj)):
        abort(404)
    return obj


def organisation_in_scope(org_id: int) -> Organisation:
    return _get_in_scope(Organisation, org_id, lambda org: org)


def service_point_in_scope(sp_id: int) -> ServicePoint:
    return _get_in_scope(ServicePoint, sp_id, lambda sp: sp.organisation)


def survey_in_scope(survey_id: int) -> Survey:
    return _get_in_scope(Survey, survey_id, lambda survey: survey.organisation)


def can_write(user=None) -> bool:
    user = current_user if user is None else user
    return user.is_authenticated and user.role in WRITE_ROLES


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
        if q.is_standard and not is_installation_admin():
            abort(403)
    return q


def may_edit_questionnaire(q: Questionnaire) -> bool:
    """Standard questionnaires are the installation's; the others their organisation subtree's writers'."""
    return can_write() and (not q.is_standard or is_installation_admin())


def questionnaire_filter():
    """SQL condition: the questionnaires the user may see."""
    return sa.or_(Questionnaire.is_standard, Questionnaire.organisation_id.is_(None),
                  org_filter(Questionnaire.organisation_id))


def device_in_scope(device_id: int) -> KioskDevice:
    return _get_in_scope(KioskDevice, device_id, lambda device: device.service_point.organisation)


def case_in_scope(case_id: int) -> Case:
    return _get_in_scope(Case, case_id, lambda case: case.service_point.organisation)


def alert_in_scope(alert_id: int) -> Alert:
    return _get_in_scope(Alert, alert_id, lambda alert: alert.organisation)


def rule_in_scope(rule_id: int) -> AlertRule:
    return _get_in_scope(AlertRule, rule_id, lambda rule: rule.organisation)


def webhook_in_scope(webhook_id: int) -> Webhook:
    return _get_in_scope(Webhook, webhook_id, lambda hook: hook.organisation)


def grantable_roles(user=None) -> tuple[str, ...]:
    """The roles the user (default: the current one) may give: never more authority than its
    own, and only an administrator makes administrators (of its own subtree, unless it is the
    installation's)."""
    user = current_user if user is None else user
    if not can_write(user):
        return ()
    return ROLES if user.role == "admin" else tuple(r for r in ROLES if r != "admin")


def may_manage_user(user: User | None, actor=None) -> bool:
    """Inside the subtree of ``actor`` (default: the current user), and never an account with
    more authority than it may grant."""
    if user is None:
        return False
    if is_installation_admin(actor):
        return True
    return (user.organisation is not None and in_scope(user.organisation, actor)
            and user.role in grantable_roles(actor))


def user_filter(actor=None):
    """SQL condition: the accounts the user (default: the current one) may see and manage."""
    if is_installation_admin(actor):
        return sa.true()
    root = scope_root(actor)
    return sa.and_(User.role.in_(grantable_roles(actor)), User.organisation_id.is_not(None),
                   sa.true() if root is None else subtree_filter(User.organisation_id, root))


def user_in_scope(user_id: int) -> User:
    """A user account the current user may manage (404 otherwise)."""
    user = db.session.get(User, user_id)
    if not may_manage_user(user):
        abort(404)
    return user


def target_visible(target: Target | None) -> bool:
    if target is None:
        return False
    if target.organisation_id is None:
        return True  # sector targets are public policy, readable by all
    return in_scope(db.session.get(Organisation, target.organisation_id))


def may_set_target_for(org: Organisation | None, user=None) -> bool:
    """Who sets a bar: sector targets (``org`` None) and a top-level organisation's are the
    installation administrator's; any other organisation's needs the organisation's parent inside
    the user's scope, so that nobody sets the bar of their own root."""
    if not can_write(user):
        return False
    if is_installation_admin(user):
        return True
    return org is not None and org.parent is not None and in_scope(org.parent, user)


def target_in_scope(target_id: int, *, write: bool = False) -> Target:
    """A target the user may read; ``write``: one the user may set (:func:`may_set_target_for`), else 403."""
    target = db.session.get(Target, target_id)
    if not target_visible(target):
        abort(404)
    if write:
        require_write()
        if not may_set_target_for(target.organisation):
            abort(403)
    return target
