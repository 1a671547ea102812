"""The citizen area: the public QR survey page, QR codes and posters, dossier tokens."""
from flask import Blueprint

bp = Blueprint("citizen", __name__)

# Settings of this area, overridable in instance/config.py or as SURVEYAPP_<NAME>.
DEFAULTS = {
    # Rate limits on stored submissions (limits syntax): per browser (address, user agent and
    # session), per address (phones behind one Wi-Fi share it) and per service point.
    "SUBMIT_RATE_LIMIT_CLIENT": "10 per hour",
    "SUBMIT_RATE_LIMIT_ADDRESS": "200 per hour",
    "SUBMIT_RATE_LIMIT_POINT": "600 per hour",
    # Minimum plausible completion time in seconds: faster responses are stored flagged "too_fast".
    "SUBMIT_MIN_SECONDS_QUICK": 3,
    "SUBMIT_MIN_SECONDS": 15,
    # Seconds a process keeps a service point's open surveys for submissions (0: re-read each time).
    "SUBMIT_TARGETS_TTL": 5,
    # Dossier tokens: API keys (comma-separated sha256 hex digests, or plain keys), lifetime, batch size.
    "DOSSIER_API_KEYS": "",
    "DOSSIER_TOKEN_MAX_AGE_DAYS": 90,
    "DOSSIER_API_MAX_ITEMS": 500,
    "DOSSIER_API_RATE_LIMIT": "120 per minute",
    # Cache lifetime of versioned static files (the URL changes whenever the file does).
    "STATIC_MAX_AGE": 365 * 86400,
}


@bp.record_once
def _defaults(state) -> None:
    for name, value in DEFAULTS.items():
        state.app.config.setdefault(name, value)


from . import api, delivery, routes  # noqa: E402,F401  (registers the views on bp)
