"""Fixtures of the bulk import tests: files written as an official would, and the CLI."""
from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from openpyxl import Workbook

from surveyapp.extensions import db
from surveyapp.models import AuditEvent


@pytest.fixture
def ctx(app):
    """One request context for a test that calls the import services directly and makes no request
    nor command (messages are lazy strings: the services run, as in the workspace, in a request)."""
    with app.test_request_context():
        yield app


def csv_bytes(*lines: str) -> bytes:
    return ("\ufeff" + "\n".join(lines) + "\n").encode()


def xlsx_bytes(*rows) -> bytes:
    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(list(row))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def audits(action: str = "import") -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))
