"""Security headers, proxy trust, inert stored XSS, SQL injection in filters, oversized bodies."""
from __future__ import annotations

import io
import re
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from auth_actions import PASSWORD
from surveyapp.security import CSP

from .clients import hidden_fields

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def csp_directives(header: str) -> dict[str, list[str]]:
    out = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def assert_security_headers(response, *, https: bool = False) -> None:
    h = response.headers
    csp = csp_directives(h["Content-Security-Policy"])
    # No inline script, no eval, no inline style: injected markup cannot run or restyle the page.
    for directive in ("script-src", "style-src", "default-src"):
        assert "'unsafe-inline'" not in csp.get(directive, [])
        assert "'unsafe-eval'" not in csp.get(directive, [])
    assert csp["script-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert h["X-Content-Type-Options"] == "nosniff"
    assert h["X-Frame-Options"] == "DENY"
    assert h["Referrer-Policy"] == "same-origin"
    if https:
        assert h["Strict-Transport-Security"].startswith("max-age=31536000")
    else:
        # HSTS over plain HTTP is ignored by browsers and would pin a broken setup.
        assert "Strict-Transport-Security" not in h


@pytest.mark.parametrize("path,status", [
    ("/healthz", 200), ("/readyz", 200), ("/static/css/app.css", 200), ("/no-such-page", 404),
    ("/api/v1/no-such-endpoint", 404),
])
def test_security_headers_on_every_kind_of_response(client, path, status):
    r = client.get(path)
    assert r.status_code == status
    assert_security_headers(r)


def test_hsts_when_served_over_tls(client):
    r = client.get("/healthz", base_url="https://khaosat.example.gov.vn")
    assert_security_headers(r, https=True)


def test_hsts_behind_a_trusted_tls_proxy_only(make_app):
    proxied = make_app(PROXY_FIX_X_PROTO=1, PROXY_FIX_X_FOR=1).test_client()
    r = proxied.get("/healthz", headers={"X-Forwarded-Proto": "https"})
    assert_security_headers(r, https=True)
    # Without a configured proxy the header is a client's claim, not a fact: no HSTS on it.
    direct = make_app().test_client()
    r = direct.get("/healthz", headers={"X-Forwarded-Proto": "https"})
    assert_security_headers(r, https=False)


def test_proxy_for_trusts_exactly_the_configured_hops(make_app):
    """One proxy configured: the address nginx saw is used, one a client forged in front of it is not."""
    app = make_app(PROXY_FIX_X_FOR=1)
    seen = {}

    @app.get("/_addr")
    def addr():
        from flask import request

        seen["addr"] = request.remote_addr
        return "ok"

    app.test_client().get("/_addr", headers={"X-Forwarded-For": "6.6.6.6, 203.0.113.9"},
                          environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert seen["addr"] == "203.0.113.9"


def test_no_inline_script_style_or_handlers_in_templates():
    """The CSP forbids them, so any that crept in would silently break a page: catch them here."""
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        if path.relative_to(TEMPLATES).parts[0] == "email":
            continue  # e-mail bodies are never served under the CSP, and mail clients need inline styles
        text = path.read_text(encoding="utf-8")
        for m in re.finditer(r"<script\b([^>]*)>", text, re.I):
            # A JSON data block is never executed; any other script must come from a file.
            if "src=" not in m.group(1) and 'type="application/json"' not in m.group(1):
                offenders.append(f"{path.name}: inline <script>")
        if re.search(r"<style\b", text, re.I):
            offenders.append(f"{path.name}: <style> block")
        if re.search(r"\sstyle\s*=", text, re.I):
            offenders.append(f"{path.name}: style= attribute")
        if re.search(r"\son[a-z]+\s*=", text, re.I):
            offenders.append(f"{path.name}: inline event handler")
        if re.search(r"javascript:", text, re.I):
            offenders.append(f"{path.name}: javascript: URL")
    assert not offenders, offenders


def test_csp_constant_has_no_inline_allowances():
    assert "unsafe-inline" not in CSP and "unsafe-eval" not in CSP and "*" not in CSP


# ---------------------------------------------------------------------------------------------
# Hostile data through the real paths: stored XSS, SQL injection in filters, oversized bodies.

XSS = [
    '<script>alert("xss")</script>',
    '<img src=x onerror=alert(1)>',
    '"><svg onload=alert(1)>',
    "javascript:alert(1)",
    "{{ config.SECRET_KEY }}",
]
SQLI = ["' OR '1'='1", "1 OR 1=1", "1; DROP TABLE response; --", "' UNION SELECT username, password_hash FROM \"user\" --",
        "%' OR name LIKE '%", "0x7fffffff", "-1", "9999999999999999999999"]
SECRET = "BIMAT-B-7731"  # only in organisation B's data; a viewer of A must never see it
SOURCE = Path(__file__).resolve().parents[2] / "surveyapp"


def query_parameter_names() -> set[str]:
    """Every query-string parameter the code reads: new filters are covered without editing this test."""
    names = set()
    pattern = re.compile(r"""args(?:\.get|\.getlist)?[\(\[]\s*["']([a-z_]+)["']""")
    for path in SOURCE.rglob("*.py"):
        names |= set(pattern.findall(path.read_text(encoding="utf-8")))
    return names | {"lang"}


def hostile_world(app, standard):
    """Org A (the viewer's) with XSS in its comments, sent through the citizen form; org B with
    a secret in its names and comments."""
    from datetime import date

    from surveyapp.citizen.forms import sign_start
    from surveyapp.extensions import db
    from surveyapp.models import Organisation, ServicePoint, Survey, User

    out = {}
    for code, name in (("SEC-A", "Xã An Toàn"), ("SEC-B", f"Xã {SECRET}")):
        org = Organisation(code=code, name=name, sector="administrative")
        sp = ServicePoint(organisation=org, name=f"Quầy {name}")
        survey = Survey(questionnaire=standard["sipas-admin"], organisation=org, name=f"Khảo sát {name}",
                        starts_on=date(2026, 1, 1), status="open", channel_qr=True, channel_kiosk=False,
                        service_points=[sp])
        db.session.add_all([org, sp, survey])
        db.session.commit()
        out[code] = {"org": org.id, "sp": sp.id, "code": sp.code, "survey": survey.id}
    viewer = User(username="viewer-a", role="viewer", organisation_id=out["SEC-A"]["org"])
    viewer.set_password(PASSWORD)
    admin = User(username="admin-all", role="admin")
    admin.set_password(PASSWORD)
    db.session.add_all([viewer, admin])
    db.session.commit()

    client = app.test_client()
    questions = standard["sipas-admin"].questions
    required = {f"q_{q.code}": q.options[0].code for q in questions if q.required and q.options}
    comments = {"SEC-A": XSS, "SEC-B": [f"Góp ý {SECRET}"]}
    for code, texts in comments.items():
        for text in texts:
            page = client.get(f"/s/{out[code]['code']}")
            assert page.status_code == 200
            fields = hidden_fields(page.get_data(as_text=True))
            # A citizen who took a minute over the form: not flagged "too fast", so shown by default.
            fields["started"] = sign_start(fields["key"], out[code]["survey"], int(time.time() * 1000) - 60_000)
            answers = {f"q_{q.code}": q.options[3].code for q in questions if q.type == "rating"}
            r = client.post(f"/s/{out[code]['code']}", data=fields | required | answers | {"q_comment": text})
            assert r.status_code == 303, r.get_data(as_text=True)[:500]
    return out


def get_routes(app, world) -> list[str]:
    """Every GET route, with path arguments filled from org A's objects (ids, codes)."""
    from surveyapp.extensions import db
    from surveyapp.models import Question

    question_id = db.session.scalar(sa.select(Question.id).where(Question.code == "comment").limit(1))
    values = {"org_id": world["SEC-A"]["org"], "sp_id": world["SEC-A"]["sp"], "survey_id": world["SEC-A"]["survey"],
              "code": world["SEC-A"]["code"], "question_id": question_id, "kind": "index", "filename": "css/app.css"}
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        if any(arg not in values for arg in rule.arguments):
            continue
        urls.append(rule.build({a: values[a] for a in rule.arguments}, append_unknown=False)[1])
    return sorted(set(urls))


def test_stored_xss_in_comments_is_inert_everywhere(app, standard, auth):
    world = hostile_world(app, standard)
    pages_with_comments = 0
    for username in ("viewer-a", "admin-all"):
        client = auth.client_for(username)
        for url in get_routes(app, world):
            r = client.get(url)
            assert r.status_code < 500, url
            if not r.mimetype.startswith("text/html"):
                continue
            html = r.get_data(as_text=True)
            for payload in XSS[:3]:
                assert payload not in html, f"{url} renders a comment as markup"
            assert "onerror=alert" not in html.replace("onerror=alert(1)&gt;", "")
            if "&lt;script&gt;alert(" in html:
                pages_with_comments += 1
                assert_security_headers(r)
    # The comments really were shown somewhere (escaped), or the test proved nothing.
    assert pages_with_comments >= 1


def test_sql_injection_in_every_query_parameter(app, standard, auth):
    world = hostile_world(app, standard)
    params = sorted(query_parameter_names())
    assert {"from", "to", "sector", "channel", "q", "sort"} <= set(params)
    client = auth.client_for("viewer-a")
    anonymous = app.test_client()

    def check(c, url, query):
        r = c.get(url, query_string=query)
        assert r.status_code < 500, (url, query, r.status_code)
        if r.mimetype.startswith(("text/", "application/json")):
            assert SECRET not in r.get_data(as_text=True), (url, query)

    urls = get_routes(app, world)
    for url in urls:
        heavy = url.endswith((".pdf", ".xlsx", ".png"))
        # Every parameter at once with the same payload, signed in and anonymous.
        for payload in SQLI[::4] if heavy else SQLI[::2]:
            for c in (client, anonymous):
                check(c, url, {p: payload for p in params})
    # Each parameter alone on the officials' read pages, where the filters live, so that an
    # early refusal of one parameter cannot hide what another does; payloads rotate.
    read_pages = [u for u in urls if u.startswith("/admin/") and not u.endswith(
        ("/new", "/edit", "/toggle", "/close", "/code", ".pdf", ".xlsx", ".svg", "/poster", "/posters"))]
    for url in read_pages:
        for i, name in enumerate(params):
            check(client, url, {name: SQLI[i % len(SQLI)]})

    from surveyapp.extensions import db
    from surveyapp.models import Organisation, Response

    # Nothing was dropped or added by any of it.
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Response)) == len(XSS) + 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Organisation)) == 2


