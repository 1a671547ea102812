"""Fixtures for scheduled filed reports: a real SMTP server (aiosmtpd), the small province of the
alert tests, and ratings stored in the quarters the reports describe."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

# The alert tests' helpers: real servers on loopback and a province with its accounts.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "alerts"))

from alert_helpers import SmtpServer, make_province  # noqa: E402
from tests.conftest import detached  # noqa: E402


@pytest.fixture
def smtp():
    server = SmtpServer()
    yield server
    server.stop()


@pytest.fixture
def app(make_app, smtp):
    """The app, sending e-mail to the test's SMTP server."""
    return make_app(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port,
                    MAIL_DEFAULT_SENDER="khaosat@example.gov.vn")


@pytest.fixture
def province(app):
    """The province, its rows detached (``reloaded`` fetches them again inside a context)."""
    from surveyapp.extensions import db
    from surveyapp.seed import seed_standard

    with app.app_context():
        p = make_province(seed_standard())
        p.manager.full_name = "Trần Thị Một"
        p.province_manager.full_name = "Lê Văn Tỉnh"
        db.session.commit()
        detached(*vars(p).values())
        return p
