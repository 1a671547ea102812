"""The officials' workspace under /admin/: one module per area, sharing :mod:`.helpers`.

The views of each area are registered on ``bp`` when its module is imported below.
"""
from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from . import (  # noqa: E402,F401  (register the views on bp)
    alerts,
    apikeys,
    audit_log,
    cases,
    dashboard,
    dossiers,
    filed,
    imports,
    kiosks,
    navigation,
    organisations,
    privacy,
    profile,
    publication,
    questionnaires,
    report_subscriptions,
    service_points,
    surveys,
    targets,
    users,
    volumes,
)
