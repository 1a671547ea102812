"""Kiosk test helpers: a service point with an open kiosk survey and an enrolled tablet."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.kiosk import devices
from surveyapp.models import KioskDevice, Organisation, Response, ServicePoint, Survey, utcnow


@dataclass
class Kiosk:
    survey: Survey
    sp: ServicePoint
    other_sp: ServicePoint
    device: KioskDevice
    token: str

    @property
    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}


def make_kiosk(standard, name: str = "Máy quầy 1") -> Kiosk:
    """An organisation with two service points, the quick survey open on both for kiosks, and
    an enrolled device at the first (enrolled when the survey opened)."""
    org = Organisation(code="KX", name="Xã Thử Nghiệm", sector="administrative")
    sp = ServicePoint(organisation=org, name="Quầy 1", name_en="Counter 1")
    other = ServicePoint(organisation=org, name="Quầy 2", name_en="Counter 2")
    survey = Survey(questionnaire=standard["quick-rating"], organisation=org, name="Đánh giá nhanh",
                    starts_on=date.today() - timedelta(days=60), status="open", channel_qr=True,
                    channel_kiosk=True, service_points=[sp, other])
    db.session.add_all([org, sp, other, survey])
    db.session.flush()
    device, code = devices.create_device(sp, name)
    db.session.commit()
    # In service since the survey opened: ratings it queued offline since then are plausible.
    _device, token = devices.enrol(code, now=utcnow() - timedelta(days=60))
    return Kiosk(survey=survey, sp=sp, other_sp=other, device=device, token=token)


def rating(value: int = 4, *, minutes_ago: float = 5, reason: str | None = None, **extra) -> dict:
    when = datetime.now(timezone.utc) - timedelta(minutes=minutes_ago)
    item = {"id": str(uuid.uuid4()), "value": value, "created_at": when.isoformat().replace("+00:00", "Z")}
    if reason:
        item["reason"] = reason
    item.update(extra)
    return item


def spaced(n: int, *, every_minutes: float = 3, **kw) -> list[dict]:
    """n ratings at a counter's plausible pace, oldest first."""
    return [rating((i % 4) + 1, minutes_ago=5 + (n - i) * every_minutes, **kw) for i in range(n)]


def stored_count(app=None, **where) -> int:
    """Kiosk responses stored (``where``: column values), in an app context of its own with ``app``."""
    if app is not None:
        with app.app_context():
            return stored_count(**where)
    stmt = sa.select(sa.func.count()).select_from(Response).where(Response.channel == "kiosk")
    for key, value in where.items():
        stmt = stmt.where(getattr(Response, key) == value)
    return db.session.scalar(stmt)


def assert_accessible(page) -> None:
    """The shared axe-core check of tests/conftest.py (which this folder's own conftest.py
    shadows as the module ``conftest``)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "conftest.py"
    spec = importlib.util.spec_from_file_location("surveyapp_tests_root_conftest", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.assert_accessible(page)
