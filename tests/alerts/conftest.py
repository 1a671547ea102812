"""Fixtures for the worker, the outbox and alerts: a real SMTP server (aiosmtpd) and a real HTTP
receiver on loopback, and a small province with a counter whose ratings are stored."""
from __future__ import annotations

import pytest
from alert_helpers import HttpReceiver, SmtpServer, make_province

from tests.conftest import detached


@pytest.fixture
def smtp():
    server = SmtpServer()
    yield server
    server.stop()


@pytest.fixture
def receiver():
    server = HttpReceiver()
    yield server
    server.stop()


@pytest.fixture
def app(make_app, smtp):
    """The app, sending e-mail to the test's SMTP server."""
    return make_app(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port,
                    MAIL_DEFAULT_SENDER="khaosat@example.gov.vn", OUTBOX_RETRY_BASE_SECONDS=10)


@pytest.fixture
def province(app_context, standard):
    """The province, in the one app context of a test that makes no request nor command."""
    return make_province(standard)


@pytest.fixture
def province_rows(app):
    """The province for a test that makes requests or runs commands: made in an app context of its
    own, its rows detached (``tests.conftest.reloaded`` fetches them again inside a context)."""
    from surveyapp.extensions import db
    from surveyapp.seed import seed_standard

    with app.app_context():
        province = make_province(seed_standard())
        db.session.commit()
        detached(*vars(province).values())
        return province
