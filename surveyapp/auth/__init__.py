"""Sign-in and sign-out of officials."""
from flask import Blueprint

bp = Blueprint("auth", __name__)

from . import invitation_routes, routes, sso  # noqa: E402,F401
