"""The three most common reasons for dissatisfaction next to each unit below target: in the
report model, ``report --format json``, the filed báo cáo and the dashboard, from the comments
of that unit and period only, complaints only, never their text (SQLite and PostgreSQL)."""
from __future__ import annotations

import json
import os
from datetime import date, datetime
from itertools import count

import pytest
from docx import Document

from surveyapp.extensions import db
from surveyapp.models import (
    Answer,
    CommentLabel,
    CommentTheme,
    Organisation,
    Question,
    Response,
    ServicePoint,
    Survey,
    Target,
)
from surveyapp.reports.filters import Filters
from surveyapp.reports.model import build_report
from surveyapp.themes.store import top_complaint_themes
from tests.admin.admin_helpers import make_user
from tests.conftest import assert_accessible

MARCH = Filters(date(2026, 3, 1), date(2026, 3, 31))
IN_MARCH = datetime(2026, 3, 10, 3)
IN_FEBRUARY = datetime(2026, 2, 10, 3)
# Every comment carries this: no output may show a citizen's words.
SECRET = "lời riêng 0912345678"

# Unit A, March, counted: waiting 5, attitude 3, fees 2, procedure 1 (the fourth, left out).
A_COMPLAINTS = [["waiting", "attitude"], ["waiting"], ["waiting", "fees"], ["waiting"], ["waiting", "attitude"],
                ["attitude", "fees"], ["procedure"]]
EXPECTED_A = [("waiting", 5), ("attitude", 3), ("fees", 2)]

_keys = count()
SHOT_DIR = os.environ.get("SURVEYAPP_SCREENSHOTS")  # where to keep the screenshot to look at


def _respond(survey: Survey, sp: ServicePoint, satisfied: bool, labels: tuple[str, list[str]] | None = None,
             when: datetime = IN_MARCH, flag: str | None = None) -> None:
    """One response (a quick rating and a comment), its comment stored with ``labels``
    (polarity, themes) as the classifier would have stored them."""
    q = survey.questionnaire
    rating = next(x for x in q.questions if x.type == "rating")
    option = next(o for o in rating.options if o.is_satisfied == satisfied)
    response = Response(survey=survey, service_point=sp, channel="qr", idempotency_key=f"k{next(_keys)}",
                        submitted_at=when, flag=flag)
    db.session.add(response)
    db.session.flush()
    db.session.add(Answer(response=response, question_id=rating.id, option_id=option.id, value=option.value,
                          satisfied=int(satisfied), service_point_id=sp.id, submitted_at=when))
    if labels is not None:
        text_q = next(x for x in q.questions if x.type == "text")
        comment = Answer(response=response, question_id=text_q.id, text=f"{SECRET} {next(_keys)}",
                         service_point_id=sp.id, submitted_at=when)
        db.session.add(comment)
        db.session.flush()
        polarity, themes = labels
        db.session.add(CommentLabel(answer_id=comment.id, polarity=polarity))
        db.session.add_all([CommentTheme(answer_id=comment.id, theme=t) for t in themes])


