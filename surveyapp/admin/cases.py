"""Cases in the workspace: the list (filters, CSV and XLSX), a case's page (its comment, history,
moves and assignee), opening one from a comment, per-organisation deadlines, and the holiday
calendar of the installation.

Viewers read; managers and administrators act; everything inside the user's subtree (404
outside it). The rules are in :mod:`surveyapp.cases.service`; these views only check who may
do what and translate refusals into messages.
"""
from __future__ import annotations

import csv
import io
from datetime import date

import sqlalchemy as sa
from flask import Response as HttpResponse
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy.orm import selectinload
from wtforms import DateField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ..i18n import current_language
from ..auth.scope import (
    login_required_installation_admin,
    READ_ROLES,
    WRITE_ROLES,
    can_write,
    case_in_scope,
    login_required_role,
    organisation_in_scope,
    require_write,
    scope_root,
    service_point_in_scope,
)
from ..cases import service
from ..clock import now_utc, to_local, today
from ..extensions import db
from ..models import Answer, AuditEvent, Case, CaseDeadline, Organisation, ServicePoint, User
from ..privacy import contact_kind, mask_personal_data, may_see_unmasked
from ..reports.exports import inert
from .. import workdays
from .. import audit
from . import bp
from ..audit import changes
from .forms import AdminForm, ConfirmForm, choice_list
from .helpers import org_choices, scoped_organisations, scoped_service_points, sp_choices

CASES_PER_PAGE = 50


class TransitionForm(AdminForm):
    to = HiddenField(validators=[DataRequired()])
    resolution = TextAreaField(_l("Đã xử lý như thế nào (gửi cho người dân)"),
                               validators=[Optional(), Length(max=service.RESOLUTION_MAX)])
    note = StringField(_l("Ghi chú"), validators=[Optional(), Length(max=1000)])


class AssignForm(AdminForm):
    assignee_id = SelectField(_l("Người phụ trách"), coerce=int)


class DeadlineForm(AdminForm):
    organisation_id = SelectField(_l("Đơn vị"), coerce=int)
    working_days = IntegerField(_l("Thời hạn (ngày làm việc; để trống: theo đơn vị cấp trên)"),
                                validators=[Optional(), NumberRange(min=1, max=120)])


class HolidayForm(AdminForm):
    day = DateField(_l("Ngày"), validators=[DataRequired()])
    kind = SelectField(_l("Loại"), choices=choice_list([("off", _l("Ngày nghỉ thêm")),
                                                         ("working", _l("Ngày làm việc (làm bù)"))]))
    note = StringField(_l("Ghi chú"), validators=[Optional(), Length(max=255)])


def may_see_contacts() -> bool:
    """Who acts on a case sees the citizen's words and contact as written; viewers see them masked."""
    return can_write()



@bp.errorhandler(service.CaseError)
def case_refused(exc: service.CaseError):
    return render_template("error.html", title=_("Yêu cầu không hợp lệ"), message=str(exc), status=400), 400


def _filters() -> service.CaseFilters:
    f = service.parse_filters(request.args)
    # Every id in the URL is checked against the scope like any other (404 outside it).
    if f.org_id:
        organisation_in_scope(f.org_id)
    if f.point_id:
        service_point_in_scope(f.point_id)
    return f


def _query(f: service.CaseFilters):
    return service.case_query(scope_root(), f).options(
        selectinload(Case.service_point).joinedload(ServicePoint.organisation), selectinload(Case.answer),
        selectinload(Case.assignee))


def _name(obj) -> str:
    return (obj.name_en or obj.name) if current_language() == "en" else obj.name


def _assignee_choices() -> list[tuple[str, str]]:
    """Managers and administrators of the user's subtree, for the filter."""
    root = scope_root()
    stmt = sa.select(User).where(User.role.in_(WRITE_ROLES)).order_by(User.username)
    if root is not None:
        stmt = stmt.where(User.organisation_id.in_(sa.select(Organisation.id).where(
            Organisation.path.startswith(root.path, autoescape=True))))
    return [(str(u.id), u.full_name or u.username) for u in db.session.scalars(stmt)]


