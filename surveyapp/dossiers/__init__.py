"""Dossiers from the provincial one-stop software: records, their API, import, metrics."""
from flask import Blueprint

bp = Blueprint("dossiers", __name__)

from . import api  # noqa: E402,F401  (routes)
from . import imports  # noqa: E402,F401  (registers the import kind)
