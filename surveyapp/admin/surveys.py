"""Surveys: a questionnaire version deployed at service points, on QR and kiosk channels,
between two dates; closed, never deleted. Once answered, a survey keeps its questionnaire and
the service points that have responses."""
from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from .. import clock, current_language
from ..auth.scope import (
    READ_ROLES,
    WRITE_ROLES,
    in_scope,
    login_required_role,
    org_filter,
    organisation_in_scope,
    questionnaire_filter,
    questionnaire_in_scope,
    service_point_in_scope,
    survey_in_scope,
)
from ..extensions import db
from ..models import Questionnaire, Response, Survey
from .. import audit
from . import bp
from .forms import SurveyForm, choice_list
from .helpers import (
    confirm_then, form_page, org_choices, org_from_arg, save_change, scoped_organisations, scoped_service_points, sp_choices,
)


@bp.route("/surveys")
@login_required_role(*READ_ROLES)
def surveys():
    rows = list(db.session.scalars(sa.select(Survey).where(org_filter(Survey.organisation_id))
                                   .order_by(Survey.status, Survey.starts_on.desc(), Survey.name)))
    return render_template("admin/surveys.html", rows=rows)


def _survey_form(survey: Survey | None) -> SurveyForm:
    form = SurveyForm(obj=survey)
    form.organisation_id.choices = org_choices(scoped_organisations(active_only=True))
    qs = db.session.scalars(sa.select(Questionnaire).where(questionnaire_filter())
                            .order_by(Questionnaire.is_standard.desc(), Questionnaire.title_vi, Questionnaire.version))
    form.questionnaire_id.choices = choice_list(
        (q.id, _("%(title)s – phiên bản %(v)d", title=q.title(current_language()), v=q.version)) for q in qs)
    points = scoped_service_points()
    if survey is not None:  # keep the ones already deployed even when deactivated since
        points += [sp for sp in survey.service_points if sp not in points and in_scope(sp.organisation)]
    form.service_point_ids.choices = sp_choices(points)
    if request.method == "GET":
        if survey is not None:
            form.service_point_ids.data = [sp.id for sp in survey.service_points]
        else:
            form.channel_qr.data = True
            form.starts_on.data = clock.today()
            org = org_from_arg()
            if org is not None:
                form.organisation_id.data = org.id
    return form


def _apply_survey_form(form: SurveyForm, survey: Survey) -> bool:
    """Copy the form into ``survey``; False (with field errors) when it would orphan responses."""
    org = organisation_in_scope(form.organisation_id.data)
    q = questionnaire_in_scope(form.questionnaire_id.data)
    points = [service_point_in_scope(i) for i in form.service_point_ids.data]
    if any(not sp.organisation.is_within(org) for sp in points):
        form.service_point_ids.errors.append(_("Các điểm phục vụ phải thuộc đơn vị tổ chức khảo sát."))
        return False
    if survey.id is not None:
        answered = set(db.session.scalars(sa.select(Response.service_point_id).where(Response.survey_id == survey.id)
                                          .distinct()))
        if answered and q.id != survey.questionnaire_id:
            form.questionnaire_id.errors.append(
                _("Đợt khảo sát đã có câu trả lời nên không thể đổi phiếu. Hãy tạo một đợt khảo sát mới."))
            return False
        if answered - {sp.id for sp in points}:
            form.service_point_ids.errors.append(
                _("Không thể bỏ điểm phục vụ đã có câu trả lời; hãy ngừng hoạt động điểm phục vụ hoặc đóng đợt khảo sát."))
            return False
    survey.organisation, survey.questionnaire = org, q
    survey.name = form.name.data.strip()
    survey.service_points = points
    survey.channel_qr, survey.channel_kiosk = form.channel_qr.data, form.channel_kiosk.data
    survey.starts_on, survey.ends_on, survey.status = form.starts_on.data, form.ends_on.data, form.status.data
    return True


def _survey_snapshot(survey: Survey) -> dict:
    return audit.snapshot(survey, extra={"service_point_ids": sorted(sp.id for sp in survey.service_points)})


@bp.route("/surveys/new", methods=["GET", "POST"])
@login_required_role(*WRITE_ROLES)
def survey_new():
    form = _survey_form(None)
    if form.validate_on_submit():
        survey = Survey()
        if _apply_survey_form(form, survey):
            db.session.add(survey)
            db.session.flush()
            audit.record("survey.create", survey, None, _survey_snapshot(survey))
            db.session.commit()
            flash(_("Đã tạo đợt khảo sát %(name)s.", name=survey.name), "success")
            return redirect(url_for("admin.surveys"))
        db.session.rollback()
    return form_page(form, _("Tạo đợt khảo sát"), cancel=url_for("admin.surveys"))


@bp.route("/surveys/<int:survey_id>/edit", methods=["GET", "POST"])
@login_required_role(*WRITE_ROLES)
def survey_edit(survey_id: int):
    survey = survey_in_scope(survey_id)
    form = _survey_form(survey)
    if form.validate_on_submit():
        before = _survey_snapshot(survey)
        if _apply_survey_form(form, survey):
            audit.record("survey.update", survey, before, _survey_snapshot(survey))
            db.session.commit()
            flash(_("Đã lưu đợt khảo sát %(name)s.", name=survey.name), "success")
            return redirect(url_for("admin.surveys"))
        db.session.rollback()
    return form_page(form, _("Sửa đợt khảo sát %(name)s", name=survey.name), cancel=url_for("admin.surveys"))


@bp.route("/surveys/<int:survey_id>/close", methods=["GET", "POST"])
@login_required_role(*WRITE_ROLES)
def survey_close(survey_id: int):
    """Close a survey (it keeps its responses; never deleted)."""
    survey = survey_in_scope(survey_id)
    back = url_for("admin.surveys")

    def close():
        return save_change(survey, lambda: setattr(survey, "status", "closed"), "survey.close",
                           done=_("Đã đóng đợt khảo sát."), back=back, snapshot=_survey_snapshot)

    return confirm_then(close, title=_("Đóng đợt khảo sát %(name)s?", name=survey.name),
                        message=_("Người dân sẽ không gửi được đánh giá mới cho đợt này. Các câu trả lời đã có được giữ nguyên."),
                        button=_("Đóng đợt khảo sát"), back=back)