@pytest.mark.parametrize("path", ["/admin/organisations/99999999999999999999999/edit",
                                  "/admin/reports/point/99999999999999999999999"])
def test_huge_integer_in_path_is_404_not_500(client, path):
    assert client.get(path).status_code in (302, 404)  # 302: to sign-in first, never a crash


def test_huge_integer_in_query_is_400_not_500(make_app):
    app = make_app(PROPAGATE_EXCEPTIONS=False)
    r = app.test_client().get("/healthz?org=99999999999999999999999")
    assert r.status_code == 400
    assert app.test_client().get("/healthz?org=12345").status_code == 200


class UnreadableBody(io.RawIOBase):
    """A request body that fails the test if anything reads it."""

    def readable(self):
        return True

    def readinto(self, b):
        raise AssertionError("the oversized body was read")


@pytest.mark.parametrize("path,content_type", [
    ("/s/{code}", "application/x-www-form-urlencoded"),
    ("/s/{code}", "multipart/form-data; boundary=x"),
    ("/api/v1/kiosk/ratings", "application/json"),
    ("/api/v1/kiosk/enroll", "application/json"),
    ("/login", "application/x-www-form-urlencoded"),
])
def test_oversized_body_refused_before_it_is_read(app, standard, path, content_type):
    world = hostile_world_light(standard)
    size = 50 * 1024 * 1024
    r = app.test_client().post(path.format(code=world), environ_overrides={
        "wsgi.input": UnreadableBody(), "CONTENT_LENGTH": str(size), "CONTENT_TYPE": content_type})
    assert r.status_code == 413
    assert_security_headers(r)