def _local(dt):
    return to_local(dt) if dt else None


@bp.route("/cases")
@login_required_role(*READ_ROLES)
def cases():
    """Cases of the user's subtree, filtered from the query string; overdue ones highlighted."""
    f = _filters()
    page = max(request.args.get("page", 1, type=int), 1)
    rows = list(db.session.scalars(_query(f).offset((page - 1) * CASES_PER_PAGE).limit(CASES_PER_PAGE + 1)))
    more, rows = len(rows) > CASES_PER_PAGE, rows[:CASES_PER_PAGE]
    now = now_utc()
    items = [(c, mask_personal_data(c.answer.text) if c.answer and c.answer.text else "",
              service.is_overdue(c, now), workdays.due_on(c.due_at)) for c in rows]
    orgs = scoped_organisations()
    return render_template(
        "admin/cases.html", items=items, filters=f, f_args=f.args(), page=page, more=more, on_time=_on_time(f),
        states=service.STATE_LABELS, org_options=org_choices(orgs), point_options=sp_choices(scoped_service_points(
            active_only=False)), assignee_options=_assignee_choices(), local=_local, name=_name)


def _on_time(f: service.CaseFilters) -> tuple[int, int, date, date]:
    """The on-time share of the unit the filters name (else the user's scope) for cases due in
    the filters' dates, else in this month so far: (on time, due, first day, last day)."""
    last = f.date_to or today()
    first = f.date_from or last.replace(day=1)
    if f.point_id:
        units = {"service_point_ids": [f.point_id]}
    else:
        root = db.session.get(Organisation, f.org_id) if f.org_id else scope_root()
        ids = [root.id] if root else list(db.session.scalars(
            sa.select(Organisation.id).where(Organisation.parent_id.is_(None))))
        units = {"org_ids": ids}
    return (*service.on_time_share(first, last, **units), first, last)


def _export_rows(f: service.CaseFilters):
    header = [_("Mã hồ sơ"), _("Ngày mở"), _("Điểm phục vụ"), _("Đơn vị"), _("Trạng thái"), _("Hạn xử lý"),
              _("Quá hạn"), _("Người phụ trách"), _("Góp ý"), _("Kết quả xử lý"), _("Ngày xử lý")]
    yield header
    now = now_utc()
    for c in db.session.scalars(_query(f)):
        resolved = _local(c.resolved_at)
        yield [inert(v) for v in (
            c.id, to_local(c.opened_at).strftime("%Y-%m-%d %H:%M"), _name(c.service_point),
            _name(c.service_point.organisation), str(service.STATE_LABELS[c.state]),
            workdays.due_on(c.due_at).isoformat(), _("Có") if service.is_overdue(c, now) else _("Không"),
            (c.assignee.full_name or c.assignee.username) if c.assignee else "",
            mask_personal_data(c.answer.text) if c.answer and c.answer.text else "",
            mask_personal_data(c.resolution or ""), resolved.strftime("%Y-%m-%d %H:%M") if resolved else "")]


@bp.route("/cases/export.csv")
@login_required_role(*READ_ROLES)
def cases_csv():
    """The filtered list as CSV (UTF-8 with a byte-order mark for Excel), comments masked, no contact."""
    f = _filters()
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    for row in _export_rows(f):
        writer.writerow(row)
    return HttpResponse(out.getvalue(), mimetype="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="phan-anh-{today()}.csv"'})


@bp.route("/cases/export.xlsx")
@login_required_role(*READ_ROLES)
def cases_xlsx():
    f = _filters()
    wb = Workbook()
    ws = wb.active
    ws.title = _("Phản ánh")[:31]
    for row in _export_rows(f):
        ws.append(row)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    buf = io.BytesIO()
    wb.save(buf)
    return HttpResponse(buf.getvalue(), mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f'attachment; filename="phan-anh-{today()}.xlsx"'})


