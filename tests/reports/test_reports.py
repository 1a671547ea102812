"""Reports: the SQL aggregation agrees with the analysis package, the views respect the scope,
comments are masked and handled with an audit trail, and every export carries the same numbers."""
from __future__ import annotations

import csv
import io
import json
import re
import uuid
from datetime import date, datetime, timedelta

import numpy as np
import pytest
import sqlalchemy as sa

from flask import current_app

import analysis
from surveyapp.reports import filters as report_filters
from surveyapp.reports import model, queries
from surveyapp.extensions import db
from surveyapp.seed import DEMO_PASSWORD
from surveyapp.models import (
    Answer,
    AuditEvent,
    Organisation,
    Question,
    Questionnaire,
    Response,
    ServicePoint,
    ServiceVolume,
    Survey,
)

WIDE = {"from": (date.today() - timedelta(days=420)).isoformat(), "to": (date.today() + timedelta(days=1)).isoformat()}


def org(code) -> Organisation:
    return db.session.scalar(sa.select(Organisation).where(Organisation.code == code))


def filters(**extra) -> report_filters.Filters:
    return report_filters.parse_filters({**WIDE, **extra})


def build(root, f=None, **kw) -> model.Report:
    with current_app.test_request_context("/"):
        return model.build_report(root, f or filters(), **kw)


def section(report, family):
    return next(s for s in report.sections if db.session.get(Questionnaire, s.questionnaire_id).family == family)


def raw_matrix(sp_ids, family, include_flagged=False):
    """Independent path: the answers read row by row, as (respondents x items) 0/1 matrices."""
    q = db.session.scalar(sa.select(Questionnaire).where(Questionnaire.family == family))
    items = [x for x in q.questions if x.counts_in_index]
    col = {x.id: j for j, x in enumerate(items)}
    stmt = (sa.select(Answer.response_id, Answer.question_id, Answer.satisfied, Response.service_point_id,
                      Answer.submitted_at)
            .join(Response).join(Response.survey).where(Survey.questionnaire_id == q.id,
                                                 Response.service_point_id.in_(sp_ids),
                                                 Answer.satisfied.is_not(None)))
    if not include_flagged:
        stmt = stmt.where(Response.flag.is_(None))
    rows = db.session.execute(stmt).all()
    resp = sorted({r[0] for r in rows})
    ri = {r: i for i, r in enumerate(resp)}
    s = np.zeros((len(resp), len(items)))
    a = np.zeros((len(resp), len(items)))
    sp = np.zeros(len(resp), dtype=int)
    months = {}
    for rid, qid, sat, spid, when in rows:
        s[ri[rid], col[qid]] = sat
        a[ri[rid], col[qid]] = 1
        sp[ri[rid]] = spid
        local = when + timedelta(hours=7)
        months.setdefault(spid, set()).add(date(local.year, local.month, 1))
    aspects = [x.aspect.code if x.aspect else x.code for x in items]
    return s, a, sp, aspects, months


# ---------------------------------------------------------------------------------------------
# The numbers


