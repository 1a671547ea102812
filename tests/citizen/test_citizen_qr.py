"""QR codes (decoded with a real decoder), posters, dossier tokens, the CLI, the dossier API,
compression and privacy masking."""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import subprocess
import xml.etree.ElementTree as ET
from datetime import date, timedelta

import pytest
from PIL import Image
from pyzbar.pyzbar import decode

from surveyapp import create_app
from surveyapp.extensions import db
from surveyapp.privacy import mask_personal_data
from surveyapp.qr import issue_dossier_token, public_url, qr_png, qr_svg, render_posters, verify_dossier_token
from tests.conftest import base_config

from .conftest import form_start

BASE = "https://khaosat.example.gov.vn"


@pytest.fixture
def plain_app():
    """An app for tests that never touch the database."""
    app = create_app(base_config("sqlite://"))
    with app.test_request_context():
        yield app


def decoded(png: bytes) -> list[tuple[str, str]]:
    return [(s.type, s.data.decode()) for s in decode(Image.open(io.BytesIO(png)))]


def test_qr_png_routes_and_cli_decode_to_exactly_the_short_url(app, place, runner, tmp_path):
    url = public_url(place.counter)
    assert url == f"{BASE}/s/{place.counter.code}"
    assert decoded(qr_png(url)) == [("QRCODE", url)]
    token = issue_dossier_token(place.counter, "HS-1")
    assert decoded(qr_png(public_url(place.counter, token), box_size=6)) == [("QRCODE", f"{url}?d={token}")]

    client = app.test_client()
    png = client.get(f"/s/{place.counter.code}/qr.png")
    assert png.status_code == 200 and png.mimetype == "image/png"
    assert decoded(png.data) == [("QRCODE", f"{BASE}/s/{place.counter.code}")]
    svg = client.get(f"/s/{place.counter.code}/qr.svg")
    assert svg.mimetype == "image/svg+xml" and svg.data.startswith(b"<svg")
    assert client.get("/s/khongcoma9/qr.png").status_code == 404

    out = tmp_path / "quay1.png"
    result = runner.invoke(args=["qr", place.counter.code, "--out", str(out)])
    assert result.exit_code == 0, result.output
    # The command-line decoder from Debian's zbar-tools, as an IT officer would check a print file.
    zbar = subprocess.run(["/usr/bin/zbarimg", "--quiet", "--raw", str(out)], capture_output=True, text=True, check=True)
    assert zbar.stdout.strip() == f"{BASE}/s/{place.counter.code}"
    svg_out = tmp_path / "quay1.svg"
    assert runner.invoke(args=["qr", place.counter.code, "--out", str(svg_out)]).exit_code == 0
    assert svg_out.read_text().startswith("<svg")
    bad = runner.invoke(args=["qr", place.counter.code, "--out", str(tmp_path / "x.gif")])
    assert bad.exit_code != 0 and ".png or .svg" in bad.output
    assert runner.invoke(args=["qr", "khongcoma9", "--out", str(out)]).exit_code != 0


def test_svg_is_well_formed_with_quiet_zone(plain_app):
    svg = qr_svg(f"{BASE}/s/abcdefghjk")
    root = ET.fromstring(svg)
    size = int(root.get("viewBox").split()[2])
    assert (size - 8 - 17) % 4 == 0  # a QR version (17 + 4v modules) plus four modules of quiet zone a side
    rect, path = list(root)
    assert rect.get("fill") == "#fff" and path.get("fill") == "#000"
    assert path.get("d").startswith("M4 4h7")  # the finder pattern starts after the quiet zone


def test_service_points_and_posters(app, place, runner, tmp_path):
    table = runner.invoke(args=["service-points"])
    assert table.exit_code == 0
    assert "quay1abcde" in table.output and "Quầy 1 – Tư pháp" in table.output and "P-HCC" in table.output
    rows = json.loads(runner.invoke(args=["service-points", "--org", "P-HCC", "--format", "json"]).output)
    assert [(r["code"], r["organisation"], r["url"]) for r in rows] == [
        ("quay1abcde", "P-HCC", f"{BASE}/s/quay1abcde")]
    place.desk.active = False
    db.session.commit()
    urls = runner.invoke(args=["service-points", "--format", "url"]).output.split()
    assert urls == [f"{BASE}/s/quay1abcde"]
    assert runner.invoke(args=["service-points", "--org", "NOPE"]).exit_code != 0
    place.desk.active = True
    db.session.commit()

    with app.test_request_context():
        html = render_posters([place.counter, place.desk], "A5")
    assert html.count('<section class="poster">') == 2
    assert "Quầy 1 – Tư pháp" in html and "Counter 1 – Justice" in html and "Bộ phận Một cửa" in html
    assert "Mời Ông/Bà quét mã QR để đánh giá sự hài lòng" in html
    assert "Scan the QR code to tell us how satisfied you are" in html
    assert "khaosat.example.gov.vn/s/quay1abcde" in html and "paper-a5" in html
    assert html.count("<svg") == 2 and "<script" not in html and "style=" not in html
    with pytest.raises(ValueError):
        render_posters([place.counter], "Letter")
    out = tmp_path / "posters.html"
    result = runner.invoke(args=["posters", "--org", "P", "--paper", "A4", "--out", str(out)])
    assert result.exit_code == 0 and "2 poster(s)" in result.output
    assert f"{BASE}/static/css/app.css" in out.read_text()


