"""Dashboard, drill-down, comments, charts and exports of the officials' workspace.

All numbers come from :func:`surveyapp.reports.model.build_report`; the views only choose the
scope (always within the user's, 404 outside it) and the filters, which stay in the
URL so that any view can be bookmarked and shared.
"""
from __future__ import annotations

import time

import sqlalchemy as sa
from flask import Response as HttpResponse
from flask import abort, current_app, render_template, request, stream_with_context, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.orm import selectinload

from .. import charts, clock
from ..i18n import current_language, percent
from ..auth.scope import (
    READ_ROLES,
    WRITE_ROLES,
    login_required_role,
    organisation_in_scope,
    questionnaire_visible,
    scope_root,
    service_point_in_scope,
)
from ..cases.service import STATE_LABELS, cases_by_response
from ..extensions import db
from ..models import CASE_DONE_STATES, SECTORS, Answer, Organisation, Question, Response, ServicePoint, Survey, survey_service_point
from ..privacy import mask_personal_data
from ..reports import exports, queries
from ..themes.labels import POLARITY_LABELS, THEME_LABELS
from ..themes.lexicon import THEMES
from ..themes.store import labels_of, theme_counts, with_theme
from ..reports.filters import FilterError, Filters, parse_filters
from ..reports.model import SECTOR_LABELS, Report, Row, Section, build_report
from . import bp

COMMENTS_PER_PAGE = 50
SORT_KEYS = {
    "name": lambda r: r.label.casefold(),
    "index": lambda r: (r.estimate.estimate is None, r.estimate.estimate or 0),
    "n": lambda r: r.estimate.n,
    "status": lambda r: r.verdict.status,
    "change": lambda r: (r.change is None, r.change[0] if r.change else 0),
}


class OpenCaseForm(FlaskForm):
    """Empty form: gives the "open case" button its CSRF token."""


# ---------------------------------------------------------------------------------------------
# Helpers


def _filters() -> Filters:
    return parse_filters(request.args)


@bp.errorhandler(FilterError)
def bad_filter(exc: FilterError):
    """A wrong filter in the URL: say which, in the user's language, with status 400."""
    return render_template("error.html", title=_("Bộ lọc không hợp lệ"), message=str(exc), status=400), 400


# Reports are recomputed at most every minute for the same user, scope and filters: the page
# and its three chart images ask for the same numbers. One cache per application.
CACHE_SECONDS = 60


def _cache() -> dict:
    return current_app.extensions.setdefault("reports_cache", {})


def _report(org: Organisation | None, f: Filters, sp: ServicePoint | None = None,
            with_items: bool = False) -> Report:
    key = (current_user.id, org.id if org else None, sp.id if sp else None, f, current_language(), with_items)
    cache = _cache()
    hit = cache.get(key)
    now = time.monotonic()
    if hit and now - hit[0] < CACHE_SECONDS:
        return hit[1]
    report = build_report(org, f, lang=current_language(), service_point=sp, with_items=with_items)
    if len(cache) > 256:
        cache.clear()
    cache[key] = (now, report)
    return report


def _scope_from_args() -> tuple[Organisation | None, ServicePoint | None]:
    """``?point=`` or ``?org=`` (checked against the scope), else the user's whole scope."""
    sp_id = request.args.get("point", type=int)
    if sp_id:
        return None, service_point_in_scope(sp_id)
    org_id = request.args.get("org", type=int)
    if org_id:
        return organisation_in_scope(org_id), None
    return _home_root(), None


def _survey_choices() -> list[Survey]:
    root = scope_root()
    stmt = sa.select(Survey).order_by(Survey.starts_on.desc(), Survey.name)
    if root is not None:
        in_scope = (
            sa.select(survey_service_point.c.survey_id)
            .join(ServicePoint, ServicePoint.id == survey_service_point.c.service_point_id)
            .join(Organisation, Organisation.id == ServicePoint.organisation_id)
            .where(Organisation.path.startswith(root.path, autoescape=True))
        )
        stmt = stmt.where(Survey.id.in_(in_scope))
    return list(db.session.scalars(stmt))


