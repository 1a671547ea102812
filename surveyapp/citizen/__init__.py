"""The citizen area: the public QR survey page, QR codes and posters, dossier tokens."""
from flask import Blueprint

bp = Blueprint("citizen", __name__)

from . import api, routes  # noqa: E402,F401  (registers the views on bp)