def test_indices_match_analysis_on_raw_answers(app, demo):
    """Service point composite, volume-weighted organisation, pooled health rate, quick rating."""
    sp = db.session.scalar(sa.select(ServicePoint).where(ServicePoint.name == "Quầy 2 – Xây dựng"))
    report = build(None, service_point=sp, with_items=True)
    sec = section(report, "sipas-admin")
    s, a, _, aspects, _ = raw_matrix([sp.id], "sipas-admin")
    ref = analysis.composite_index(s, a, aspects=aspects)
    assert sec.headline.n == s.shape[0] > 10
    assert sec.headline.estimate == pytest.approx(ref.estimate, abs=1e-12)
    assert sec.headline.low == pytest.approx(ref.low, abs=1e-9)
    assert sec.headline.high == pytest.approx(ref.high, abs=1e-9)
    # Each question's share is its satisfied / answered.
    first = sec.items[0]
    assert first.estimate.estimate == pytest.approx(s[:, 0].sum() / a[:, 0].sum())

    # An organisation combines its units weighted by service volume, each unit a stratum.
    centre = org("KA-HCC")
    sps = [sp.id for sp in centre.service_points]
    report = build(centre)
    sec = section(report, "sipas-admin")
    s, a, sp, aspects, months = raw_matrix(sps, "sipas-admin")
    vols = {(v.service_point_id, v.month): v.volume for v in db.session.scalars(sa.select(ServiceVolume))}
    unit_volume = {p: sum(vols[(p, m)] for m in months[p]) for p in months}
    counts = {p: int((sp == p).sum()) for p in months}
    w = np.array([unit_volume[p] / counts[p] for p in sp])
    ref = analysis.composite_index(s, a, aspects=aspects, weights=w, strata=sp)
    unweighted = analysis.composite_index(s, a, aspects=aspects)
    assert sec.weighted
    assert sec.headline.estimate == pytest.approx(ref.estimate, abs=1e-12)
    assert sec.headline.low == pytest.approx(ref.low, abs=1e-6)
    assert sec.headline.high == pytest.approx(ref.high, abs=1e-6)
    assert abs(ref.estimate - unweighted.estimate) > 1e-6  # the weighting does something here

    # Health: the overall rate pools every answered item; the quick rating counts taps.
    report = build(org("KA-BVDK"))
    health = section(report, "health-outpatient")
    s, a, sp, _, _ = raw_matrix([p.id for p in org("KA-BVDK").service_points if p.name == "Khoa Khám bệnh"],
                                "health-outpatient")
    assert health.headline.estimate == pytest.approx(s.sum() / a.sum())
    quick = section(report, "quick-rating")
    s, a, sp, _, _ = raw_matrix([p.id for p in org("KA-BVDK").service_points], "quick-rating")
    # One unit per service point: with volume weights the index is not the raw share, but each unit's is.
    for unit in quick.units:
        mine = sp == unit.key
        assert unit.estimate.estimate == pytest.approx(s[mine].sum() / a[mine].sum())
        assert unit.estimate.n == int(mine.sum())
        low, high = analysis.proportion_ci(s[mine].sum(), a[mine].sum())
        assert unit.estimate.low == pytest.approx(low, abs=2e-3)
        assert unit.estimate.high == pytest.approx(high, abs=2e-3)


def _quick_fixture(standard, n_sat, n_unsat, flagged=0, other_org=False):
    """Taps on the quick rating at one counter, dated yesterday."""
    code = "OTHER" if other_org else "XA"
    o = Organisation(code=code, name=f"Xã {code}", sector="administrative")
    sp = ServicePoint(organisation=o, name=f"Quầy {code}")
    survey = Survey(questionnaire=standard["quick-rating"], organisation=o, name="Nhanh", starts_on=date(2025, 1, 1),
                    status="open", channel_qr=True, channel_kiosk=True, service_points=[sp])
    db.session.add_all([o, sp, survey])
    db.session.flush()
    q = next(x for x in survey.questionnaire.questions if x.code == "rating")
    when = datetime.utcnow() - timedelta(days=1)
    values = [4] * n_sat + [1] * n_unsat + [1] * flagged
    for i, v in enumerate(values):
        r = Response(survey=survey, service_point=sp, channel="kiosk", idempotency_key=uuid.uuid4().hex,
                     submitted_at=when, flag="burst" if i >= n_sat + n_unsat else None)
        db.session.add(r)
        db.session.flush()
        opt = next(x for x in q.options if x.value == v)
        db.session.add(Answer(response=r, question_id=q.id, option_id=opt.id, value=v, satisfied=int(v >= 3),
                              service_point_id=sp.id, submitted_at=when))
    db.session.commit()
    return o, sp


