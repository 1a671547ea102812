"""Parsers and hosts: JSON nested to exhaust a parser gets a 400 on every endpoint, and a
forged Host header never reaches an absolute URL (QR codes, the OpenAPI servers)."""
from __future__ import annotations

import io
from datetime import date

import pytest
from PIL import Image
from pyzbar.pyzbar import decode

from surveyapp.config import trusted_hosts
from surveyapp.extensions import db
from surveyapp.kiosk.devices import create_device, enrol
from surveyapp.models import Organisation, ServicePoint, Survey

API_KEY = "parser-test-key"


@pytest.fixture
def setup(app, standard):
    """A service point with an open QR and kiosk survey, an enrolled tablet and a dossier API key,
    so that requests get past authentication to the parsing of their bodies."""
    org = Organisation(code="HOST", name="Xã Thử", sector="administrative")
    sp = ServicePoint(organisation=org, name="Quầy")
    survey = Survey(questionnaire=standard["quick-rating"], organisation=org, name="Nhanh", starts_on=date(2026, 1, 1),
                    status="open", channel_qr=True, channel_kiosk=True, service_points=[sp])
    db.session.add_all([org, sp, survey])
    db.session.commit()
    _device, code = create_device(sp, "Máy 1")
    db.session.commit()
    _device, token = enrol(code)
    db.session.commit()
    app.config["DOSSIER_API_KEYS"] = API_KEY
    return {"code": sp.code, "token": token}


def every_route(app, code: str):
    """(method, path) for every rule of the URL map and every method it takes."""
    adapter = app.url_map.bind("localhost")
    for rule in app.url_map.iter_rules():
        values = {name: (code if name == "code" else "css/app.css" if name == "filename" else 1) for name in rule.arguments}
        path = adapter.build(rule.endpoint, values)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method, path


@pytest.mark.parametrize("depth", [33, 400, 100_000])
def test_deeply_nested_json_is_a_400_on_every_endpoint(app, client, setup, depth):
    body = '{"code": ' + "[" * depth + "]" * depth + ', "ratings": ' + '{"a":' * depth + "1" + "}" * depth + "}"
    headers = {"Authorization": f"Bearer {setup['token']}", "X-API-Key": API_KEY}
    json_endpoints = 0
    for rule, method, path in every_route(app, setup["code"]):
        r = client.open(path, method=method, data=body, content_type="application/json", headers=headers)
        assert r.status_code < 500, (method, path, r.status_code, r.get_data(as_text=True)[:300])
        if path.startswith("/api/") and method == "POST":
            json_endpoints += 1
            assert r.status_code == 400, (path, r.status_code)
            assert r.is_json, path
    assert json_endpoints >= 4  # enrol, ratings, heartbeat, dossier tokens


def test_shallow_json_is_still_accepted(client, setup):
    batch = {"ratings": [{"id": "0b6f7a7e-3d0e-4a53-9a43-5d2c3a1f9e01", "value": 4, "created_at": "2026-11-20T08:15:00Z"}]}
    r = client.post("/api/v1/kiosk/ratings", json=batch, headers={"Authorization": f"Bearer {setup['token']}"})
    assert r.status_code == 200 and r.get_json()["stored"] == 1


FORGED = {"Host": "evil.example"}


@pytest.fixture
def hostless(make_app):
    """No PUBLIC_BASE_URL: absolute URLs are built from the request's host."""
    app = make_app(PUBLIC_BASE_URL=None, PROXY_FIX_X_HOST=1)
    with app.app_context():
        yield app


def test_a_forged_host_is_refused_and_never_reaches_a_qr_code_or_the_openapi_servers(hostless, standard):
    sp_code = _service_point(standard)
    client = hostless.test_client()
    for path in (f"/s/{sp_code}/qr.png", f"/s/{sp_code}/qr.svg", "/api/v1/openapi.json", f"/s/{sp_code}", "/healthz"):
        forged = client.get(path, headers=FORGED)
        assert forged.status_code == 400, path
        assert b"evil.example" not in forged.data
        # Through a proxy that forwards the client's X-Forwarded-Host: the same check.
        assert client.get(path, headers={"X-Forwarded-Host": "evil.example"}).status_code == 400, path
        assert b"evil.example" not in client.get(path, headers={"X-Forwarded-Host": "evil.example"}).data
    # The names that are trusted by default: loopback, which `make demo` serves on.
    png = client.get(f"/s/{sp_code}/qr.png", headers={"Host": "127.0.0.1:5000"})
    assert png.status_code == 200
    assert [s.data.decode() for s in decode(Image.open(io.BytesIO(png.data)))] == [f"http://127.0.0.1:5000/s/{sp_code}"]
    assert client.get("/api/v1/openapi.json").get_json()["servers"] == [{"url": "http://localhost"}]


def test_public_base_urls_host_is_trusted_by_default_and_the_setting_replaces_the_default(make_app, standard):
    app = make_app(PUBLIC_BASE_URL="https://khaosat.tinh.gov.vn")
    assert app.config["TRUSTED_HOSTS"] == ["localhost", "127.0.0.1", "khaosat.tinh.gov.vn"]
    with app.app_context():
        client = app.test_client()
        assert client.get("/healthz", base_url="https://khaosat.tinh.gov.vn").status_code == 200
        assert client.get("/healthz", headers=FORGED).status_code == 400
    strict = make_app(TRUSTED_HOSTS="khaosat.tinh.gov.vn, .tinh.gov.vn")
    assert strict.config["TRUSTED_HOSTS"] == ["khaosat.tinh.gov.vn", ".tinh.gov.vn"]
    with strict.app_context():
        client = strict.test_client()
        assert client.get("/healthz", headers={"Host": "xa.tinh.gov.vn"}).status_code == 200
        assert client.get("/healthz").status_code == 400  # localhost is no longer trusted
    assert trusted_hosts(None, None) == ["localhost", "127.0.0.1"]


def _service_point(standard) -> str:
    org = Organisation(code="QR", name="Xã QR", sector="administrative")
    sp = ServicePoint(organisation=org, name="Quầy")
    db.session.add_all([org, sp])
    db.session.commit()
    return sp.code