def _breadcrumbs(org: Organisation | None, sp: ServicePoint | None = None) -> list[tuple[str, str | None]]:
    """Links from the user's scope root down to the current organisation or point."""
    f_args = _filters().args()
    root = scope_root()
    crumbs = [(_("Tổng quan"), url_for("admin.dashboard", **f_args))]
    target = sp.organisation if sp else org
    if target is not None:
        ids = target.ancestor_ids()
        start = ids.index(root.id) + 1 if root is not None and root.id in ids else 0
        orgs = {o.id: o for o in db.session.scalars(sa.select(Organisation).where(Organisation.id.in_(ids)))}
        for oid in ids[start:]:
            crumbs.append((_name(orgs[oid]), url_for("admin.report_organisation", org_id=oid, **f_args)))
    if sp is not None:
        crumbs.append((_name(sp), url_for("admin.report_point", sp_id=sp.id, **f_args)))
    return crumbs


def _name(obj) -> str:
    return (obj.name_en or obj.name) if current_language() == "en" else obj.name


def _sorted_units(section: Section) -> list[Row]:
    key = request.args.get("sort", "index")
    key = key if key in SORT_KEYS else "index"
    return sorted(section.units, key=SORT_KEYS[key], reverse=request.args.get("dir") == "desc")


# The details sit behind tabs, each its own URL (?tab=), so that they work without JavaScript and
# can be bookmarked; a tab other than the overview shows one questionnaire (?section=).
TAB_LABELS = {
    "overview": _l("Tổng quan"),
    "units": _l("Đơn vị"),
    "items": _l("Các câu hỏi"),
    "aspects": _l("Khía cạnh"),
    "trend": _l("Theo tháng"),
    "channels": _l("Theo kênh"),
    "funnel": _l("Biểu đồ phễu"),
}
ORGANISATION_TABS = ("overview", "units", "aspects", "trend", "channels", "funnel")
POINT_TABS = ("overview", "items", "aspects", "trend", "channels")
TAB_CHART = {"units": "units", "aspects": "aspects", "trend": "trend", "channels": "channels", "funnel": "funnel"}


def _render_report(org: Organisation | None, sp: ServicePoint | None = None):
    f = _filters()
    report = _report(org, f, sp, with_items=sp is not None)
    scope_args = {"point": sp.id} if sp else ({"org": org.id} if org is not None and org != _home_root() else {})
    tabs = POINT_TABS if sp else ORGANISATION_TABS
    tab = request.args.get("tab", "overview")
    if tab not in tabs:
        tab = "overview"
    section = None
    if tab != "overview" and report.sections:
        qid = request.args.get("section", type=int)
        section = next((s for s in report.headlines if s.questionnaire_id == qid), report.headlines[0])
    chart = charts.build(TAB_CHART[tab], section, current_language()) if section and tab in TAB_CHART else None
    return render_template(
        "reports/dashboard.html", report=report, filters=f, f_args=f.args(), scope_args=scope_args,
        org=org, point=sp, sectors=SECTORS, surveys=_survey_choices(), sorted_units=_sorted_units,
        crumbs=_breadcrumbs(org, sp), sort=request.args.get("sort", "index"), sort_dir=request.args.get("dir", "asc"),
        tabs=[(t, str(TAB_LABELS[t])) for t in tabs], tab=tab, section=section, chart=chart,
        spark=lambda s: charts.build("spark", s, current_language()),
    )


# ---------------------------------------------------------------------------------------------
# Dashboard and drill-down


@bp.route("/")
@login_required_role(*READ_ROLES)
def dashboard():
    """The user's whole scope for the chosen period: indices, trend, units, channels."""
    return _render_report(_home_root())


