"""Flask extensions, created once and bound to the app in the factory."""
import flask_limiter
from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

from .models import db
from .privacy import client_fingerprint

migrate = Migrate()
babel = Babel()
login_manager = LoginManager()
csrf = CSRFProtect()


def client_key() -> str:
    """Rate-limit key: a keyed hash of the client address, never the raw address."""
    return client_fingerprint()


limiter = flask_limiter.Limiter(key_func=client_key, default_limits=[])

__all__ = ["db", "migrate", "babel", "login_manager", "csrf", "limiter"]
