"""The dossier APIs with keys scoped to an organisation: records and tokens of its subtree only."""
from __future__ import annotations

from surveyapp.auth.apikeys import create_key
from surveyapp.extensions import db
from surveyapp.models import Organisation, ServicePoint

from .conftest import build_province, dossiers, record


def key_for(app, org_id: int, scope="dossiers") -> str:
    with app.test_request_context():
        _row, key = create_key(db.session.get(Organisation, org_id), scope, "Phần mềm một cửa")
        db.session.commit()
    return key


def test_a_scoped_key_stores_and_issues_only_inside_its_subtree(app):
    with app.app_context():
        kh = build_province()
        finance_counter = ServicePoint(organisation=kh.finance, name="Quầy Tài chính", code="quaytc0001")
        db.session.add(finance_counter)
        db.session.commit()
        ids = {"province": kh.province.id, "justice": kh.justice.id}
        counter_code, finance_counter_code = kh.counter.code, finance_counter.code
    client = app.test_client()
    justice = {"X-API-Key": key_for(app, ids["justice"])}

    ok = client.post("/api/v1/dossiers", json={"dossiers": [record("HS-1", service_point=counter_code)]},
                     headers=justice)
    assert ok.status_code == 200 and ok.json["created"] == 1
    # Another agency's dossier in the batch: refused by name, and nothing of the batch stored.
    mixed = client.post("/api/v1/dossiers", json={"dossiers": [record("HS-2"), record("HS-3", agency="STC")]},
                        headers=justice)
    assert mixed.status_code == 422
    assert [(e["index"], e["field"]) for e in mixed.json["errors"]] == [(1, "MaCoQuan")]
    assert "trong phạm vi" in mixed.json["errors"][0]["message"]
    assert [d.code for d in dossiers(app)] == ["HS-1"]

    body = {"service_point": counter_code, "dossiers": ["HS-1"]}
    assert client.post("/api/v1/dossier-tokens", json=body, headers=justice).status_code == 200
    other = client.post("/api/v1/dossier-tokens", json={**body, "service_point": finance_counter_code}, headers=justice)
    assert other.status_code == 404 and other.json["error"] == "unknown_service_point"

    # The province's key covers both departments.
    province = {"X-API-Key": key_for(app, ids["province"])}
    assert client.post("/api/v1/dossiers", json={"dossiers": [record("HS-3", agency="STC")]},
                       headers=province).status_code == 200
    assert client.post("/api/v1/dossier-tokens", json={**body, "service_point": finance_counter_code},
                       headers=province).status_code == 200
    # A report key posts nothing; a key of a deactivated organisation is no key.
    reports = {"X-API-Key": key_for(app, ids["justice"], "reports")}
    assert client.post("/api/v1/dossiers", json={"dossiers": [record("HS-4")]}, headers=reports).status_code == 403
    with app.app_context():
        db.session.get(Organisation, ids["justice"]).active = False
        db.session.commit()
    r = client.post("/api/v1/dossiers", json={"dossiers": [record("HS-4")]}, headers=justice)
    assert r.status_code == 401 and r.json["message"].startswith("Thiếu khóa API")
    assert sorted(d.code for d in dossiers(app)) == ["HS-1", "HS-3"]