@bp.route("/cases/<int:case_id>")
@login_required_role(*READ_ROLES)
def case_detail(case_id: int):
    """A case: the response's comments (masked unless the user acts on cases), its history, and
    for managers the moves the rules allow and the assignee."""
    case = case_in_scope(case_id)
    response = case.response
    plain = may_see_contacts()
    # Comments on health services are sensitive: unmasked only for the roles granted that right.
    plain_text = plain and may_see_unmasked(response, current_user)
    comments = [(a.question.text(current_language()), a.text if plain_text else mask_personal_data(a.text))
                for a in sorted(response.answers, key=lambda a: a.id) if a.text and a.question.type == "text"]
    history = list(db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.object_type == "Case", AuditEvent.object_id == str(case.id))
        .options(selectinload(AuditEvent.user)).order_by(AuditEvent.created_at, AuditEvent.id)))
    assign_form = AssignForm()
    assign_form.assignee_id.choices = choice_list(
        (u.id, f"{u.full_name or u.username} ({u.organisation.name if u.organisation else _('Toàn hệ thống')})")
        for u in service.assignee_candidates(case.service_point))
    assign_form.assignee_id.data = case.assignee_id
    contact = response.contact if response.contact_consent else None
    return render_template(
        "admin/case.html", case=case, comments=comments, history=history, changes=changes,
        moves=[(to, service.ACTION_LABELS[to]) for to in service.allowed_transitions(case)] if can_write() else [],
        transition_form=TransitionForm(), assign_form=assign_form, states=service.STATE_LABELS,
        origins=service.ORIGIN_LABELS, overdue=service.is_overdue(case), late=service.resolved_late(case),
        due_on=workdays.due_on(case.due_at), local=_local, name=_name, contact=contact if plain else None,
        contact_kind=contact_kind(contact) if contact else None, plain=plain,
        resolution=case.resolution if plain_text else mask_personal_data(case.resolution or ""))


@bp.route("/cases/<int:case_id>/transition", methods=["POST"])
@login_required_role(*WRITE_ROLES)
def case_transition(case_id: int):
    case = case_in_scope(case_id)
    form = TransitionForm()
    if not form.validate_on_submit():
        abort(400, description=_("Phiên làm việc đã hết hạn, vui lòng thử lại."))
    try:
        service.transition(case, form.to.data, current_user, resolution=form.resolution.data, note=form.note.data)
    except service.CaseError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("admin.case_detail", case_id=case_id)), 303
    db.session.commit()
    flash(_("Hồ sơ đã chuyển sang “%(state)s”.", state=service.STATE_LABELS[case.state]), "success")
    return redirect(url_for("admin.case_detail", case_id=case_id))


@bp.route("/cases/<int:case_id>/assign", methods=["POST"])
@login_required_role(*WRITE_ROLES)
def case_assign(case_id: int):
    case = case_in_scope(case_id)
    form = AssignForm()
    form.assignee_id.choices = choice_list((u.id, u.username) for u in service.assignee_candidates(case.service_point))
    if not form.validate_on_submit():
        abort(400, description=_("Người phụ trách không hợp lệ."))
    try:
        service.assign(case, db.session.get(User, form.assignee_id.data), current_user)
    except service.CaseError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("admin.case_detail", case_id=case_id)), 303
    db.session.commit()
    flash(_("Đã giao hồ sơ."), "success")
    return redirect(url_for("admin.case_detail", case_id=case_id))