def test_flagged_responses_excluded_unless_asked_and_other_organisations_never_counted(app, standard):
    mine, _ = _quick_fixture(standard, 180, 20, flagged=30)
    _quick_fixture(standard, 1, 50, other_org=True)
    sec = build(mine).sections[0]
    assert sec.headline.n == 200
    assert sec.headline.estimate == pytest.approx(0.9)
    # Worked example of the domain: 180/200 with Wilson gives 0.8506-0.9343.
    assert sec.headline.low == pytest.approx(0.8506, abs=5e-4)
    assert sec.headline.high == pytest.approx(0.9343, abs=5e-4)
    assert sec.verdict.status == "not_met"  # target: >= 95% (Resolution 76, 2026-2030)
    with_flagged = build(mine, filters(include_flagged="1")).sections[0]
    assert with_flagged.headline.n == 230
    assert with_flagged.headline.estimate == pytest.approx(180 / 230)
    assert with_flagged.verdict.barred  # <= 80%: Khánh Hòa's rule
    assert build(mine, filters(channel="qr")).sections == []


def _own_target(org, value, operator=">=", valid_from=date(2020, 1, 1)):
    from surveyapp.models import Target

    db.session.add(Target(indicator="quick", organisation_id=org.id, value=value, operator=operator,
                          valid_from=valid_from))
    db.session.commit()


def test_own_target_never_laxer_than_the_sector_default(app, standard):
    """A unit that set itself 85% is still judged by Resolution 76's 95%, and says so."""
    mine, _ = _quick_fixture(standard, 180, 20)
    _own_target(mine, 0.85)
    sec = build(mine).sections[0]
    assert (sec.target.value, sec.target.origin, sec.target.source) == (0.95, "sector", "Nghị quyết 76/NQ-CP")
    assert sec.verdict.status == "not_met"
    # A stricter own target applies, and is named as the unit's own.
    _own_target(mine, 0.95, ">", valid_from=date(2021, 1, 1))
    sec = build(mine).sections[0]
    assert (sec.target.value, sec.target.strict, sec.target.origin, sec.target.organisation) == (
        0.95, True, "own", mine.name)


def test_strictest_of_own_inherited_and_sector_applies(app, standard):
    """Province 97% over a commune's own 96% and the sector's 95%: the province's applies to the
    commune, in its own report and as a unit row of the province's."""
    from surveyapp.models import move_organisation

    mine, _ = _quick_fixture(standard, 195, 5)
    province = Organisation(code="TINH", name="UBND tỉnh Thử", sector="administrative")
    db.session.add(province)
    db.session.flush()
    move_organisation(mine, province)
    db.session.commit()
    assert mine.is_within(province)
    _own_target(mine, 0.96)
    _own_target(province, 0.97)
    sec = build(mine).sections[0]
    assert (sec.target.value, sec.target.origin, sec.target.organisation) == (0.97, "inherited", province.name)
    unit = build(province).sections[0].units[0]
    assert (unit.target.value, unit.target.origin) == (0.97, "inherited")
    assert build(province).sections[0].target.origin == "own"


