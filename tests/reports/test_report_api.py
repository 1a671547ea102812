"""GET /api/v1/reports: the numbers of `report --format json` for the same organisation and
period, read with a key scoped to an organisation's subtree; the upward layout validated
against the JSON Schema shipped in the package; errors in Vietnamese; the OpenAPI document."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import jsonschema_rs
import pytest
import sqlalchemy as sa
from flask import current_app

from surveyapp.auth.apikeys import create_key, revoke_key
from surveyapp.dossiers.records import WRITTEN, write
from surveyapp.extensions import db
from surveyapp.models import ApiKey, AuditEvent, Organisation, ServicePoint
from surveyapp.reports.layout import LAYOUT_VERSION, SCHEMA_PATH

FROM = (date.today() - timedelta(days=400)).isoformat()
TO = date.today().isoformat()


def org(code: str) -> Organisation:
    return db.session.scalar(sa.select(Organisation).where(Organisation.code == code))


def new_key(code: str, scope: str = "reports") -> str:
    with current_app.test_request_context():
        _row, key = create_key(org(code), scope, f"Hệ thống {code}")
    db.session.commit()
    return key


def get(client, key: str | None, **query):
    headers = {"X-API-Key": key} if key is not None else {}
    return client.get("/api/v1/reports", query_string=query, headers=headers)


def cli_json(code: str, *extra) -> dict:
    result = current_app.test_cli_runner().invoke(
        args=["report", "--org", code, "--from", FROM, "--to", TO, "--format", "json", *extra])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def add_dossiers(sp: ServicePoint, count: int, day: datetime, prefix: str = "HS") -> None:
    write([{**dict.fromkeys(WRITTEN), "organisation_id": sp.organisation_id, "service_point_id": sp.id,
            "code": f"{prefix}-{sp.id}-{i}", "code_hash": f"{prefix}{sp.id}h{i}", "received_at": day,
            "due_at": day + timedelta(days=3), "returned_at": day + timedelta(days=1), "channel": "counter"}
           for i in range(count)])
    db.session.commit()


def validator():
    return jsonschema_rs.validator_for(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")), validate_formats=True)


def test_the_api_gives_the_numbers_of_report_json_for_the_same_org_and_period(client, demo):
    # Dossiers at one commune's point: Decision 766 and dossier-derived weights are in play too.
    commune = org("KA-TANPHU")
    add_dossiers(commune.service_points[0], 40, datetime.combine(date.today() - timedelta(days=5), datetime.min.time()))
    key = new_key("KA")
    for code in ("KA", "KA-TANPHU", "KA-SYT"):
        r = get(client, key, org=code, **{"from": FROM, "to": TO})
        assert r.status_code == 200, r.json
        assert r.json == cli_json(code)
        assert r.json["layout_version"] == LAYOUT_VERSION and r.json["scope_code"] == code
    whole = get(client, key, **{"from": FROM, "to": TO}).json
    assert whole["scope_code"] == "KA"  # no ?org=: the key's own organisation
    units = {u["code"]: u for s in whole["sections"] for u in s["units"]}
    assert units["KA-TANPHU"]["indicator_766"]["value"] == 1.0
    assert {u["weight_source"] for s in whole["sections"] for u in s["units"]} >= {"mixed", "entered"}
    # English labels on request, the same numbers.
    en = get(client, key, org="KA", lang="en", **{"from": FROM, "to": TO}).json
    assert en == cli_json("KA", "--lang", "en")
    assert [s["headline"] for s in en["sections"]] == [s["headline"] for s in whole["sections"]]
    # One questionnaire's section only.
    qid = whole["sections"][1]["questionnaire_id"]
    only = get(client, key, questionnaire=qid, **{"from": FROM, "to": TO}).json
    assert [s["questionnaire_id"] for s in only["sections"]] == [qid]
    assert only["sections"][0] == whole["sections"][1]


def test_real_output_validates_against_the_shipped_schema(client, demo):
    commune = org("KA-TANPHU")
    add_dossiers(commune.service_points[0], 12, datetime.combine(date.today() - timedelta(days=5), datetime.min.time()))
    v = validator()
    data = cli_json("KA")
    errors = [str(e) for e in v.iter_errors(data)]
    assert not errors, errors[:5]
    assert any(u["indicator_766"] for s in data["sections"] for u in s["units"])
    assert any(s["aspects"] for s in data["sections"]) and any(s["previous"] is None for s in data["sections"])
    api = get(client, new_key("KA-HCC"), **{"from": FROM, "to": TO}).json
    assert v.is_valid(api)
    # The schema is not a formality: a wrong status, a missing field or a stray one is refused.
    bad = json.loads(json.dumps(data))
    bad["sections"][0]["verdict"]["status"] = "ok"
    assert not v.is_valid(bad)
    bad = json.loads(json.dumps(data))
    del bad["sections"][0]["units"][0]["weight_source"]
    assert not v.is_valid(bad)
    bad = json.loads(json.dumps(data))
    bad["computed_in"] = 0.1
    assert not v.is_valid(bad)


def test_csv_layout_carries_the_json_numbers(app, demo):
    import csv
    import io

    result = current_app.test_cli_runner().invoke(
        args=["report", "--org", "KA", "--from", FROM, "--to", TO, "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(result.output)))
    data = cli_json("KA")
    totals = [r for r in rows if r["level"] == "total"]
    assert len(totals) == len(data["sections"])
    for row, section in zip(totals, data["sections"]):
        assert row["layout_version"] == LAYOUT_VERSION and row["unit_code"] == "KA"
        assert row["index"] == f"{section['headline']['estimate'] * 100:.1f}%"
        assert int(row["n"]) == section["headline"]["n"]
        assert row["status"] == section["verdict"]["status"]
        assert float(row["target_value"]) == section["target"]["value"]
        assert row["weight_source"] == section["weight_source"]
    units = [r for r in rows if r["level"] != "total"]
    assert len(units) == sum(len(s["units"]) for s in data["sections"])
    assert {r["unit_code"] for r in units} >= {"KA-SYT", "KA-TANPHU"}


def test_a_key_reads_only_its_subtree(client, demo):
    key = new_key("KA-SYT")
    mine = get(client, key, **{"from": FROM, "to": TO})
    assert mine.status_code == 200 and mine.json["scope_code"] == "KA-SYT"
    child = org("KA-SYT").children[0]
    assert get(client, key, org=child.code).status_code == 200
    for other in ("KA", "KA-HCC", "KA-TANPHU", "KHONG-CO"):
        r = get(client, key, org=other)
        assert r.status_code == 404, other
        assert r.json["error"] == "not_found" and "trong phạm vi của khóa API" in r.json["message"]
        assert "Khánh An" not in r.get_data(as_text=True)
    # A key for the dossier APIs reads no report; a revoked key nothing at all.
    assert get(client, new_key("KA-SYT", "dossiers")).status_code == 403
    row = db.session.scalar(sa.select(ApiKey).where(ApiKey.organisation_id == org("KA-SYT").id,
                                                    ApiKey.scope == "reports"))
    with current_app.test_request_context():
        assert revoke_key(row)
    db.session.commit()
    assert get(client, key).status_code == 401
    # An installation-wide dossier key from the settings is no report key either.
    current_app.config["DOSSIER_API_KEYS"] = "khoa-cai-dat"
    assert get(client, "khoa-cai-dat").status_code == 403


@pytest.mark.parametrize("query,status,message", [
    ({"from": "2026-13-01"}, 400, "Ngày không hợp lệ ở mục from"),
    ({"to": "01/02/2026"}, 400, "Ngày không hợp lệ ở mục to"),
    ({"from": "2026-05-01", "to": "2026-04-01"}, 400, "Ngày kết thúc phải sau ngày bắt đầu"),
    ({"from": "2010-01-01", "to": "2026-01-01"}, 400, "Khoảng thời gian tối đa là 10 năm"),
    ({"channel": "fax"}, 400, "Kênh không hợp lệ"),
    ({"questionnaire": "abc"}, 400, "phải là một số"),
    ({"questionnaire": "²"}, 400, "phải là một số"),
])
def test_bad_input_gets_a_vietnamese_message(client, standard, query, status, message):
    db.session.add(Organisation(code="XA", name="Xã Thử", sector="administrative"))
    db.session.commit()
    r = get(client, new_key("XA"), **query)
    assert r.status_code == status and r.json["error"] == "bad_filter"
    assert message in r.json["message"]


def test_no_key_or_a_wrong_key_gets_401_with_a_vietnamese_message(client, standard):
    db.session.add(Organisation(code="XA", name="Xã Thử", sector="administrative"))
    db.session.commit()
    key = new_key("XA")
    for presented in (None, "", "sai", key[:-1] + ("A" if key[-1] != "A" else "B"), "sak_000000000000_x",
                      "sak_" + key.split("_")[1] + "_sai"):
        r = get(client, presented)
        assert r.status_code == 401, presented
        assert r.json == {"error": "unauthorized",
                          "message": "Thiếu khóa API hoặc khóa không hợp lệ (tiêu đề X-API-Key)."}
        assert r.headers["WWW-Authenticate"] == 'ApiKey header="X-API-Key"'
    assert get(client, key).status_code == 200
    assert get(client, None, lang="en").json["message"] == "Missing or invalid API key (header X-API-Key)."


def test_keys_are_stored_hashed_and_shown_once(app, standard):
    db.session.add(Organisation(code="XA", name="Xã Thử", sector="administrative"))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["api-keys", "create", "--org", "XA", "--scope", "reports",
                                                "--name", "Cổng dữ liệu tỉnh"])
    assert result.exit_code == 0, result.output
    key = result.output.strip().splitlines()[-1]
    assert key.startswith("sak_")
    row = db.session.scalar(sa.select(ApiKey))
    stored = json.dumps([[getattr(row, c.key) for c in sa.inspect(ApiKey).column_attrs]], default=str)
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.object_type == "ApiKey")).all()
    assert [e.action for e in events] == ["api_key.create"]
    secret = key.split("_", 2)[2]
    assert secret not in stored and secret not in json.dumps([e.after for e in events])
    assert "key_hash" not in events[0].after
    listed = app.test_cli_runner().invoke(args=["api-keys", "list"]).output
    assert f"sak_{row.prefix}_…" in listed and secret not in listed and "Cổng dữ liệu tỉnh" in listed
    assert app.test_client().get("/api/v1/reports", headers={"X-API-Key": key}).status_code == 200
    assert app.test_cli_runner().invoke(args=["api-keys", "revoke", str(row.id)]).exit_code == 0
    assert app.test_client().get("/api/v1/reports", headers={"X-API-Key": key}).status_code == 401
    assert [e.action for e in db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.object_type == "ApiKey").order_by(AuditEvent.id))] == ["api_key.create", "api_key.revoke"]
    refused = app.test_cli_runner().invoke(args=["api-keys", "create", "--org", "NOPE", "--scope", "reports",
                                                 "--name", "x"])
    assert refused.exit_code != 0 and "NOPE" in refused.output


def test_wrong_keys_are_counted_per_address_over_every_keyed_endpoint(make_app, standard):
    app = make_app(RATELIMIT_ENABLED=True, API_BAD_KEY_RATE_LIMIT="3 per minute")
    with app.app_context():
        db.session.add(Organisation(code="XA", name="Xã Thử", sector="administrative"))
        db.session.commit()
        key = new_key("XA")
        client = app.test_client()
        env = {"REMOTE_ADDR": "198.51.100.7"}

        def report(k):
            return client.get("/api/v1/reports", headers={"X-API-Key": k}, environ_base=env).status_code

        def tokens(k):
            return client.post("/api/v1/dossier-tokens", json={"service_point": "x", "dossiers": ["HS"]},
                               headers={"X-API-Key": k}, environ_base=env).status_code

        assert [report("sai-1"), tokens("sai-2"), report("sai-3"), tokens("sai-4"), report("sai-5")] == [
            401, 401, 401, 429, 429]
        assert report(key) == 200  # a right key is never held up by the wrong ones
        assert client.get("/api/v1/reports", headers={"X-API-Key": "sai"},
                          environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code == 401


def test_the_openapi_document_describes_the_report_api(client, demo):
    doc = client.get("/api/v1/openapi.json").json
    op = doc["paths"]["/api/v1/reports"]["get"]
    assert op["security"] == [{"ReportApiKey": []}]
    assert {p["name"] for p in op["parameters"]} >= {"org", "from", "to", "questionnaire"}
    assert set(op["responses"]) >= {"200", "400", "401", "404"}
    assert op["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ReportResult"}
    schemas = doc["components"]["schemas"]
    assert schemas["ReportResult"]["properties"]["sections"]["items"] == {"$ref": "#/components/schemas/ReportSection"}
    assert doc["components"]["securitySchemes"]["ReportApiKey"]["name"] == "X-API-Key"


def test_the_api_conforms_to_its_openapi_document(app, demo):
    """schemathesis: valid requests get responses whose status, type and body the document declares."""
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    key = new_key("KA-SYT")
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operation = schema["/api/v1/reports"]["GET"]
    statuses = set()

    @settings(max_examples=12, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(case=operation.as_strategy())
    def call(case):
        response = case.call(headers={"X-API-Key": key})
        case.validate_response(response, checks=[not_a_server_error, status_code_conformance,
                                                 content_type_conformance, response_schema_conformance])
        statuses.add(response.status_code)

    call()
    assert 200 in statuses or 404 in statuses