@bp.route("/cases/open/<int:answer_id>", methods=["POST"])
@login_required_role(*WRITE_ROLES)
def case_open(answer_id: int):
    """Open a case from a comment (or go to the one its response already has)."""
    if not ConfirmForm().validate_on_submit():
        abort(400, description=_("Phiên làm việc đã hết hạn, vui lòng thử lại."))
    answer = db.session.get(Answer, answer_id)
    if answer is None or answer.text is None:
        abort(404)
    service_point_in_scope(answer.service_point_id)
    case, opened = service.open_case_for_comment(answer, current_user)
    db.session.commit()
    flash(_("Đã mở hồ sơ phản ánh.") if opened else _("Góp ý này đã có hồ sơ phản ánh."), "success")
    return redirect(url_for("admin.case_detail", case_id=case.id))


# ---------------------------------------------------------------------------------------------
# Deadlines per organisation


@bp.route("/cases/deadlines", methods=["GET", "POST"])
@login_required_role(*READ_ROLES)
def case_deadlines():
    """Each organisation's deadline (its own, or inherited) in working days; managers set them."""
    orgs = scoped_organisations()
    form = DeadlineForm()
    form.organisation_id.choices = org_choices(orgs)
    if request.method == "POST":
        require_write()
        if form.validate_on_submit():
            org = organisation_in_scope(form.organisation_id.data)
            service.set_deadline(org, form.working_days.data, current_user)
            db.session.commit()
            flash(_("Đã lưu thời hạn xử lý của %(name)s.", name=org.name), "success")
            return redirect(url_for("admin.case_deadlines"))
    own = dict(db.session.execute(sa.select(CaseDeadline.organisation_id, CaseDeadline.working_days)).all())
    rows = [(o, own.get(o.id), service.deadline_days(o, own)) for o in orgs]
    status = 422 if request.method == "POST" else 200
    return render_template("admin/case_deadlines.html", rows=rows, form=form,
                           default=current_app.config["CASE_DEADLINE_WORKING_DAYS"],
                           base=min((o.depth for o in orgs), default=0)), status


# ---------------------------------------------------------------------------------------------
# The holiday calendar of the installation (administrators)


@bp.route("/holidays", methods=["GET", "POST"])
@login_required_installation_admin
def holidays():
    """The year's statutory holidays and officials' changes; add a day off or a working day."""
    year = request.args.get("year", type=int) or today().year
    if not 1990 <= year <= 2100:
        abort(404)
    form = HolidayForm()
    if form.validate_on_submit():
        day = form.day.data
        workdays.set_day(day, form.kind.data, form.note.data)
        audit.record("calendar.set", None, after={"kind": form.kind.data, "note": form.note.data},
                     object_type="CalendarDay", object_id=day.isoformat())
        moved = service.recompute_due_dates()
        db.session.commit()
        flash(_("Đã lưu ngày %(day)s; %(n)d hồ sơ đổi hạn xử lý.", day=day.strftime("%d/%m/%Y"), n=moved), "success")
        return redirect(url_for("admin.holidays", year=day.year))
    status = 422 if request.method == "POST" else 200
    return render_template("admin/holidays.html", year=year, days=workdays.year_days(year, current_language()),
                           form=form, remove_form=ConfirmForm()), status


@bp.route("/holidays/remove", methods=["POST"])
@login_required_installation_admin
def holiday_remove():
    if not ConfirmForm().validate_on_submit():
        abort(400, description=_("Phiên làm việc đã hết hạn, vui lòng thử lại."))
    try:
        day = date.fromisoformat(request.form.get("day", ""))
    except ValueError:
        abort(400, description=_("Ngày không hợp lệ (định dạng năm-tháng-ngày)."))
    if not workdays.remove_day(day):
        abort(404)
    audit.record("calendar.remove", None, after={}, object_type="CalendarDay", object_id=day.isoformat())
    moved = service.recompute_due_dates()
    db.session.commit()
    flash(_("Đã bỏ thay đổi của ngày %(day)s; %(n)d hồ sơ đổi hạn xử lý.", day=day.strftime("%d/%m/%Y"), n=moved),
          "success")
    return redirect(url_for("admin.holidays", year=day.year))