def test_reports_say_which_target_applied_and_where_it_came_from(client, standard, auth):
    from surveyapp.models import User
    from werkzeug.security import generate_password_hash

    mine, _ = _quick_fixture(standard, 180, 20)
    _own_target(mine, 0.85)
    user = User(username="ql", full_name="Quản lý", role="manager", organisation=mine,
                password_hash=generate_password_hash(DEMO_PASSWORD, method="pbkdf2:sha256:1000"))
    db.session.add(user)
    db.session.commit()
    assert auth.login("ql", DEMO_PASSWORD).status_code == 302
    html = client.get("/admin/", query_string=WIDE).get_data(as_text=True)
    assert "≥ 95%" in html and "chỉ tiêu chung của ngành – Nghị quyết 76/NQ-CP" in html
    runner = current_app.test_cli_runner()
    result = runner.invoke(args=["report", "--org", mine.code, "--from", WIDE["from"], "--to", WIDE["to"],
                                 "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert rows[0]["target"] == "≥ 95%" and rows[0]["target_source"].startswith("chỉ tiêu chung của ngành")
    result = runner.invoke(args=["report", "--org", mine.code, "--from", WIDE["from"], "--to", WIDE["to"],
                                 "--format", "json"])
    target = json.loads(result.output)["sections"][0]["target"]
    assert (target["value"], target["origin"], target["source"]) == (0.95, "sector", "Nghị quyết 76/NQ-CP")


@pytest.mark.parametrize("args,message", [
    ({"from": "2026-13-01"}, "Ngày không hợp lệ"),
    ({"from": "2026-05-01", "to": "2026-04-01"}, "Ngày kết thúc phải sau ngày bắt đầu"),
    ({"channel": "fax"}, "Kênh không hợp lệ"),
    ({"sector": "army"}, "Lĩnh vực không hợp lệ"),
])
def test_bad_filters_refused_with_a_clear_message(client, standard, args, message, auth):
    from surveyapp.models import User

    user = User(username="admin", role="admin")
    user.set_password(DEMO_PASSWORD)
    db.session.add(user)
    db.session.commit()
    assert auth.login("admin", DEMO_PASSWORD).status_code == 302
    r = client.get("/admin/", query_string=args)
    assert r.status_code == 400
    assert message in r.get_data(as_text=True)


# ---------------------------------------------------------------------------------------------
# Views and scope


def test_dashboard_needs_sign_in(client):
    r = client.get("/admin/")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_dashboard_shows_scope_and_drill_down_keeps_filters(client, demo, auth):
    assert auth.login("admin", DEMO_PASSWORD).status_code == 302
    r = client.get("/admin/", query_string={**WIDE, "channel": "qr"})
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "UBND tỉnh Khánh An" in html and "Sở Y tế" in html
    hospital = org("KA-SYT")
    link = f'/admin/reports/organisation/{hospital.id}?from={WIDE["from"]}&amp;to={WIDE["to"]}&amp;channel=qr'
    assert link in html
    r = client.get(link.replace("&amp;", "&"))
    assert r.status_code == 200
    assert "Bệnh viện Đa khoa tỉnh Khánh An" in r.get_data(as_text=True)
    sp = db.session.scalar(sa.select(ServicePoint).where(ServicePoint.name == "Khoa Nhi"))
    # The point's questions sit behind the "Các câu hỏi" tab, each a link to its answers.
    q = db.session.scalar(sa.select(Question).join(Question.questionnaire).where(
        Question.code == "staff_d1", Questionnaire.family == "health-inpatient"))
    r = client.get(f"/admin/reports/point/{sp.id}",
                   query_string={**WIDE, "tab": "items", "section": q.questionnaire_id})
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "Các câu hỏi" in html
    assert f"/admin/reports/point/{sp.id}/question/{q.id}?" in html
    r = client.get(f"/admin/reports/point/{sp.id}/question/{q.id}", query_string=WIDE)
    assert r.status_code == 200 and "Rất hài lòng" in r.get_data(as_text=True)

    # Charts: SVG images with a policy of their own and no script; the overview has a small
    # trend per headline, each detail tab its chart.
    kinds = set()
    sipas = section(build(org("KA")), "sipas-admin").questionnaire_id  # the quick rating has no aspects
    for tab in ("overview", "units", "trend", "funnel", "channels", "aspects"):
        html = client.get("/admin/", query_string={**WIDE, "tab": tab, "section": sipas}).get_data(as_text=True)
        srcs = [s.replace("&amp;", "&") for s in re.findall(r'<img src="([^"]+\.svg[^"]*)"', html)]
        kinds |= {s.split("/chart/")[1].split(".svg")[0] for s in srcs}
    assert {"spark", "units", "trend", "funnel", "channels", "aspects"} <= kinds
    r = client.get(srcs[0])
    assert r.status_code == 200 and r.mimetype == "image/svg+xml"
    assert b"<script" not in r.data
    assert "script-src" not in r.headers["Content-Security-Policy"]

    # English from the catalogue.
    html = client.get("/admin/", query_string={**WIDE, "lang": "en"}).get_data(as_text=True)
    assert "Quick counter rating" in html
    assert "95% confidence interval" in html and "Respondents" in html and "By month" in html
    client.get("/admin/", query_string={"lang": "vi"})

    # A viewer sees their own subtree only; anything else is 404.
    auth.logout()
    assert auth.login("benhvien", DEMO_PASSWORD).status_code == 302
    html = client.get("/admin/", query_string=WIDE).get_data(as_text=True)
    assert "Khoa Nhi" in html
    assert "Trung tâm Phục vụ hành chính công" not in html
    assert client.get(f"/admin/reports/organisation/{org('KA-HCC').id}").status_code == 404
    other_sp = org("KA-TANPHU").service_points[0]
    assert client.get(f"/admin/reports/point/{other_sp.id}").status_code == 404
    assert client.get("/admin/export/report.xlsx", query_string={"org": org("KA").id}).status_code == 404
    assert client.get(f"/admin/reports/chart/trend.svg?point={other_sp.id}&section=1").status_code == 404



# ---------------------------------------------------------------------------------------------
# Comments


def _comment(text):
    answer = db.session.scalar(sa.select(Answer).where(Answer.text.is_not(None)).limit(1))
    answer.text = text
    db.session.commit()
    return answer


def test_comments_masked_and_a_case_opened_from_one_with_audit(client, demo, auth):
    from surveyapp.models import Case

    a = _comment("Gọi tôi 0912 345 678 hoặc an@example.vn nhé")
    assert auth.login("admin", DEMO_PASSWORD).status_code == 302
    html = client.get("/admin/reports/comments", query_string=WIDE).get_data(as_text=True)
    assert "0912 345 678" not in html and "an@example.vn" not in html
    assert "[số điện thoại]" in html and "[email]" in html
    r = client.post(f"/admin/cases/open/{a.id}")
    assert r.status_code == 302
    case = db.session.scalar(sa.select(Case).where(Case.response_id == a.response_id))
    assert case is not None and case.answer_id == a.id
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "case.open"))
    assert event is not None and event.object_id == str(case.id)
    html = client.get("/admin/reports/comments", query_string={**WIDE, "state": "open"}).get_data(as_text=True)
    assert "[số điện thoại]" in html  # a case still to handle
    r = client.post(f"/admin/cases/{case.id}/transition", data={"to": "rejected", "note": "x"})
    assert r.status_code == 302
    html = client.get("/admin/reports/comments", query_string={**WIDE, "state": "open"}).get_data(as_text=True)
    assert "[số điện thoại]" not in html
    html = client.get("/admin/reports/comments", query_string={**WIDE, "state": "handled"}).get_data(as_text=True)
    assert "[số điện thoại]" in html

    # A viewer reads but cannot open a case.
    auth.logout()
    assert auth.login("benhvien", DEMO_PASSWORD).status_code == 302
    other = _comment("Phòng khám đông quá")
    assert client.post(f"/admin/cases/open/{other.id}").status_code == 403


