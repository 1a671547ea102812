"""POST /api/v1/dossiers: authenticated, idempotent by dossier code, all or nothing."""
from __future__ import annotations

import hashlib
from datetime import datetime

import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.models import Dossier

from .conftest import API_KEY, dossiers, province_in, record


def test_local_timestamps_become_utc(app):
    from surveyapp.dossiers.records import format_local_timestamp, parse_local_timestamp

    # Asia/Ho_Chi_Minh is UTC+7: 08:30 local on 1 December is 01:30 UTC; midnight is the day before.
    assert parse_local_timestamp("20261201083000") == datetime(2026, 12, 1, 1, 30)
    assert parse_local_timestamp("20260101000000") == datetime(2025, 12, 31, 17, 0)
    assert format_local_timestamp(datetime(2026, 12, 1, 1, 30)) == "20261201083000"
    for bad in ("2026-12-01", "20261301083000", "2026120108300", "abcdefghijklmn"):
        try:
            parse_local_timestamp(bad)
        except ValueError:
            continue
        raise AssertionError(bad)


def test_batches_are_idempotent_all_or_nothing_and_keyed(make_app):
    digest = hashlib.sha256(API_KEY.encode()).hexdigest()
    app = make_app(WTF_CSRF_ENABLED=True, DOSSIER_API_KEYS=digest)
    kh = province_in(app)
    client = app.test_client()
    key = {"X-API-Key": API_KEY}
    batch = {"dossiers": [record("HS-1", returned="20261004090000", channel="online"),
                          record("HS-2", agency="STC", service_point=""),
                          record("HS-1", agency="STC")]}  # the same code at another agency is another dossier
    assert client.post("/api/v1/dossiers", json=batch).status_code == 401
    assert client.post("/api/v1/dossiers", json=batch, headers={"X-API-Key": "sai"}).status_code == 401
    first = client.post("/api/v1/dossiers", json=batch, headers=key)
    assert first.status_code == 200, first.json  # CSRF-exempt although CSRF is on
    assert first.json == {"created": 3, "updated": 0, "unchanged": 0}
    stored = [(d.organisation_id, d.code, d.received_at, d.returned_at, d.channel) for d in dossiers(app)]
    assert (kh.justice.id, "HS-1", datetime(2026, 10, 1, 1, 0), datetime(2026, 10, 4, 2, 0), "online") in stored
    # The same batch again: the same rows, nothing duplicated or touched.
    again = client.post("/api/v1/dossiers", json=batch, headers=key)
    assert again.json == {"created": 0, "updated": 0, "unchanged": 3}
    assert [(d.organisation_id, d.code, d.received_at, d.returned_at, d.channel) for d in dossiers(app)] == stored
    # Re-posting with a change updates in place.
    changed = {"dossiers": [record("HS-2", agency="STC", returned="20261006100000")]}
    assert client.post("/api/v1/dossiers", json=changed, headers=key).json == {
        "created": 0, "updated": 1, "unchanged": 0}
    assert len(dossiers(app)) == 3
    with app.app_context():
        assert db.session.scalar(sa.select(Dossier.returned_at).where(
            Dossier.organisation_id == kh.finance.id, Dossier.code == "HS-2")) == datetime(2026, 10, 6, 3, 0)

    # One bad record: 422, every error by index and field in Vietnamese, nothing stored.
    bad = {"dossiers": [record("HS-9"), record("HS-10", received="2026-10-01"), record("", agency="KHONGCO"),
                        record("HS-11", channel="fax")]}
    r = client.post("/api/v1/dossiers", json=bad, headers=key)
    assert r.status_code == 422
    errors = {(e["index"], e["field"]): e["message"] for e in r.json["errors"]}
    assert errors[(1, "NgayTiepNhan")] == "Ngày giờ không đúng dạng yyyyMMddHHmmss."
    assert errors[(2, "MaHoSo")] == "Thiếu giá trị bắt buộc."
    assert "KHONGCO" in errors[(2, "MaCoQuan")]
    assert (3, "KenhNop") in errors and (0, "MaHoSo") not in errors
    assert len(dossiers(app)) == 3 and "HS-9" not in {d.code for d in dossiers(app)}
    dup = client.post("/api/v1/dossiers", json={"dossiers": [record("HS-7"), record("HS-7")]}, headers=key)
    assert dup.status_code == 422 and dup.json["errors"][0]["index"] == 1
    for malformed in ([1, 2], {"dossiers": []}, {"dossiers": [record("X")], "more": 1},
                      {"dossiers": [record(f"M{i}") for i in range(1001)]}):
        assert client.post("/api/v1/dossiers", json=malformed, headers=key).status_code == 400
    assert len(dossiers(app)) == 3

    doc = client.get("/api/v1/openapi.json").json
    op = doc["paths"]["/api/v1/dossiers"]["post"]
    assert op["security"] == [{"DossierApiKey": []}] and "422" in op["responses"]
    assert "DossierErrors" in doc["components"]["schemas"]


def test_dossier_tokens_carry_procedure_and_field(make_app):
    from surveyapp.qr import read_dossier_token, verify_dossier_token
    from tests.citizen.conftest import build_place
    from tests.citizen.test_citizen_survey import standard_for

    app = make_app(DOSSIER_API_KEYS=API_KEY)
    with app.app_context():
        counter_code = build_place(standard_for(app)).counter.code
    client = app.test_client()
    body = {"service_point": counter_code,
            "dossiers": ["HS-1", {"code": "HS-2", "procedure": "1.004227", "field": "HT"}, {"code": "HS-3"}]}
    r = client.post("/api/v1/dossier-tokens", json=body, headers={"X-API-Key": API_KEY})
    assert r.status_code == 200, r.json
    tokens = [t["url"].split("?d=")[1] for t in r.json["tokens"]]
    assert [t["dossier"] for t in r.json["tokens"]] == ["HS-1", "HS-2", "HS-3"]
    with app.app_context():
        plain, coded, bare = (read_dossier_token(t) for t in tokens)
        assert (plain.procedure, plain.field, bare.procedure) == (None, None, None)
        assert (coded.procedure, coded.field) == ("1.004227", "HT")
        # The older reader's answer is unchanged for both kinds of token.
        assert verify_dossier_token(tokens[1]) == (coded.dossier_hash, counter_code)
        tampered = tokens[1][:-30] + ("A" if tokens[1][-30] != "A" else "B") + tokens[1][-29:]
        assert read_dossier_token(tampered) is None
    for bad in ({"code": ""}, {"code": "HS", "other": 1}, {"code": "HS", "field": 5}, {"procedure": "x"}):
        r = client.post("/api/v1/dossier-tokens", json={"service_point": counter_code, "dossiers": [bad]},
                        headers={"X-API-Key": API_KEY})
        assert r.status_code == 400, bad