def _home_root() -> Organisation | None:
    """The user's scope root; for an administrator of a single province, that province
    (its departments and communes are then the units, which is what they want to see)."""
    root = scope_root()
    if root is None:
        tops = list(db.session.scalars(sa.select(Organisation).where(Organisation.parent_id.is_(None)).limit(2)))
        if len(tops) == 1:
            return tops[0]
    return root


@bp.route("/reports/organisation/<int:org_id>")
@login_required_role(*READ_ROLES)
def report_organisation(org_id: int):
    return _render_report(organisation_in_scope(org_id))


@bp.route("/reports/point/<int:sp_id>")
@login_required_role(*READ_ROLES)
def report_point(sp_id: int):
    """A service point: its indices and every index question, each a link to its answers."""
    return _render_report(None, service_point_in_scope(sp_id))


@bp.route("/reports/point/<int:sp_id>/question/<int:question_id>")
@login_required_role(*READ_ROLES)
def report_question(sp_id: int, question_id: int):
    """One question's answers at a point: 404 unless the user may read the question's
    questionnaire and it belongs to the point, being standard or its organisation's (or an
    ancestor's) own."""
    sp = service_point_in_scope(sp_id)
    question = db.session.get(Question, question_id)
    if question is None or not questionnaire_visible(question.questionnaire):
        abort(404)
    q = question.questionnaire
    if not q.is_standard and q.organisation_id is not None and q.organisation_id not in sp.organisation.ancestor_ids():
        abort(404)
    f = _filters()
    counts = queries.question_distribution(question, [sp.id], f)
    total = sum(c for o, c in counts if not o.is_no_opinion)
    return render_template("reports/question.html", point=sp, question=question, counts=counts, total=total,
                           filters=f, f_args=f.args(), crumbs=_breadcrumbs(None, sp))


# ---------------------------------------------------------------------------------------------
# Comments


@bp.route("/reports/comments")
@login_required_role(*READ_ROLES)
def comments():
    """Free-text answers, newest first, with personal data masked."""
    f = _filters()
    org, sp = _scope_from_args()
    state = request.args.get("state", "open")
    state = state if state in ("open", "handled", "all") else "open"
    text = (request.args.get("q") or "").strip()[:100] or None
    page = max(request.args.get("page", 1, type=int), 1)
    stmt = queries.comments_query(sp.organisation if sp else org, f, state=state, text=text,
                                  service_point_id=sp.id if sp else None)
    theme = request.args.get("theme") or None
    if theme is not None and theme not in THEMES:
        raise FilterError(_("Chủ đề không hợp lệ."))
    # Counts per theme among the comments the other filters select; then the theme filter.
    counts = theme_counts(answer_ids=stmt.with_only_columns(Answer.id).order_by(None))
    if theme is not None:
        stmt = stmt.where(with_theme(theme))
    # Each comment shows its service point: loaded for the whole page at once, not one by one.
    stmt = stmt.options(selectinload(Answer.response).joinedload(Response.service_point))
    rows = list(db.session.scalars(stmt.offset((page - 1) * COMMENTS_PER_PAGE).limit(COMMENTS_PER_PAGE + 1)))
    more = len(rows) > COMMENTS_PER_PAGE
    rows = rows[:COMMENTS_PER_PAGE]
    case_of = cases_by_response([a.response_id for a in rows])
    labels = labels_of([a.id for a in rows])
    items = [(a, mask_personal_data(a.text or ""), clock.to_local(a.submitted_at), case_of.get(a.response_id))
             for a in rows]
    scope_args = {"point": sp.id} if sp else ({"org": org.id} if org is not None and org != _home_root() else {})
    return render_template("reports/comments.html", items=items, filters=f, f_args=f.args(), state=state, q=text or "",
                           page=page, more=more, scope_args=scope_args, form=OpenCaseForm(),
                           can_handle=current_user.role in WRITE_ROLES, surveys=_survey_choices(), sectors=SECTORS,
                           case_states=STATE_LABELS, done_states=CASE_DONE_STATES, theme=theme,
                           theme_counts=counts, theme_labels=THEME_LABELS, labels=labels,
                           polarity_labels=POLARITY_LABELS)


