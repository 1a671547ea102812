"""The audit log: every change made in the workspace, newest first, for the installation's
administrator. Recording is :mod:`surveyapp.audit`'s."""
from __future__ import annotations

import sqlalchemy as sa
from flask import render_template, request
from flask_babel import gettext as _

from ..auth.scope import login_required_installation_admin
from ..extensions import db
from ..models import AuditEvent, User
from .. import audit
from . import bp
from .forms import AuditFilterForm, choice_list


AUDIT_PAGE = 100


@bp.route("/audit")
@login_required_installation_admin
def audit_log():
    """Every change, newest first, filterable by user and object type (the installation administrator only)."""
    form = AuditFilterForm(request.args)
    people = list(db.session.scalars(sa.select(User).order_by(User.username)))
    form.user_id.choices = choice_list([(0, _("(Tất cả)"))] + [(u.id, u.username) for u in people])
    types = list(db.session.scalars(sa.select(AuditEvent.object_type).distinct().order_by(AuditEvent.object_type)))
    form.object_type.choices = choice_list([("", _("(Tất cả)"))] + [(t, t) for t in types])
    stmt = sa.select(AuditEvent).order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
    user_id = request.args.get("user_id", type=int)
    object_type = request.args.get("object_type", "")
    if user_id:
        stmt = stmt.where(AuditEvent.user_id == user_id)
    if object_type:
        stmt = stmt.where(AuditEvent.object_type == object_type)
    page = max(request.args.get("page", 1, type=int), 1)
    events = list(db.session.scalars(stmt.limit(AUDIT_PAGE + 1).offset((page - 1) * AUDIT_PAGE)))
    more = len(events) > AUDIT_PAGE
    return render_template("admin/audit.html", form=form, events=events[:AUDIT_PAGE], page=page, more=more,
                           changes=audit.changes)
