"""The public page of a published organisation's indices, at /p/<code> (:mod:`.service` has the rules)."""
from flask import Blueprint

bp = Blueprint("public", __name__, url_prefix="/p")

from . import views  # noqa: E402,F401  (register the views on bp)
