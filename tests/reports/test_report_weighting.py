"""Dossier records replace hand-entered volumes as the weighting volume where they exist for a
service point and month; elsewhere the hand-entered volume stays. The expected indices are
computed here from the counts alone: with weights volume ÷ responses, the quick index is
Σ volume × share ÷ Σ volume over the points."""
from __future__ import annotations

import json
import uuid
from datetime import date, datetime, time, timedelta

import pytest
import sqlalchemy as sa
from flask import current_app
from werkzeug.security import generate_password_hash

from surveyapp import clock
from surveyapp.dossiers.records import WRITTEN, write
from surveyapp.extensions import db
from surveyapp.models import Answer, Organisation, Response, ServicePoint, ServiceVolume, Survey, User
from surveyapp.reports import model
from surveyapp.reports.filters import month_end, parse_filters

# Two whole months back, so that it is complete whatever the day, and rolled up like any other.
_today = date.today()
MONTH = date(_today.year - (_today.month <= 2), (_today.month - 3) % 12 + 1, 1)
PERIOD = {"from": MONTH.isoformat(), "to": month_end(MONTH).isoformat()}
# Satisfied and dissatisfied taps at each counter.
TAPS = {"Quầy 1": (8, 2), "Quầy 2": (3, 7)}


def weighted(volumes: dict[str, int]) -> float:
    """The expected index: each counter's share of satisfied taps, weighted by its volume."""
    total = sum(volumes.values())
    return sum(v * TAPS[name][0] / sum(TAPS[name]) for name, v in volumes.items()) / total


@pytest.fixture
def commune(app, standard):
    o = Organisation(code="XA", name="Xã Thử", sector="administrative")
    points = {name: ServicePoint(organisation=o, name=name) for name in TAPS}
    survey = Survey(questionnaire=standard["quick-rating"], organisation=o, name="Nhanh", starts_on=MONTH,
                    status="open", channel_qr=True, channel_kiosk=True, service_points=list(points.values()))
    db.session.add_all([o, *points.values(), survey])
    db.session.flush()
    q = next(x for x in survey.questionnaire.questions if x.code == "rating")
    when = clock.to_utc(datetime.combine(MONTH + timedelta(days=14), time(10, 0)))
    for name, (sat, unsat) in TAPS.items():
        sp = points[name]
        for v in [4] * sat + [1] * unsat:
            r = Response(survey=survey, service_point=sp, channel="kiosk", idempotency_key=uuid.uuid4().hex,
                         submitted_at=when)
            db.session.add(r)
            db.session.flush()
            opt = next(x for x in q.options if x.value == v)
            db.session.add(Answer(response=r, question_id=q.id, option_id=opt.id, value=v, satisfied=int(v >= 3),
                                  service_point_id=sp.id, submitted_at=when))
    # Hand-entered volumes: 300 and 100.
    db.session.add_all([ServiceVolume(service_point=points["Quầy 1"], month=MONTH, volume=300),
                        ServiceVolume(service_point=points["Quầy 2"], month=MONTH, volume=100)])
    db.session.commit()
    return o, points


def dossiers(sp: ServicePoint | None, org: Organisation, count: int, day: date, tag: str) -> None:
    received = clock.to_utc(datetime.combine(day, time(9, 0)))
    write([{**dict.fromkeys(WRITTEN), "organisation_id": org.id, "service_point_id": sp.id if sp else None,
            "code": f"{tag}-{i}", "code_hash": f"{tag}h{i}", "received_at": received, "channel": "counter"}
           for i in range(count)])
    db.session.commit()


def report(org):
    with current_app.test_request_context("/"):
        return model.build_report(org, parse_filters(PERIOD))


def cli(org_code: str, fmt: str = "json"):
    result = current_app.test_cli_runner().invoke(
        args=["report", "--org", org_code, "--from", PERIOD["from"], "--to", PERIOD["to"], "--format", fmt])
    assert result.exit_code == 0, result.output
    return result.output