def world(standard):
    """A province with two communes on one survey: A far below its 90% target, B at it."""
    from surveyapp.questionnaires import copy_questionnaire

    province = Organisation(code="T", name="Tỉnh Thử", name_en="Test Province", sector="administrative")
    a = Organisation(code="XA", name="Xã A", sector="administrative", parent=province)
    b = Organisation(code="XB", name="Xã B", sector="administrative", parent=province)
    db.session.add_all([province, a, b])
    db.session.flush()
    sp_a, sp_b = ServicePoint(organisation=a, name="Một cửa Xã A"), ServicePoint(organisation=b, name="Một cửa Xã B")
    db.session.add_all([sp_a, sp_b])
    q = copy_questionnaire(standard["quick-rating"], family="quick-t", version=1, organisation_id=province.id,
                           title_vi="Phiếu nhanh của tỉnh", title_en="Province quick form")
    q.questions.append(Question(position=3, code="comment", type="text", text_vi="Góp ý", text_en="Comments",
                                max_length=1000))
    survey = Survey(questionnaire=q, organisation=province, name="Khảo sát tỉnh", starts_on=date(2026, 1, 1),
                    status="open", channel_qr=True, channel_kiosk=True, service_points=[sp_a, sp_b])
    db.session.add_all([survey, Target(indicator="quick", organisation=province, value=0.9,
                                                    operator=">=", valid_from=date(2026, 1, 1))])
    db.session.flush()
    # A in March: 2 satisfied of 12; 7 complaints, 3 praises of procedures, a suggestion.
    for themes in A_COMPLAINTS:
        _respond(survey, sp_a, False, ("complaint", themes))
    _respond(survey, sp_a, False, ("suggestion", ["facilities"]))
    _respond(survey, sp_a, False, ("praise", ["procedure"]))
    _respond(survey, sp_a, True, ("praise", ["procedure"]))
    _respond(survey, sp_a, True, ("praise", ["procedure"]))
    _respond(survey, sp_a, False)
    # Not counted in March: A's February complaints, and flagged (bot) responses.
    for _ in range(4):
        _respond(survey, sp_a, False, ("complaint", ["facilities"]), when=IN_FEBRUARY)
    for _ in range(3):
        _respond(survey, sp_a, False, ("complaint", ["result"]), flag="too_fast")
    # B in March: 40 satisfied of 40, six of them complaining of harassment all the same.
    for i in range(40):
        _respond(survey, sp_b, True, ("complaint", ["harassment"]) if i < 6 else None)
    viewer = make_user("xem-tinh", "viewer", province)
    db.session.commit()
    return province, a, b, sp_a, sp_b, viewer


def _units(report) -> dict:
    (section,) = report.sections
    return {u.label: u for u in section.units}


def test_report_model_names_the_top_complaints_of_units_below_target_only(app, standard):
    province, a, b, sp_a, sp_b, _ = world(standard)
    units = _units(build_report(province, MARCH))
    assert units["Xã A"].verdict.status == "not_met"
    assert [(t["code"], t["count"]) for t in units["Xã A"].complaint_themes] == EXPECTED_A
    assert units["Xã A"].complaint_themes[0]["label"] == "Chờ đợi, xếp hàng, trễ hẹn"
    # B is at target: no reasons, though six of its comments complain.
    assert units["Xã B"].verdict.admin_met is True and units["Xã B"] not in build_report(province, MARCH).sections[0].below
    assert units["Xã B"].complaint_themes == []
    assert top_complaint_themes([sp_b.id], f=MARCH) == [("harassment", 6)]

    # The period counts: February's complaints about facilities join when the period covers them.
    both = _units(build_report(province, Filters(date(2026, 2, 1), date(2026, 3, 31))))
    assert [(t["code"], t["count"]) for t in both["Xã A"].complaint_themes] == [
        ("waiting", 5), ("facilities", 4), ("attitude", 3)]
    # Flagged responses count only when the report counts them.
    flagged = _units(build_report(province, Filters(date(2026, 3, 1), date(2026, 3, 31), include_flagged=True)))
    assert [(t["code"], t["count"]) for t in flagged["Xã A"].complaint_themes] == [
        ("waiting", 5), ("attitude", 3), ("result", 3)]
    # Without the report's filters the same store function sees everything: the filters matter.
    assert top_complaint_themes([sp_a.id]) == [("waiting", 5), ("facilities", 4), ("attitude", 3)]


