"""Fixtures of the workspace tests."""
from __future__ import annotations

import pytest

from admin_helpers import World, make_side, make_user, add_response
from surveyapp.extensions import db
from surveyapp.models import Organisation


@pytest.fixture
def world(app, standard) -> World:
    """Province KA-P with two communes A and B, each with a sub-unit, a service point, its own
    questionnaire (the quick rating with a comment), a survey, a kiosk, a target, a manager, a viewer,
    an administrator of its own and one response with a comment; the province's administrator and
    the installation's (no organisation)."""
    province = Organisation(code="P", name="UBND tỉnh Thử Nghiệm", sector="administrative")
    db.session.add(province)
    db.session.flush()
    a = make_side(province, "XA-AN", "xã An Bình", standard)
    b = make_side(province, "XA-BAC", "xã Bắc Sơn", standard)
    admin = make_user("quantri", "admin", None)
    province_admin = make_user("qt-tinh", "admin", province)
    db.session.commit()
    add_response(a, "Cần thêm ghế ngồi chờ.")
    add_response(b, "Nhà vệ sinh xã Bắc Sơn cần sạch hơn.")
    return World(province=province, admin=admin, province_admin=province_admin, a=a, b=b)
