"""The public page of indices: only what is published is public, the numbers are the
dashboard's, small units show no number, and the page is cacheable, small and bilingual."""
from __future__ import annotations

import csv
import io
import itertools
import re

import pytest
import sqlalchemy as sa
from flask import current_app, url_for

from public_helpers import seed_province
from tests.conftest import detached
from surveyapp.extensions import db
from surveyapp.models import AuditEvent, Organisation, Publication, ServicePoint, Survey
from surveyapp.public.service import public_period
from surveyapp.reports.model import build_report


@pytest.fixture
def province(app):
    """The province, its rows detached (read them in the test; fetch them again to follow links)."""
    from surveyapp.seed import seed_standard

    with app.app_context():
        province = seed_province(seed_standard())
        detached(*vars(province).values())
        return province


@pytest.fixture
def published(province, runner):
    result = runner.invoke(args=["publish", province.a.code])
    assert result.exit_code == 0, result.output
    return province


def numbers_of(org: Organisation) -> set[str]:
    """Every percentage of ``org``'s report (index and interval ends), as the page, the card and
    the open data would write them."""
    with current_app.test_request_context("/"):
        report = build_report(db.session.get(Organisation, org.id), public_period())
    out = set()
    for s in report.sections:
        for e in [s.headline] + [u.estimate for u in s.units]:
            for v in (e.estimate, e.low, e.high):
                if v is not None:
                    out |= {f"{v * 100:.1f}", f"{v * 100:.1f}".replace(".", ","), f"{round(v, 4)}"}
    return out


def test_the_page_shows_the_dashboards_numbers_with_verdicts_trend_and_small_units_hidden(published, client, app):
    a = published.a
    with app.test_request_context("/"):
        report = build_report(db.session.get(Organisation, a.id), public_period())
    data = client.get(f"/p/{a.code}.json").get_json()
    assert data["licence"].startswith("CC BY 4.0")
    assert data["period"]["from"] == public_period().date_from.isoformat()
    ind = data["indicators"][0]
    head, section = ind["headline"], report.sections[0]
    assert head["index"] == round(section.headline.estimate, 4)
    assert head["low"] == round(section.headline.low, 4) and head["high"] == round(section.headline.high, 4)
    assert head["responses"] == 80 == section.headline.n  # A's 40, C's 5 and D's 35
    assert head["verdict"] == section.verdict.status
    assert head["change"] == round(section.change[0], 4) and head["change"] > 0  # 28/40 before, 68/80 now
    units = {u["label"]: u for u in ind["units"]}
    assert units["=Tổ 1+1"] == {"label": "=Tổ 1+1", "enough_responses": False, "code": "TO-C"}
    # D has enough, but A's headline minus A's service point and D would give C away: D is hidden too.
    assert units["Tổ tiếp nhận hồ sơ"] == {"label": "Tổ tiếp nhận hồ sơ", "enough_responses": True,
                                          "code": "TO-D", "protected": True}
    shown = [u for u in units.values() if "index" in u]
    assert [u["responses"] for u in shown] == [40]
    html = client.get(f"/p/{a.code}").get_data(as_text=True)
    assert "Chưa đủ phiếu" in html and "xã An Bình" in html
    assert f"{section.headline.estimate * 100:.1f}".replace(".", ",") + "%" in html
    with app.test_request_context("/"):
        assert section.verdict.label in html
    # C has fewer responses than the minimum: none of its numbers anywhere.
    c_rate = f"{1 / 5 * 100:.1f}"
    assert c_rate not in html and c_rate.replace(".", ",") not in html


def test_only_what_is_published_is_public_on_every_public_route(published, app):
    """Every rule of the app that answers without signing in, with every organisation code and
    id, survey and service point: no number of the unpublished commune B appears."""
    with app.app_context():
        b_numbers = numbers_of(published.b)
        a_numbers = numbers_of(published.a)
        assert b_numbers and not (b_numbers & a_numbers)
        codes = list(db.session.scalars(sa.select(Organisation.code))) + ["KHONG-CO"]
        ids = sorted(set(db.session.scalars(sa.select(Organisation.id))) | set(db.session.scalars(sa.select(Survey.id)))
                     | set(db.session.scalars(sa.select(ServicePoint.id)))
                     | {1, 2, 3, 4, 5})
        public_codes = list(db.session.scalars(sa.select(ServicePoint.code)))
    strings = codes + public_codes
    client = app.test_client()
    seen = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or "GET" not in rule.methods:
            continue
        choices = []
        for arg in sorted(rule.arguments):
            conv = type(rule._converters[arg]).__name__
            choices.append([(arg, v) for v in (ids if conv == "IntegerConverter" else strings)])
        for combo in itertools.islice(itertools.product(*choices), 60):
            for lang in ("vi", "en"):
                with app.test_request_context():
                    url = url_for(rule.endpoint, **dict(combo), lang=lang)
                r = client.get(url)
                if r.status_code != 200:
                    continue
                seen.add(rule.endpoint)
                body = r.get_data().decode("utf-8", "replace")
                leaked = [n for n in b_numbers if re.search(rf"(?<![\d.,]){re.escape(n)}(?![\d])", body)]
                assert not leaked, (url, leaked)
    assert {"public.page", "public.card", "public.data_csv", "public.data_json"} <= seen, seen
    client = app.test_client()  # no language cookie: Vietnamese
    assert client.get(f"/p/{published.a.code}").status_code == 200
    for code in (published.b.code, published.p.code, "KHONG-CO"):
        r = client.get(f"/p/{code}")
        assert r.status_code == 404
        assert "Không tìm thấy trang" in r.get_data(as_text=True)
        assert client.get(f"/p/{code}.json").status_code == 404
        assert client.get(f"/p/{code}/card").status_code == 404