def _cli(app, *args):
    result = app.test_cli_runner().invoke(
        args=["report", "--org", "T", "--from", "2026-03-01", "--to", "2026-03-31", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_json_and_filed_report_agree_and_carry_no_comment_text(app, standard, tmp_path):
    world(standard)
    output = _cli(app, "--format", "json")
    assert SECRET not in output
    data = json.loads(output)
    units = {u["label"]: u for sec in data["sections"] for u in sec["units"]}
    assert [(t["code"], t["count"]) for t in units["Xã A"]["complaint_themes"]] == EXPECTED_A
    assert units["Xã B"]["complaint_themes"] == []

    out = tmp_path / "r.docx"
    _cli(app, "--format", "docx", "--out", str(out))
    doc = Document(str(out))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert SECRET not in text and "0912345678" not in text
    reasons = "; ".join(f"{t['label']} ({t['count']})" for t in units["Xã A"]["complaint_themes"])
    assert (f"Tại Xã A, các lý do chưa hài lòng được nêu nhiều nhất (số ý kiến phàn nàn): {reasons}."
            in text.split("\n"))
    assert reasons == "Chờ đợi, xếp hàng, trễ hẹn (5); Thái độ, sự lịch sự (3); Phí, lệ phí, chi phí (2)"
    assert "Tại Xã B" not in text

    en = tmp_path / "en.docx"
    _cli(app, "--format", "docx", "--out", str(en), "--lang", "en")
    english = [p.text for p in Document(str(en)).paragraphs]
    assert ("At Xã A, the reasons for dissatisfaction given most often (number of complaints): "
            "Waiting, queues, missed deadlines (5); Attitude and courtesy (3); Fees and costs (2).") in english
    en_units = {u["label"]: u for sec in json.loads(_cli(app, "--format", "json", "--lang", "en"))["sections"]
                for u in sec["units"]}
    assert en_units["Xã A"]["complaint_themes"][0] == {"code": "waiting", "label": "Waiting, queues, missed deadlines",
                                                      "count": 5}


def test_dashboard_lists_the_reasons_next_to_the_unit_below_target(auth, app, standard):
    _, a, b, *_rest, viewer = world(standard)
    client = auth.client_for(viewer)
    # The units below target are listed in the units tab.
    html = client.get("/admin/", query_string={**MARCH.args(), "tab": "units"}).get_data(as_text=True)
    assert SECRET not in html
    start = html.index(f'data-testid="complaint-themes-organisation-{a.id}"')
    shown = html[start:html.index("</div>", start)]
    assert "Chờ đợi, xếp hàng, trễ hẹn (5); Thái độ, sự lịch sự (3); Phí, lệ phí, chi phí (2)" in " ".join(shown.split())
    assert f"complaint-themes-organisation-{b.id}" not in html
    english = client.get("/admin/", query_string={**MARCH.args(), "tab": "units", "lang": "en"}).get_data(as_text=True)
    assert "Most common reasons for dissatisfaction (number of complaints)" in english
    assert "Waiting, queues, missed deadlines (5)" in english


@pytest.mark.browser
def test_dashboard_in_chromium_shows_the_reasons_readably(live_server, page, tmp_path):
    from surveyapp.seed import seed_standard
    from tests.admin.admin_helpers import PASSWORD

    with live_server.app.app_context():
        standard = seed_standard()
        db.session.commit()
        _, a, *_rest, viewer = world(standard)
        a_id, username = a.id, viewer.username
    page.goto(live_server.url + "/admin/")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url("**/admin/**")
    page.goto(live_server.url + "/admin/?from=2026-03-01&to=2026-03-31&tab=units")
    reasons = page.get_by_test_id(f"complaint-themes-organisation-{a_id}")
    reasons.scroll_into_view_if_needed()
    assert " ".join(reasons.inner_text().split()) == (
        "Lý do chưa hài lòng thường gặp (số ý kiến phàn nàn): Chờ đợi, xếp hàng, trễ hẹn (5); "
        "Thái độ, sự lịch sự (3); Phí, lệ phí, chi phí (2)")
    # Nothing wider than the phone's screen.
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    assert_accessible(page)
    page.locator("section.report-section").first.screenshot(path=str(SHOT_DIR or tmp_path) + "/complaint-themes.png")