def test_comments_page_queries_do_not_grow_with_the_comments(client, demo, auth):
    """One page of 50 comments costs the same few statements as a page of 5 (no query per comment)."""
    assert auth.login("admin", DEMO_PASSWORD).status_code == 302
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    def page_cost(query):
        statements.clear()
        sa.event.listen(db.engine, "before_cursor_execute", record)
        try:
            html = client.get("/admin/reports/comments", query_string=query).get_data(as_text=True)
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", record)
        return html.count('class="comment'), len(statements)

    few, few_cost = page_cost({**WIDE, "from": (date.today() - timedelta(days=3)).isoformat()})
    many, many_cost = page_cost(WIDE)
    assert 1 <= few < many and many >= 20, (few, many)
    assert many_cost == few_cost, (few_cost, many_cost)


def test_opening_a_case_needs_csrf_token(make_app, auth):
    from surveyapp.models import User
    from surveyapp.seed import seed_standard

    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    with app.app_context():
        standard = seed_standard()
        o = Organisation(code="XA", name="Xã Một", sector="administrative")
        sp = ServicePoint(organisation=o, name="Một cửa")
        survey = Survey(questionnaire=standard["sipas-admin"], organisation=o, name="S", starts_on=date(2025, 1, 1),
                        status="open", service_points=[sp])
        user = User(username="admin", role="admin")
        user.set_password(DEMO_PASSWORD)
        db.session.add_all([o, sp, survey, user])
        db.session.flush()
        r = Response(survey=survey, service_point=sp, channel="qr", idempotency_key="k")
        db.session.add(r)
        db.session.flush()
        q = next(x for x in survey.questionnaire.questions if x.type == "text")
        a = Answer(response=r, question_id=q.id, text="Cần thêm ghế", service_point_id=sp.id,
                   submitted_at=datetime.utcnow())
        db.session.add(a)
        db.session.commit()
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        assert auth.login("admin", DEMO_PASSWORD, client=client, data={"csrf_token": token}).status_code == 302
        assert client.post(f"/admin/cases/open/{a.id}").status_code == 400
        from surveyapp.models import Case

        assert db.session.scalar(sa.select(sa.func.count()).select_from(Case)) == 0


