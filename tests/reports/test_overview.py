"""The overview officials read first: headline cards, the units × indicators matrix, the detail
tabs (plain links, no JavaScript), and the charts' table alternatives, against build_report and
``report --format json``."""
from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from flask import current_app

from surveyapp import charts
from surveyapp.extensions import db
from surveyapp.i18n import percent
from surveyapp.models import Organisation, ServicePoint, User
from surveyapp.reports import filters as report_filters
from surveyapp.reports import model

WIDE = {"from": (date.today() - timedelta(days=420)).isoformat(), "to": (date.today() + timedelta(days=1)).isoformat()}


def login(client, username="admin"):
    assert client.post("/login", data={"username": username, "password": "demo12345"}).status_code == 302


def org(code) -> Organisation:
    return db.session.scalar(sa.select(Organisation).where(Organisation.code == code))


def build(root, **kw) -> model.Report:
    with current_app.test_request_context("/"):
        return model.build_report(root, report_filters.parse_filters(WIDE), **kw)


def matrix_cells(html: str) -> dict[tuple[str, int], dict]:
    """{(unit "kind-key", questionnaire id): {"status", "text", "href"}} from the matrix."""
    table = re.search(r'<table class="matrix".*?</table>', html, re.S).group(0)
    cells = {}
    for unit, row in re.findall(r'<tr data-unit="([^"]+)">(.*?)</tr>', table, re.S):
        for status, qid, body in re.findall(
                r'<td class="cell cell-(\w+)[^"]*" data-section="(\d+)">(.*?)</td>', row, re.S):
            href = re.search(r'href="([^"]+)"', body).group(1).replace("&amp;", "&")
            text = " ".join(re.sub(r"<[^>]+>", " ", body).split())
            cells[(unit, int(qid))] = {"status": status, "text": text, "href": href}
    return cells


