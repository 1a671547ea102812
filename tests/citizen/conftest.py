"""Fixtures of the citizen path: a province with a full questionnaire and the quick rating on one
counter, signed form starts, and a live server whose minimum completion time is zero."""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date

import pytest
import sqlalchemy as sa

from surveyapp import create_app
from surveyapp.extensions import db
from surveyapp.models import Answer, Organisation, Response, ServicePoint, Survey
from tests.conftest import LiveServer, base_config, empty_all_tables


@dataclass
class Place:
    province: Organisation
    centre: Organisation
    counter: ServicePoint  # full SIPAS questionnaire (centre) + province-wide quick rating
    desk: ServicePoint  # quick rating only
    sipas: Survey
    quick: Survey


def build_place(standard) -> Place:
    province = Organisation(code="P", name="UBND tỉnh Thử Nghiệm", name_en="Test Province", sector="administrative")
    centre = Organisation(code="P-HCC", name="Trung tâm Phục vụ hành chính công", sector="administrative",
                          parent=province)
    db.session.add_all([province, centre])
    db.session.flush()
    counter = ServicePoint(organisation=centre, name="Quầy 1 – Tư pháp", name_en="Counter 1 – Justice", code="quay1abcde")
    desk = ServicePoint(organisation=province, name="Bộ phận Một cửa", code="motcua2345")
    start = date(2026, 1, 1)
    quick = Survey(questionnaire=standard["quick-rating"], organisation=province, name="Đánh giá nhanh",
                   starts_on=start, status="open", channel_qr=True, channel_kiosk=True, service_points=[counter, desk])
    sipas = Survey(questionnaire=standard["sipas-admin"], organisation=centre, name="SIPAS", starts_on=start,
                   status="open", channel_qr=True, service_points=[counter])
    db.session.add_all([counter, desk, quick, sipas])
    db.session.commit()
    return Place(province, centre, counter, desk, sipas, quick)


@pytest.fixture
def place(app, standard) -> Place:
    return build_place(standard)


def form_start(app, survey_id: int, key: str = "k" * 32, seconds_ago: float = 60) -> dict:
    """Hidden fields of a form served ``seconds_ago``."""
    from surveyapp.citizen.forms import sign_start

    with app.test_request_context():
        return {"key": key, "started": sign_start(key, survey_id, int((time.time() - seconds_ago) * 1000))}


def responses() -> list[Response]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Response).order_by(Response.id)))


def answers_by_code(response: Response) -> dict[str, Answer]:
    return {a.question.code: a for a in response.answers}


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.fixture
def citizen_server(database_uris):
    """A live server (SQLite) with CSRF on, no configured base URL (QR codes point at it) and no
    minimum completion time, so that browser tests need not wait."""
    app = create_app(base_config(database_uris["sqlite"], WTF_CSRF_ENABLED=True, PUBLIC_BASE_URL=None,
                                 SUBMIT_MIN_SECONDS=0, SUBMIT_MIN_SECONDS_QUICK=0))
    with LiveServer(app) as server:
        yield server
    with app.app_context():
        empty_all_tables()
        db.engine.dispose()