# ---------------------------------------------------------------------------------------------
# Exports and CLI


def test_exports_and_command_line_carry_the_same_numbers(client, demo, auth):
    """CSV anonymised (UTF-8 with BOM), XLSX, PDF and `flask report` agree with build_report."""
    _comment("Số CCCD 001203004005 của tôi")
    assert auth.login("admin", DEMO_PASSWORD).status_code == 302
    r = client.get("/admin/export/responses.csv", query_string=WIDE)
    assert r.status_code == 200 and r.data.startswith("\ufeff".encode())
    text = r.data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == queries.EXPORT_HEADER
    assert "client_hash" not in rows[0] and "contact" not in rows[0]
    assert "001203004005" not in text and "[số định danh]" in text
    assert any("Quầy 1 – Tư pháp" in row for row in rows)

    # XLSX and PDF carry the report's numbers.
    from openpyxl import load_workbook
    from pypdf import PdfReader

    root = org("KA")
    report = build(root)
    r = client.get("/admin/export/report.xlsx", query_string=WIDE)
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.data))
    summary = list(wb.worksheets[0].iter_rows(values_only=True))
    by_title = {row[0]: row for row in summary[2:]}
    for s in report.sections:
        assert by_title[s.title][2] == round(s.headline.estimate * 100, 1)
        assert by_title[s.title][5] == s.headline.n
    r = client.get("/admin/export/report.pdf", query_string=WIDE)
    assert r.status_code == 200 and r.data.startswith(b"%PDF")
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(r.data)).pages)
    assert "Khánh An" in text and "Wilson" in text
    head = report.sections[0].headline
    assert f"{head.estimate * 100:.1f}".replace(".", ",") in text

    # The command line prints the same numbers.
    runner = current_app.test_cli_runner()
    result = runner.invoke(args=["report", "--org", "KA", "--from", WIDE["from"], "--to", WIDE["to"], "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    report = build(org("KA"))
    assert [s["headline"]["estimate"] for s in data["sections"]] == pytest.approx(
        [s.headline.estimate for s in report.sections])
    result = runner.invoke(args=["report", "--org", "KA", "--from", WIDE["from"], "--to", WIDE["to"], "--format", "csv"])
    assert result.exit_code == 0
    rows = list(csv.reader(io.StringIO(result.output)))
    assert rows[0][:3] == ["survey", "unit", "index"] and len(rows) > len(report.sections)
    result = runner.invoke(args=["report", "--org", "NOPE"])
    assert result.exit_code != 0 and "NOPE" in result.output