def table_rows(html: str, testid: str) -> list[list[str]]:
    table = re.search(rf'<table class="chart-data" data-testid="{testid}">(.*?)</table>', html, re.S).group(1)
    body = table.split("<tbody>")[1]
    return [[" ".join(re.sub(r"<[^>]+>", " ", c).split()) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", tr, re.S)]
            for tr in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def test_matrix_cell_below_target_says_not_met_and_links_to_its_unit(client, demo):
    report = build(org("KA"))
    below = [(s, u) for s in report.headlines for u in s.units if u.verdict.status == "not_met"]
    assert below, "the demo province has units below target"
    login(client)
    html = client.get("/admin/", query_string=WIDE).get_data(as_text=True)
    cells = matrix_cells(html)
    for s, u in below:
        cell = cells[(f"{u.kind}-{u.key}", s.questionnaire_id)]
        assert cell["status"] == "not_met"
        assert "✗ Không đạt" in cell["text"] and percent(u.estimate.estimate) in cell["text"]
        path = (f"/admin/reports/organisation/{u.key}" if u.kind == "organisation"
                else f"/admin/reports/point/{u.key}")
        assert cell["href"].startswith(path + "?")
        # The link lands on that unit's page, on the card of the same questionnaire.
        page = client.get(cell["href"].split("#")[0]).get_data(as_text=True)
        assert f"<h1>{u.label}</h1>" in page and f'id="card-{s.questionnaire_id}"' in page
    # Khánh Hòa's rule is marked where it applies.
    barred = [(s, u) for s in report.headlines for u in s.units if u.verdict.barred]
    for s, u in barred:
        assert "≤ 80%" in cells[(f"{u.kind}-{u.key}", s.questionnaire_id)]["text"]


def test_a_unit_with_no_data_is_never_met(client, demo):
    province = org("KA")
    empty = Organisation(code="KA-NEW", name="UBND xã Mới Lập", sector="administrative", parent=province)
    db.session.add(empty)
    db.session.flush()
    db.session.add(ServicePoint(name="Bộ phận Một cửa xã Mới Lập", organisation=empty))
    db.session.commit()
    report = build(province)
    row = next(cells for u, cells in report.matrix if u.key == empty.id)
    assert {c.verdict.status for c in row} == {"no_data"}

    login(client)
    html = client.get("/admin/", query_string=WIDE).get_data(as_text=True)
    cells = matrix_cells(html)
    mine = {k: v for k, v in cells.items() if k[0] == f"organisation-{empty.id}"}
    assert len(mine) == len(report.sections)
    for cell in mine.values():
        assert cell["status"] == "no_data" and "Chưa có dữ liệu" in cell["text"]
        assert "Đạt" not in cell["text"].replace("Chưa", "")
    # A unit with data for one questionnaire only is "no data" for the others, never met.
    health = org("KA-SYT")
    sipas = next(s for s in report.sections if s.group == "composite")
    assert cells[(f"organisation-{health.id}", sipas.questionnaire_id)]["status"] == "no_data"
    assert sum(1 for c in cells.values() if c["status"] == "met") == sum(
        1 for _u, row in report.matrix for c in row if c.verdict.status == "met")


def test_first_screen_numbers_equal_report_json(client, demo):
    result = current_app.test_cli_runner().invoke(
        args=["report", "--org", "KA", "--from", WIDE["from"], "--to", WIDE["to"], "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    login(client)
    html = client.get("/admin/", query_string=WIDE).get_data(as_text=True)
    assert len(data["sections"]) >= 4
    for sec in data["sections"]:
        qid, h = sec["questionnaire_id"], sec["headline"]
        value = re.search(rf'data-testid="headline-{qid}">([^<]+)<', html).group(1)
        assert value == percent(h["estimate"])
        ci = re.search(rf'data-testid="interval-{qid}">([^<]+)<', html).group(1)
        assert ci.endswith(f"{percent(h['low'])} – {percent(h['high'])}")
        status, label = re.search(rf'data-testid="verdict-{qid}">\s*<span class="status status-(\w+)">([^<]+)<',
                                  html).groups()
        assert status == sec["verdict"]["status"]
        assert label == {"met": "Đạt", "not_met": "Không đạt", "inconclusive": "Chưa đủ căn cứ"}[status]
        below = [u for u in sec["units"] if u["estimate"]["estimate"] is not None and (
            u["verdict"]["status"] == "not_met" or u["verdict"]["admin_met"] is False or u["verdict"]["barred"])]
        counted = re.search(rf'data-testid="below-{qid}"><a [^>]+>([^<]+)<', html).group(1)
        assert counted == f"{len(below)}/{len(sec['units'])} đơn vị dưới chỉ tiêu"
    # The matrix has a row for every unit the JSON lists.
    assert {f"{u['kind']}-{u['key']}" for u in data["units"]} == {k[0] for k in matrix_cells(html)}


@pytest.mark.parametrize("tab", ["units", "trend", "aspects", "channels", "funnel"])
def test_each_chart_has_a_table_with_the_same_numbers(client, demo, tab):
    report = build(org("KA"))
    # The quick rating has every unit; the SIPAS-style survey has aspects.
    section = next(s for s in report.headlines if s.group == ("composite" if tab == "aspects" else "quick"))
    login(client)
    html = client.get("/admin/", query_string={**WIDE, "tab": tab, "section": section.questionnaire_id}
                      ).get_data(as_text=True)
    assert re.search(rf'<a href="[^"]*tab={tab}[^"]*" aria-current="page">', html)
    rows = table_rows(html, f"chart-data-{tab}")
    chart = charts.build(tab, section, "vi")
    assert rows == chart.rows and rows
    source = {"units": section.units, "trend": section.trend, "aspects": section.aspects,
              "channels": section.channels, "funnel": section.units}[tab]
    by_label = {r.label: r for r in source}
    for line in rows:
        r = by_label[line[0]]
        if tab == "funnel":
            assert line[2] == percent(r.estimate.estimate)
            continue
        assert line[1:4] == [percent(r.estimate.estimate), f"{percent(r.estimate.low)} – {percent(r.estimate.high)}",
                             str(r.estimate.n)]
    # The picture is drawn from the same rows: its text carries the same numbers and names.
    src = re.search(rf'<img src="([^"]+/chart/{tab}\.svg[^"]*)"', html).group(1).replace("&amp;", "&")
    svg = client.get(src).get_data(as_text=True)
    if tab in ("units", "aspects", "channels"):
        for r in source:
            assert percent(r.estimate.estimate) in svg
    if tab == "funnel":
        outside = [line[0] for line in rows if "giới hạn" in line[-1] and line[-1] != "trong giới hạn"]
        assert outside
        for label in outside:
            assert charts._short(label) in svg


def test_tabs_are_links_and_keep_the_filters(client, demo):
    login(client)
    args = {**WIDE, "channel": "qr"}
    html = client.get("/admin/", query_string=args).get_data(as_text=True)
    links = dict((label, href.replace("&amp;", "&")) for href, label in re.findall(
        r'<li><a href="([^"]+)"[^>]*>([^<]+)</a></li>', html.split('class="tabs"')[1].split("</nav>")[0]))
    assert list(links) == ["Tổng quan", "Đơn vị", "Khía cạnh", "Theo tháng", "Theo kênh", "Biểu đồ phễu"]
    for label, href in links.items():
        assert "channel=qr" in href and f"from={WIDE['from']}" in href
        page = client.get(href)
        assert page.status_code == 200
        assert re.search(rf'aria-current="page">{label}</a>', page.get_data(as_text=True))
    # An unknown tab or questionnaire falls back to the overview or the first questionnaire.
    assert 'id="headlines-h"' in client.get("/admin/", query_string={**args, "tab": "nope"}).get_data(as_text=True)
    assert client.get("/admin/", query_string={**args, "tab": "trend", "section": "999999"}).status_code == 200


def test_manager_sees_only_units_in_scope(client, demo):
    health = org("KA-SYT")
    user = User(username="syt", full_name="Sở Y tế", role="manager", organisation=health)
    user.set_password("demo12345")
    db.session.add(user)
    db.session.commit()
    login(client, "syt")
    html = client.get("/admin/", query_string=WIDE).get_data(as_text=True)
    cells = matrix_cells(html)
    hospital = org("KA-BVDK")
    assert {k[0] for k in cells} == {f"organisation-{hospital.id}"}
    for name in ("UBND xã Tân Phú", "Trung tâm Phục vụ hành chính công tỉnh", "Sở Giáo dục và Đào tạo"):
        assert name not in html
    # Every detail tab, and every chart, stays inside the scope; outside it is 404.
    for tab in ("units", "trend", "funnel"):
        assert "UBND xã Tân Phú" not in client.get("/admin/", query_string={**WIDE, "tab": tab}).get_data(as_text=True)
    other = org("KA-TANPHU")
    assert client.get(f"/admin/reports/organisation/{other.id}", query_string={"tab": "units"}).status_code == 404
    assert client.get("/admin/reports/chart/units.svg", query_string={"org": other.id, "section": 1}).status_code == 404
    assert client.get("/admin/reports/chart/spark.svg", query_string={"org": other.id, "section": 1}).status_code == 404
