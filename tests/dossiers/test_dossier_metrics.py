"""Late share, Decision 766's ratio (unrated dossiers count satisfied), rankings."""
from __future__ import annotations

import json
from datetime import date

import pytest

import analysis.ranking as ar
from analysis.decision766 import satisfaction_766
from surveyapp import rankings
from surveyapp.dossiers import metrics
from surveyapp.dossiers.records import Resolver, parse_batch, write
from surveyapp.extensions import db
from surveyapp.models import Organisation

from .conftest import record

OCTOBER = (date(2026, 10, 1), date(2026, 10, 31))


def store(*records):
    rows, errors = parse_batch(list(records), Resolver())
    assert not errors, [e.as_dict() for e in errors]
    write(rows)
    db.session.commit()


def test_late_share_as_of_the_period_end(app, kh):
    with app.test_request_context():
        late_share_as_of_the_period_end(kh)


def late_share_as_of_the_period_end(kh):
    province, finance = (db.session.get(Organisation, o.id) for o in (kh.province, kh.finance))
    store(
        record("ON-TIME", due="20261005170000", returned="20261005160000"),
        record("LATE", due="20261005170000", returned="20261006080000"),
        # Open at the end of October and overdue: late.
        record("OPEN-OVERDUE", due="20261020170000"),
        # Due in October, returned in November: late as of October's end.
        record("RETURNED-AFTER", due="20261030170000", returned="20261102080000"),
        # Open but due in November: not in October's count.
        record("OPEN-NOT-DUE", due="20261110170000"),
        # Returned in September: another period.
        record("SEPTEMBER", received="20260901080000", due="20260905170000", returned="20260904080000"),
    )
    late = metrics.late(province, *OCTOBER)
    assert late == {"late": 3, "total": 4, "share": 0.75}
    assert metrics.late(finance, *OCTOBER) == {"late": 0, "total": 0, "share": None}
    # The local day counts: 23:30 local on 31 October (16:30 UTC) is still October.
    store(record("LAST-EVENING", due="20261031235900", returned="20261031233000"))
    assert metrics.late(province, *OCTOBER)["total"] == 5


def test_766_counts_unrated_dossiers_satisfied(make_app):
    import sqlalchemy as sa

    from surveyapp.models import Response
    from surveyapp.qr import issue_dossier_token
    from tests.citizen.conftest import build_place, form_start
    from tests.citizen.test_citizen_survey import standard_for

    app = make_app()
    with app.test_request_context():
        place = build_place(standard_for(app))
        centre_code, counter_code, quick_id = place.centre.code, place.counter.code, place.quick.id
        # Five dossiers of the centre handled in October; one rated dissatisfied, one satisfied,
        # three nobody rated; one more handled in November.
        store(*[record(f"HS-{i}", agency=centre_code, procedure="P1" if i < 3 else "P2",
                       field="HT" if i < 3 else "DD", returned="20261004090000") for i in range(1, 6)],
              record("HS-NOV", agency=centre_code, returned="20261104090000"))
        tokens = [issue_dossier_token(place.counter, code, procedure="P1", field="HT") for code in ("HS-1", "HS-2")]
    client = app.test_client()
    for i, (token, value) in enumerate(zip(tokens, ("v1", "v4"))):
        fields = form_start(app, quick_id, key=str(i) * 32) | {"q_rating": value}
        assert client.post(f"/s/{counter_code}?d={token}", data=fields).status_code == 303
    with app.test_request_context():
        province = db.session.scalar(sa.select(Organisation).where(Organisation.code == "P"))
        ratio = metrics.indicator_766(province, *OCTOBER)
        # (5 handled − 1 dissatisfied) ÷ 5 = 80%, although the survey's estimate is 1 of 2 = 50%.
        assert ratio["numerator"] == 4 and ratio["denominator"] == 5 and ratio["value"] == pytest.approx(0.8)
        assert "không được đánh giá" in ratio["explanation_vi"] and "unrated" in ratio["explanation_en"]
        by_field = metrics.satisfaction_by_field(province, *OCTOBER)
        assert by_field["HT"]["rated"] == 2 and by_field["HT"]["satisfied_share"] == 0.5
        assert by_field["HT"]["indicator_766"]["value"] == 0.5
        assert by_field["DD"]["rated"] == 0 and by_field["DD"]["indicator_766"]["value"] == 1.0
        # The token's codes reach the stored ratings.
        assert set(db.session.execute(sa.select(Response.procedure_code, Response.field_code))) == {("P1", "HT")}


