"""Flask extensions, created once and bound to the app in the factory."""
import flask_limiter
from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.dialects import postgresql, sqlite

from .models import db
from .privacy import network_fingerprint

migrate = Migrate()
babel = Babel()
login_manager = LoginManager()
csrf = CSRFProtect()


def client_key() -> str:
    """Rate-limit key: a keyed hash of the client's address (IPv6: its /64), never the raw
    address. Not the user agent: a client must not get a fresh count by changing a header."""
    return network_fingerprint()


limiter = flask_limiter.Limiter(key_func=client_key, default_limits=[])


def dialect_insert(target):
    """An INSERT for the session's database that knows ``ON CONFLICT``: PostgreSQL's and SQLite's
    share that API (``on_conflict_do_nothing``/``do_update``, ``excluded``, ``returning``)."""
    dialect = db.session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(target)

__all__ = ["db", "migrate", "babel", "login_manager", "csrf", "limiter", "dialect_insert"]