def test_dossier_counts_replace_hand_entered_volumes_where_they_exist(commune):
    org, points = commune
    s = report(org).sections[0]
    assert s.headline.estimate == pytest.approx(weighted({"Quầy 1": 300, "Quầy 2": 100}))
    assert s.weight_source == "entered"
    assert {u.label: u.weight_source for u in s.units} == {"Quầy 1": "entered", "Quầy 2": "entered"}

    # Dossiers at Quầy 2 only (30 in the month): they replace its 100; Quầy 1 keeps its 300.
    # Dossiers that name no service point, or fall outside the month, change nothing.
    dossiers(points["Quầy 2"], org, 30, MONTH + timedelta(days=3), "B")
    dossiers(None, org, 500, MONTH + timedelta(days=3), "X")
    dossiers(points["Quầy 1"], org, 7, MONTH + timedelta(days=45), "L")
    s = report(org).sections[0]
    assert s.headline.estimate == pytest.approx(weighted({"Quầy 1": 300, "Quầy 2": 30}))
    assert s.weight_source == "mixed"
    assert {u.label: u.weight_source for u in s.units} == {"Quầy 1": "entered", "Quầy 2": "dossiers"}

    # Dossiers at Quầy 1 too (10, on the month's first and last local days): dossiers everywhere.
    dossiers(points["Quầy 1"], org, 6, MONTH, "A")
    dossiers(points["Quầy 1"], org, 4, month_end(MONTH), "Z")
    s = report(org).sections[0]
    expected = weighted({"Quầy 1": 10, "Quầy 2": 30})
    assert expected == pytest.approx((10 * 0.8 + 30 * 0.3) / 40)
    assert s.headline.estimate == pytest.approx(expected)
    assert s.weight_source == "dossiers" and s.weighted
    assert {u.weight_source for u in s.units} == {"dossiers"}

    # The JSON and the CSV say the same.
    data = json.loads(cli("XA"))
    assert data["sections"][0]["headline"]["estimate"] == pytest.approx(expected)
    assert data["sections"][0]["weight_source"] == "dossiers"
    assert {u["label"]: u["weight_source"] for u in data["sections"][0]["units"]} == {
        "Quầy 1": "dossiers", "Quầy 2": "dossiers"}
    assert "dossiers" in cli("XA", "csv").splitlines()[1].split(",")


def test_no_volume_at_all_means_every_response_counts_the_same(commune):
    org, _points = commune
    db.session.execute(sa.delete(ServiceVolume))
    db.session.commit()
    s = report(org).sections[0]
    assert s.headline.estimate == pytest.approx((8 + 3) / 20)
    assert not s.weighted and s.weight_source == "none"
    assert {u.weight_source for u in s.units} == {"none"}


def test_dashboard_and_filed_report_say_where_each_weight_came_from(client, commune):
    from surveyapp.documents.report import filed_report, header_from
    from surveyapp.documents.decree30 import Paragraph

    org, points = commune
    dossiers(points["Quầy 2"], org, 30, MONTH + timedelta(days=3), "B")
    db.session.add(User(username="ql", role="manager", organisation=org,
                        password_hash=generate_password_hash("demo12345", method="pbkdf2:sha256:1000")))
    db.session.commit()
    assert client.post("/login", data={"username": "ql", "password": "demo12345"}).status_code == 302
    html = client.get("/admin/", query_string=PERIOD).get_data(as_text=True)
    assert "Trọng số theo số hồ sơ tiếp nhận và số lượt phục vụ nhập tay." in html
    # Each unit's source is a column of the units tab.
    units = client.get("/admin/", query_string={**PERIOD, "tab": "units"}).get_data(as_text=True)
    assert "số hồ sơ tiếp nhận (phần mềm một cửa)</td>" in units and "số lượt phục vụ nhập tay</td>" in units

    r = report(org)
    with current_app.test_request_context("/"):
        doc = filed_report(r, header_from(org, r.filters))
    annex = " ".join(b.text for b in doc.body[[getattr(b, "text", "") for b in doc.body].index(
        "III. PHỤ LỤC: PHƯƠNG PHÁP"):] if isinstance(b, Paragraph))
    assert "Quầy 1: số lượt phục vụ nhập tay" in annex
    assert "Quầy 2: số hồ sơ tiếp nhận (phần mềm một cửa)" in annex
