"""The officials' workspace under /admin/: administration and reports."""
from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from . import alerts, dashboard, profile, routes  # noqa: E402,F401  (register the views on bp)
