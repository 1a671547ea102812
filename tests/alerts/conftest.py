"""Fixtures for the worker, the outbox and alerts: a real SMTP server (aiosmtpd) and a real HTTP
receiver on loopback, and a small province with a counter whose ratings are stored."""
from __future__ import annotations

import pytest
from alert_helpers import HttpReceiver, SmtpServer, make_province


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
    app = make_app(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port,
                   MAIL_DEFAULT_SENDER="khaosat@example.gov.vn", OUTBOX_RETRY_BASE_SECONDS=10)
    with app.app_context():
        yield app


@pytest.fixture
def province(app, standard):
    return make_province(standard)