def test_dossier_token_round_trip_refusals_and_cli(app, place, runner, tmp_path):
    token = issue_dossier_token(place.counter, "000.00.12.H33-261121-0001")
    assert len(token) < 100 and "H33" not in token and "0001" not in token
    dossier_hash, code = verify_dossier_token(token)
    assert code == place.counter.code and len(dossier_hash) == 64
    assert verify_dossier_token(issue_dossier_token(place.desk, "000.00.12.H33-261121-0001"))[0] == dossier_hash
    assert verify_dossier_token(issue_dossier_token(place.counter, "000.00.12.H33-261121-0002"))[0] != dossier_hash
    # Tampering, truncation, garbage and expiry are refused.
    flipped = token[:10] + ("A" if token[10] != "A" else "B") + token[11:]
    for bad in (flipped, token[:-2], "", "!!!", "a" * 80):
        assert verify_dossier_token(bad) is None
    old = issue_dossier_token(place.counter, "HS-9", today=date.today() - timedelta(days=91))
    assert verify_dossier_token(old) is None
    assert verify_dossier_token(issue_dossier_token(place.counter, "HS-9", today=date.today() - timedelta(days=89)))
    # Another server key: refused.
    other = create_app(base_config("sqlite://"))
    with other.app_context():
        assert verify_dossier_token(token) is None

    # The command-line tool issues the same links for a list of dossiers.
    listing = tmp_path / "dossiers.txt"
    listing.write_text("HS-2\n\nHS-3\n")
    result = runner.invoke(args=["dossier-tokens", place.counter.code, "HS-1", "--file", str(listing)])
    assert result.exit_code == 0, result.output
    lines = [line.split("\t") for line in result.output.strip().splitlines()]
    assert [d for d, _ in lines] == ["HS-1", "HS-2", "HS-3"]
    for _, url in lines:
        assert url.startswith(f"{BASE}/s/{place.counter.code}?d=")
        assert verify_dossier_token(url.split("?d=")[1])[1] == place.counter.code
    assert runner.invoke(args=["dossier-tokens", place.counter.code]).exit_code != 0


API_KEY = "khoa-bi-mat-cua-phan-mem-mot-cua"


def test_dossier_api(make_app):
    from .conftest import build_place
    from .test_citizen_survey import standard_for

    digest = hashlib.sha256(API_KEY.encode()).hexdigest()
    app = make_app(WTF_CSRF_ENABLED=True, DOSSIER_API_KEYS=f"{digest}, plain-key-2", DOSSIER_API_MAX_ITEMS=3)
    with app.app_context():
        place = build_place(standard_for(app))
        client = app.test_client()
        body = {"service_point": place.counter.code, "dossiers": ["HS-1", "HS-2"]}
        assert client.post("/api/v1/dossier-tokens", json=body).status_code == 401
        wrong = client.post("/api/v1/dossier-tokens", json=body, headers={"X-API-Key": "sai"})
        assert wrong.status_code == 401 and wrong.json["error"] == "unauthorized"
        ok = client.post("/api/v1/dossier-tokens", json=body, headers={"X-API-Key": API_KEY})
        assert ok.status_code == 200  # CSRF-exempt although CSRF is on
        tokens = ok.json["tokens"]
        assert [t["dossier"] for t in tokens] == ["HS-1", "HS-2"]
        assert tokens[0]["url"].startswith(f"{BASE}/s/{place.counter.code}?d=")
        assert client.post("/api/v1/dossier-tokens", json=body, headers={"X-API-Key": "plain-key-2"}).status_code == 200
        key = {"X-API-Key": API_KEY}
        for bad, status in [
            ({"service_point": place.counter.code, "dossiers": ["a", "b", "c", "d"]}, 400),
            ({"service_point": place.counter.code, "dossiers": []}, 400),
            ({"service_point": place.counter.code, "dossiers": ["x" * 65]}, 400),
            ({"service_point": place.counter.code, "dossiers": [1]}, 400),
            ({"service_point": place.counter.code, "dossiers": ["a"], "extra": 1}, 400),
            (["not", "an", "object"], 400),
            ({"service_point": "khongcoma9", "dossiers": ["a"]}, 404),
        ]:
            r = client.post("/api/v1/dossier-tokens", json=bad, headers=key)
            assert r.status_code == status and "error" in r.json, bad
        place.counter.active = False
        db.session.commit()
        assert client.post("/api/v1/dossier-tokens", json=body, headers=key).status_code == 410

        # The link works once: rate, then "already rated".
        place.counter.active = True
        db.session.commit()
        path = tokens[0]["url"][len(BASE):]
        page = client.get(path).get_data(as_text=True)
        csrf = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        fields = form_start(app, place.quick.id, key="z" * 32) | {"q_rating": "v4", "csrf_token": csrf}
        assert client.post(path, data=fields).status_code == 303
        assert client.get(path).status_code == 409


