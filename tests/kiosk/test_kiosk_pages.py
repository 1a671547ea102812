"""Kiosk pages, service worker, manifest, the OpenAPI document, and the device CLI."""
from __future__ import annotations

import copy
import json
import re

import jsonschema_rs
import sqlalchemy as sa
from kiosk_helpers import stored_count

from surveyapp.extensions import db
from surveyapp.kiosk import devices
from surveyapp.models import KioskDevice, Organisation, ServicePoint


def test_kiosk_page_carries_both_languages_and_no_inline_code(client, kiosk):
    res = client.get("/kiosk/")
    assert res.status_code == 200
    html = res.get_data(as_text=True)
    assert "'unsafe-inline'" not in res.headers["Content-Security-Policy"]
    # Only external scripts, and one JSON data block (not executed, so CSP allows it).
    for tag in re.findall(r"<script[^>]*>", html):
        assert 'src="' in tag or 'type="application/json"' in tag, tag
    assert "style=" not in html
    strings = json.loads(re.search(r'<script type="application/json" id="kiosk-strings">(.*?)</script>', html, re.S)[1])
    assert strings["vi"]["question"] == "Ông/Bà có hài lòng với sự phục vụ hôm nay không?"
    assert strings["en"]["question"] == "Are you satisfied with the service you received today?"
    assert [strings["vi"][f"v{v}"] for v in (4, 3, 2, 1)] == ["Rất hài lòng", "Hài lòng", "Chưa hài lòng", "Không hài lòng"]
    assert strings["en"]["waiting_time"] == "Waiting time" and strings["vi"]["switch_lang"] == "English"
    # One cached copy serves every language: the page does not depend on ?lang=.
    assert json.loads(re.search(r'id="kiosk-strings">(.*?)</script>', client.get("/kiosk/?lang=en").get_data(as_text=True),
                                re.S)[1]) == strings


def test_service_worker_manifest_and_enrol_page(client):
    sw = client.get("/kiosk/sw.js")
    assert sw.status_code == 200 and "javascript" in sw.headers["Content-Type"]
    assert "no-cache" in sw.headers["Cache-Control"]
    manifest = client.get("/kiosk/manifest.webmanifest")
    assert manifest.headers["Content-Type"].startswith("application/manifest+json")
    assert manifest.get_json()["display"] == "fullscreen" and manifest.get_json()["start_url"] == "/kiosk/"
    enrol = client.get("/kiosk/enroll?code=ABCDE-FGHJK")
    assert enrol.status_code == 200 and 'id="code"' in enrol.get_data(as_text=True)
    for asset in ("kiosk/kiosk.js", "kiosk/enroll.js", "kiosk/kiosk.css", "kiosk/icon.svg"):
        assert client.get(f"/static/{asset}").status_code == 200


def test_enrolment_url_is_for_a_qr_code(app_context):
    assert devices.enrolment_url("ABCDE-FGHJK") == "https://khaosat.example.gov.vn/kiosk/enroll?code=ABCDE-FGHJK"


# ---- OpenAPI ----------------------------------------------------------------------------


def _resolve(node, doc):
    """Inline local $refs so that a schema can be checked on its own."""
    if isinstance(node, dict):
        if "$ref" in node:
            target = doc
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            return _resolve(copy.deepcopy(target), doc)
        return {k: _resolve(v, doc) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve(v, doc) for v in node]
    return node


def test_openapi_document_lists_the_endpoints_and_its_examples_work(app, client, kiosk):
    res = client.get("/api/v1/openapi.json")
    assert res.status_code == 200
    doc = json.loads(res.get_data(as_text=True))
    assert doc["openapi"].startswith("3.1")
    for path in ("/api/v1/kiosk/enroll", "/api/v1/kiosk/ratings", "/api/v1/kiosk/heartbeat", "/api/v1/kiosk/config"):
        assert path in doc["paths"], path
    # Every example validates against its own schema...
    checked = 0
    for path, item in doc["paths"].items():
        for method, op in item.items():
            content = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            if "example" in content:
                jsonschema_rs.validator_for(_resolve(content["schema"], doc)).validate(content["example"])
                checked += 1
    assert checked >= 3
    # ...and is accepted by the real endpoints.
    ratings_op = doc["paths"]["/api/v1/kiosk/ratings"]["post"]
    example = ratings_op["requestBody"]["content"]["application/json"]["example"]
    stored = client.post("/api/v1/kiosk/ratings", json=example, headers=kiosk.headers)
    assert stored.status_code == 200
    assert [r["status"] for r in stored.get_json()["results"]] == ["stored"] * len(example["ratings"])
    result_schema = _resolve(ratings_op["responses"]["200"]["content"]["application/json"]["schema"], doc)
    jsonschema_rs.validator_for(result_schema).validate(stored.get_json())
    beat_op = doc["paths"]["/api/v1/kiosk/heartbeat"]["post"]
    beat = client.post("/api/v1/kiosk/heartbeat", json=beat_op["requestBody"]["content"]["application/json"]["example"],
                       headers=kiosk.headers)
    assert beat.status_code == 200
    jsonschema_rs.validator_for(_resolve(beat_op["responses"]["200"]["content"]["application/json"]["schema"], doc)
                                ).validate(beat.get_json())
    assert stored_count(app) == 2


# ---- CLI --------------------------------------------------------------------------------


def test_cli_creates_lists_and_revokes_devices(app, runner, client):
    with app.app_context():
        sp = ServicePoint(organisation=Organisation(code="C1", name="Xã C", sector="administrative"), name="Quầy 3")
        db.session.add(sp)
        db.session.commit()
        sp_code = sp.code
    res = runner.invoke(args=["kiosk-device", "create", "--service-point", sp_code, "--name", "Máy quầy 3"])
    assert res.exit_code == 0, res.output
    code = re.search(r"Enrolment code .*: (\S+)", res.output)[1]
    assert f"/kiosk/enroll?code={code}" in res.output
    token = client.post("/api/v1/kiosk/enroll", json={"code": code}).get_json()["token"]
    client.post("/api/v1/kiosk/heartbeat", json={"queue_length": 4, "app_version": "1.0.0"},
                headers={"Authorization": f"Bearer {token}"})

    with app.app_context():
        device_id = db.session.scalar(sa.select(KioskDevice.id).where(KioskDevice.name == "Máy quầy 3"))
    listing = runner.invoke(args=["kiosk-device", "list"]).output
    assert re.search(rf"^{device_id}\tMáy quầy 3\t{sp_code}\tactive\t\S+ \S+\t1\.0\.0\t4$", listing, re.M), listing

    assert runner.invoke(args=["kiosk-device", "revoke", str(device_id)]).exit_code == 0
    assert client.get("/api/v1/kiosk/config", headers={"Authorization": f"Bearer {token}"}).status_code == 403
    assert "\trevoked\t" in runner.invoke(args=["kiosk-device", "list"]).output

    bad = runner.invoke(args=["kiosk-device", "create", "--service-point", "nope"])
    assert bad.exit_code != 0 and "no service point" in bad.output