def test_a_sub_unit_is_public_with_its_published_ancestor_and_withdrawing_ends_it(published, client, runner, app):
    assert client.get(f"/p/{published.c.code}").status_code == 200
    assert client.get(f"/p/{published.a.code}").status_code == 200  # now cached
    result = runner.invoke(args=["publish", published.a.code, "--off"])
    assert result.exit_code == 0, result.output
    assert client.get(f"/p/{published.a.code}").status_code == 404  # the cache never outlives a publication
    assert client.get(f"/p/{published.c.code}").status_code == 404
    with app.app_context():
        assert [e.action for e in db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id))][-2:] == [
            "publication.publish", "publication.unpublish"]


def test_cached_with_etag_and_a_burst_costs_no_computation(published, client, app):
    url = f"/p/{published.a.code}"
    first = client.get(url)
    assert first.status_code == 200 and first.headers["ETag"]
    assert "public" in first.headers["Cache-Control"] and "max-age=300" in first.headers["Cache-Control"]
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", listener)
    try:
        for _ in range(20):
            assert client.get(url).data == first.data
    finally:
        sa.event.remove(engine, "before_cursor_execute", listener)
    # Each visit checks the publication (one organisation, its publications); nothing else is read.
    assert len(statements) <= 2 * 20, statements[:5]
    assert all(re.search(r"FROM (organisation|publication)\s", s) for s in statements), statements


def test_under_50_kb_vietnamese_first_with_an_english_switch_and_no_free_text(published, client):
    r = client.get(f"/p/{published.a.code}")
    css = sum(len(client.get(p).data) for p in re.findall(r'href="(/static/[^"]+\.css[^"]*)"', r.get_data(as_text=True)))
    assert len(r.data) + css < 50_000, (len(r.data), css)
    html = r.get_data(as_text=True)
    assert '<html lang="vi">' in html and "Khoảng tin cậy 95%" in html and "<script" not in html
    assert f'href="/p/{published.a.code}?lang=en"' in html
    en = client.get(f"/p/{published.a.code}?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in en and "95% confidence interval" in en and "Not enough responses" in en
    assert "Cán bộ" not in html and "ql-an" not in html  # who published is not shown


def test_the_card_may_be_framed_and_the_page_may_not(published, client):
    card = client.get(f"/p/{published.a.code}/card")
    assert card.status_code == 200
    assert "X-Frame-Options" not in card.headers
    assert "frame-ancestors *" in card.headers["Content-Security-Policy"]
    page = client.get(f"/p/{published.a.code}")
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]


def test_csv_has_the_same_numbers_a_licence_and_inert_cells(published, client):
    data = client.get(f"/p/{published.a.code}.json").get_json()
    r = client.get(f"/p/{published.a.code}.csv")
    assert r.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(r.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][0].startswith("# CC BY 4.0")
    head = dict(zip(rows[1], rows[2]))
    assert float(head["index"]) == data["indicators"][0]["headline"]["index"]
    labels = [row[4] for row in rows[2:]]
    assert "'=Tổ 1+1" in labels and "=Tổ 1+1" not in labels


def test_publishing_in_the_workspace_needs_the_scope_and_a_write_role(province, app, auth):
    a = province.a
    other = auth.client_for(province.manager_b.username)
    assert other.get(f"/admin/organisations/{a.id}/publication").status_code == 404
    assert other.post(f"/admin/organisations/{a.id}/publication", data={"min_responses": "30"}).status_code == 404
    viewer = auth.client_for(province.viewer_a.username)
    assert viewer.post(f"/admin/organisations/{a.id}/publication", data={"min_responses": "30"}).status_code == 403
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Publication)) == 0
    manager = auth.client_for(province.manager_a.username)
    bad = manager.post(f"/admin/organisations/{a.id}/publication", data={"min_responses": "0"})
    assert bad.status_code == 422
    assert manager.post(f"/admin/organisations/{a.id}/publication", data={"min_responses": "10"}).status_code == 302
    with app.app_context():
        pub = db.session.scalar(sa.select(Publication))
        assert pub.organisation_id == a.id and pub.min_responses == 10 and pub.published_by_id == province.manager_a.id
        event = db.session.scalar(sa.select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1))
        assert event.action == "publication.publish" and event.user_id == province.manager_a.id
    page = app.test_client().get(f"/p/{a.code}.json").get_json()
    assert page["min_responses"] == 10
    assert manager.post(f"/admin/organisations/{a.id}/publication/off").status_code == 302
    assert app.test_client().get(f"/p/{a.code}").status_code == 404
