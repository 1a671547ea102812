"""The kiosk area: tablets at the counter, their enrolment, and the kiosk JSON API."""
from flask import Blueprint

bp = Blueprint("kiosk", __name__)

from . import api, routes  # noqa: E402,F401  (registers the views on bp)