def test_766_arithmetic():
    assert satisfaction_766(10, 0)["value"] == 1.0
    assert satisfaction_766(0, 0)["value"] is None
    with pytest.raises(ValueError):
        satisfaction_766(1, 2)


def test_volumes_per_service_point_and_month(app, kh):
    from surveyapp.reports.filters import month_key

    with app.test_request_context():
        store(record("A", service_point=kh.counter.code, received="20261001080000"),
              record("B", service_point=kh.counter.code, received="20261101063000", due=""),  # 1 Nov local, 31 Oct UTC
              record("C", received="20261002080000"))
        vols = metrics.service_point_volumes([kh.counter.id], *OCTOBER[:1], date(2026, 11, 30))
        assert vols == {(kh.counter.id, month_key(date(2026, 10, 1))): 1,
                        (kh.counter.id, month_key(date(2026, 11, 1))): 1}
        assert metrics.organisation_volumes([kh.justice.id], *OCTOBER) == {
            (kh.justice.id, month_key(date(2026, 10, 1))): 2}


def test_khanh_hoa_preset_caps_and_reports_the_deciding_rule():
    rules = ar.PRESETS["khanh-hoa"]
    assert ar.rank_unit({"satisfaction": 0.80, "late_share": 0.0}, rules)[:2] == ("khá", "satisfaction_at_most_80")
    assert ar.rank_unit({"satisfaction": 4 / 5, "late_share": 0.0}, rules)[0] == "khá"
    assert ar.rank_unit({"satisfaction": 0.95, "late_share": 0.05}, rules)[:2] == ("khá", "late_at_least_5")
    assert ar.rank_unit({"satisfaction": 0.95, "late_share": 1 / 20}, rules)[0] == "khá"
    assert ar.rank_unit({"satisfaction": 0.95, "late_share": 0.049}, rules)[:2] == ("xuất sắc", "band:xuất sắc")
    assert ar.rank_unit({"satisfaction": 0.85, "late_share": None}, rules)[:2] == ("tốt", "band:tốt")
    assert ar.rank_unit({"satisfaction": 0.60, "late_share": 0.5}, rules)[:2] == ("trung bình", "band:trung bình")
    # Lâm Đồng-style bands only: 80% is "tốt" there.
    assert ar.rank_unit({"satisfaction": 0.80, "late_share": 0.5}, ar.PRESETS["lam-dong"])[0] == "tốt"
    with pytest.raises(ValueError):
        ar.validate_rules({"ranks": ["a"], "bands": [{"min": 0.5, "rank": "b"}]})


def test_ranking_command_uses_late_share_from_dossiers(app, kh, runner, monkeypatch):
    # 20 justice dossiers handled in 2026, one late: 5%; finance has none late.
    satisfaction = {kh.justice.id: 0.95, kh.finance.id: 0.80}
    with app.test_request_context():
        store(*[record(f"TP-{i}", returned="20261004090000" if i else "20261006090000") for i in range(20)],
              record("TC-1", agency="STC", returned="20261004090000"))
        rows = rankings.rank(db.session.get(Organisation, kh.province.id), 2026, None, "khanh-hoa",
                             satisfaction=satisfaction)
    by_code = {r["code"]: r for r in rows}
    assert by_code["STP"]["late_share"] == 0.05 and by_code["STP"]["rank"] == "khá"
    assert by_code["STP"]["rule"] == "late_at_least_5"
    assert by_code["STC"]["rank"] == "khá" and by_code["STC"]["rule"] == "satisfaction_at_most_80"
    monkeypatch.setattr(rankings, "unit_satisfaction", lambda root, first, last: satisfaction)
    result = runner.invoke(args=["ranking", "--org", "KH", "--year", "2026", "--quarter", "4", "--format", "json"])
    assert result.exit_code == 0, result.output
    units = {u["code"]: u for u in json.loads(result.output)["units"]}
    assert units["STP"]["rule"] == "late_at_least_5" and units["STP"]["dossiers"] == 20
    table = runner.invoke(args=["ranking", "--org", "KH", "--year", "2026"])
    assert "Hồ sơ trễ hạn ≥ 5%" in table.output


def test_unit_satisfaction_reads_the_report(app, demo):
    import sqlalchemy as sa

    with app.test_request_context():
        root = db.session.scalar(sa.select(Organisation).where(Organisation.parent_id.is_(None)))
        values = rankings.unit_satisfaction(root, date(2020, 1, 1), date(2030, 12, 31))
    assert values and all(v is None or 0 <= v <= 1 for v in values.values())