# ---------------------------------------------------------------------------------------------
# Charts: SVG from surveyapp.charts, drawn once per report and kind, then served from a cache.


def _chart_cache() -> dict:
    return current_app.extensions.setdefault("charts_cache", {})


@bp.route("/reports/chart/<kind>.svg")
@login_required_role(*READ_ROLES)
def chart(kind: str):
    """One chart of one questionnaire (``?section=``) in the scope and filters of the URL."""
    if kind not in charts.BUILDERS:
        abort(404)
    f = _filters()
    org, sp = _scope_from_args()
    qid = request.args.get("section", type=int)
    # The scope was checked above; the picture depends only on the report's inputs, so it is
    # shared by every user who may see that scope.
    key = (org.id if org else None, sp.id if sp else None, f, current_language(), kind, qid)
    cache = _chart_cache()
    now = time.monotonic()
    hit = cache.get(key)
    if hit and now - hit[0] < CACHE_SECONDS:
        svg = hit[1]
    else:
        report = _report(org, f, sp, with_items=sp is not None)
        section = next((s for s in report.sections if s.questionnaire_id == qid), None)
        if section is None:
            abort(404)
        svg = charts.build(kind, section, current_language()).svg()
        if len(cache) > 256:
            cache.clear()
        cache[key] = (now, svg)
    resp = HttpResponse(svg, mimetype="image/svg+xml")
    # The SVG is shown through <img>: no script can run; its own <style> must apply.
    resp.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    resp.headers["Cache-Control"] = f"private, max-age={CACHE_SECONDS}"
    return resp


# ---------------------------------------------------------------------------------------------
# Exports


@bp.route("/export/responses.csv")
@login_required_role(*READ_ROLES)
def export_csv():
    """Anonymised answers, UTF-8 with a byte-order mark so that Excel reads Vietnamese."""
    f = _filters()
    org, sp = _scope_from_args()
    root = sp.organisation if sp else org
    rows = queries.export_rows(root, f, service_point_id=sp.id if sp else None)
    name = f"phieu-an-danh-{(root.code if root else 'all')}-{f.date_from}-{f.date_to}.csv"
    # The mimetype alone: Flask adds the charset of text types itself.
    return HttpResponse(stream_with_context(exports.csv_chunks(queries.EXPORT_HEADER, rows)), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.route("/export/report.xlsx")
@login_required_role(*READ_ROLES)
def export_xlsx():
    f = _filters()
    org, sp = _scope_from_args()
    report = _report(org, f, sp)
    return HttpResponse(exports.xlsx_bytes(report),
                        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f'attachment; filename="{exports.export_name(report, "xlsx")}"'})


@bp.route("/export/report.pdf")
@login_required_role(*READ_ROLES)
def export_pdf():
    f = _filters()
    org, sp = _scope_from_args()
    report = _report(org, f, sp)
    return HttpResponse(exports.pdf_bytes(report), mimetype="application/pdf",
                        headers={"Content-Disposition": f'attachment; filename="{exports.export_name(report, "pdf")}"'})


@bp.app_template_global("sector_label")
def sector_label(sector: str) -> str:
    return str(SECTOR_LABELS.get(sector, sector))


@bp.app_template_filter("pct")
def pct_filter(value: float | None, digits: int = 1) -> str:
    """A share as a percentage with the decimal comma in Vietnamese."""
    return percent(value, current_language(), digits)


@bp.app_template_filter("pp")
def pp_filter(value: float | None) -> str:
    """A difference in percentage points, signed."""
    if value is None:
        return "–"
    text = f"{value * 100:+.1f}"
    return (text.replace(".", ",") if current_language() == "vi" else text)