def hostile_world_light(standard) -> str:
    from datetime import date

    from surveyapp.extensions import db
    from surveyapp.models import Organisation, ServicePoint, Survey

    org = Organisation(code="BIG", name="Xã Lớn", sector="administrative")
    sp = ServicePoint(organisation=org, name="Quầy")
    db.session.add_all([org, sp, Survey(questionnaire=standard["quick-rating"], organisation=org, name="S",
                                        starts_on=date(2026, 1, 1), status="open", service_points=[sp])])
    db.session.commit()
    return sp.code


def test_kiosk_batch_and_form_limits_hold(app, standard):
    """Within the byte limit, the count limits still hold: a batch over the kiosk limit and a
    comment over its length are refused whole, and nothing is stored."""
    from surveyapp.extensions import db
    from surveyapp.kiosk.devices import create_device, enrol
    from surveyapp.models import ServicePoint

    code = hostile_world_light(standard)
    sp = db.session.scalar(sa.select(ServicePoint).where(ServicePoint.code == code))
    _d, enrol_code = create_device(sp, "Máy")
    db.session.commit()
    _d, token = enrol(enrol_code)
    client = app.test_client()
    limit = app.config.get("KIOSK_BATCH_LIMIT", 1000)
    batch = [{"id": f"00000000-0000-4000-8000-{i:012d}", "value": 4, "created_at": "2026-11-20T08:00:00+07:00"}
             for i in range(limit + 1)]
    r = client.post("/api/v1/kiosk/ratings", json={"ratings": batch}, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 413 and r.is_json
    # Just over 1 MiB of JSON, even with few ratings: refused by size.
    r = client.post("/api/v1/kiosk/ratings", json={"ratings": [], "pad": "x" * (1024 * 1024)},
                    headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 413
    from surveyapp.models import Response

    assert db.session.scalar(sa.select(sa.func.count()).select_from(Response)) == 0


def test_nul_bytes_are_refused_everywhere_before_the_database(app, standard):
    """PostgreSQL refuses NUL in text; the app refuses it first, with a 400, on every input."""
    code = hostile_world_light(standard)
    client = app.test_client()
    assert client.get(f"/s/{code}%00x").status_code == 400
    assert client.get("/admin/reports/comments?q=a%00b").status_code == 400
    assert client.post(f"/s/{code}", data={"q_rating": "v4", "website": "a\x00"}).status_code == 400
    r = client.post("/api/v1/kiosk/enroll", json={"code": "ABCD\x00EFGH"})
    assert r.status_code == 400 and r.is_json
    r = client.post("/api/v1/dossier-tokens", json={"service_point": "x\x00", "dossiers": ["a"]})
    assert r.status_code == 400
    # An ordinary request with the same fields is not affected.
    assert client.get(f"/s/{code}").status_code == 200
