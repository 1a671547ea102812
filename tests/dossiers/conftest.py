"""A province with two departments for the dossier tests."""
from __future__ import annotations

from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.models import Dossier, Organisation, ServicePoint

API_KEY = "khoa-mot-cua-thu-nghiem"


@dataclass
class Province:
    province: Organisation
    justice: Organisation
    finance: Organisation
    counter: ServicePoint


def build_province() -> Province:
    province = Organisation(code="KH", name="UBND tỉnh Khánh Hòa", sector="administrative")
    justice = Organisation(code="STP", name="Sở Tư pháp", sector="administrative", parent=province)
    finance = Organisation(code="STC", name="Sở Tài chính", sector="administrative", parent=province)
    db.session.add_all([province, justice, finance])
    db.session.flush()
    counter = ServicePoint(organisation=justice, name="Quầy Tư pháp", code="quaytp0001")
    db.session.add(counter)
    db.session.commit()
    return Province(province, justice, finance, counter)


@pytest.fixture
def kh(app) -> Province:
    # Messages are lazy strings: the service functions run, as in the workspace, in a request.
    with app.test_request_context():
        yield build_province()


def dossiers() -> list[Dossier]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Dossier).order_by(Dossier.organisation_id, Dossier.code)))


def record(code, agency="STP", **extra) -> dict:
    base = {"code": code, "agency": agency, "procedure": "1.000001", "field": "HT",
            "received": "20261001080000", "due": "20261005170000"}
    base.update(extra)
    return base
