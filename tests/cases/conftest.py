"""Fixtures of the case tests (helpers in case_helpers.py)."""
from __future__ import annotations

from datetime import date

import pytest

from case_helpers import Commune, Recorder, World, make_user
from surveyapp.extensions import db
from surveyapp.models import Organisation, ServicePoint, Survey
from tests.conftest import detached, rows_of


@pytest.fixture
def world(app_context, standard) -> World:
    """The world, in the one app context of a test that makes no request nor command."""
    return build_world(standard)


@pytest.fixture
def world_rows(app) -> World:
    """The world for a test that makes requests or runs commands: made in an app context of its
    own, its rows detached (``tests.conftest.reloaded`` fetches them again inside a context)."""
    from surveyapp.seed import seed_standard

    with app.app_context():
        world = build_world(seed_standard())
        detached(*rows_of(world))
        return world


def build_world(standard) -> World:
    q = standard["sipas-admin"]
    province = Organisation(code="P", name="UBND tỉnh Thử Nghiệm", sector="administrative")
    db.session.add(province)
    db.session.flush()
    communes = []
    for code, name in (("XA-AN", "xã An Bình"), ("XA-BAC", "xã Bắc Sơn")):
        org = Organisation(code=code, name=name, sector="administrative", parent=province)
        sp = ServicePoint(organisation=org, name=f"Bộ phận Một cửa {name}")
        survey = Survey(questionnaire=q, organisation=org, name=f"Khảo sát {name}", starts_on=date(2026, 1, 1),
                        status="open", service_points=[sp])
        db.session.add_all([org, sp, survey])
        db.session.flush()
        communes.append(Commune(org, sp, survey, make_user(f"ql-{code.lower()}", "manager", org),
                                make_user(f"xem-{code.lower()}", "viewer", org)))
    admin = make_user("quantri", "admin", None)
    db.session.commit()
    return World(province=province, admin=admin, a=communes[0], b=communes[1], questionnaire=q)


@pytest.fixture(autouse=True)
def outbox(monkeypatch):
    recorder = Recorder()
    monkeypatch.setattr("surveyapp.cases.reply.outbox", recorder)
    return recorder