def test_openapi_fragment_is_mergeable():
    from surveyapp.citizen.api import OPENAPI_COMPONENTS, OPENAPI_PATHS

    op = OPENAPI_PATHS["/api/v1/dossier-tokens"]["post"]
    assert op["security"] == [{"DossierApiKey": []}]
    assert set(op["responses"]) >= {"200", "400", "401", "404", "410", "429"}
    assert "DossierApiKey" in OPENAPI_COMPONENTS["securitySchemes"]
    json.dumps(OPENAPI_PATHS)  # plain JSON data


def test_survey_page_and_static_files_are_compressed_and_cached(app, place):
    client = app.test_client()
    r = client.get(f"/s/{place.counter.code}", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert r.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in r.headers["Vary"]
    html = gzip.decompress(r.data).decode()
    assert "Khảo sát sự hài lòng về dịch vụ hành chính công" in html
    # The whole first load (HTML + CSS + JS, compressed) is far below the 30 KB budget.
    total = len(r.data)
    for ref in ("/static/css/app.css?v=", "/static/js/survey.js?v="):
        url = ref + html.split(ref)[1].split('"')[0]
        s = client.get(url, headers={"Accept-Encoding": "gzip"})
        assert s.status_code == 200 and s.headers["Content-Encoding"] == "gzip"
        assert "immutable" in s.headers["Cache-Control"] and "max-age=31536000" in s.headers["Cache-Control"]
        assert gzip.decompress(s.data) == (app.static_folder and open(app.static_folder + url.split("/static")[1].split("?")[0], "rb").read())
        total += len(s.data)
    assert total < 30 * 1024
    plain = client.get(f"/s/{place.counter.code}")
    assert "Content-Encoding" not in plain.headers


@pytest.mark.parametrize("text,expected", [
    ("Gọi 0912 345 678 nhé", "Gọi [số điện thoại] nhé"),
    ("số 0912345678.", "số [số điện thoại]."),
    ("+84 912.345.678 hoặc (028) 3822 1234", "[số điện thoại] hoặc [số điện thoại]"),
    ("email nguyen.van.a+hs@so-tp.gov.vn!", "email [email]!"),
    ("CCCD 001099012345 và 001 099 012 345", "CCCD [số định danh] và [số định danh]"),
    ("CMND 123456789,", "CMND [số định danh],"),
    ("phí 100.000.000 đồng, trễ 2 ngày, ngày 12/11/2026", "phí 100.000.000 đồng, trễ 2 ngày, ngày 12/11/2026"),
    ("mã hồ sơ 1234567 ở quầy 3", "mã hồ sơ 1234567 ở quầy 3"),
])
def test_mask_personal_data(text, expected):
    assert mask_personal_data(text) == expected


def test_cli_without_public_base_url(make_app, tmp_path):
    from .conftest import build_place
    from .test_citizen_survey import standard_for

    app = make_app(PUBLIC_BASE_URL=None)
    with app.app_context():
        place = build_place(standard_for(app))
        runner = app.test_cli_runner()
        listing = runner.invoke(args=["service-points", "--format", "url"])
        assert listing.exit_code == 0 and f"http://127.0.0.1:5000/s/{place.counter.code}" in listing.output
        # A code to print must point at the public address: refused until it is configured.
        refused = runner.invoke(args=["qr", place.counter.code, "--out", str(tmp_path / "q.png")])
        assert refused.exit_code != 0 and "PUBLIC_BASE_URL" in refused.output
