"""A province with two departments for the dossier tests."""
from __future__ import annotations

from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.models import Dossier, Organisation, ServicePoint
from tests.conftest import detached

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


def province_in(app) -> Province:
    """The province built in an app context of its own; its rows detached, columns loaded."""
    with app.app_context():
        province = build_province()
        detached(*vars(province).values())
        return province


@pytest.fixture
def kh(app) -> Province:
    return province_in(app)


def dossiers(app) -> list[Dossier]:
    """Every stored dossier, read in an app context of its own (rows detached, columns loaded)."""
    with app.app_context():
        rows = list(db.session.scalars(sa.select(Dossier).order_by(Dossier.organisation_id, Dossier.code)))
        db.session.expunge_all()
        return rows


def record(code, agency="STP", **extra) -> dict:
    base = {"code": code, "agency": agency, "procedure": "1.000001", "field": "HT",
            "received": "20261001080000", "due": "20261005170000"}
    base.update(extra)
    return base
