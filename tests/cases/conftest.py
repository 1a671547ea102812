"""Fixtures of the case tests (helpers in case_helpers.py)."""
from __future__ import annotations

from datetime import date

import pytest

from case_helpers import Commune, Recorder, World, make_user
from surveyapp.extensions import db
from surveyapp.models import Organisation, ServicePoint, Survey


@pytest.fixture
def world(app, standard) -> World:
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
