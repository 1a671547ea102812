"""Flask extensions, created once and bound to the app in the factory."""
import flask_limiter
from flask import request
from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

from .models import db

migrate = Migrate()
babel = Babel()
login_manager = LoginManager()
csrf = CSRFProtect()


def client_key() -> str:
    """Rate-limit key: a keyed hash of the client's address (IPv6: its /64), never the raw
    address. Not the user agent: a client must not get a fresh count by changing a header."""
    from .privacy import network_fingerprint

    return network_fingerprint()


class Limiter(flask_limiter.Limiter):
    """Flask-Limiter, minus the endpoints whose requests ``surveyapp.ratelimit`` counts itself
    (the survey POST): for those, resolving and evaluating an empty set of limits before every
    request was about 3% of a submission's cost under load, for nothing."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.counted_elsewhere: set[str] = set()

    def _check_request_limit(self, callable_name=None, in_middleware=True):
        if in_middleware and request.endpoint in self.counted_elsewhere:
            return
        super()._check_request_limit(callable_name, in_middleware)


limiter = Limiter(key_func=client_key, default_limits=[])

__all__ = ["db", "migrate", "babel", "login_manager", "csrf", "limiter"]
