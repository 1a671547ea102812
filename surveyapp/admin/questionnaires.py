"""Questionnaires: the list and one version, cloning one for a unit, editing wording and adding
questions. Versioning (what is frozen, when a new version is made) is
:mod:`surveyapp.questionnaires`'s; who may edit is :mod:`surveyapp.auth.scope`'s."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from .. import questionnaires as versions
from ..auth.scope import (
    READ_ROLES,
    WRITE_ROLES,
    login_required_role,
    may_edit_questionnaire,
    org_filter,
    organisation_in_scope,
    questionnaire_filter,
    questionnaire_in_scope,
)
from ..extensions import db
from ..models import Question, Questionnaire, Survey
from .. import audit
from . import bp
from .forms import CloneForm, NewQuestionForm, QuestionnaireTitleForm, QuestionTextForm, choice_list
from .helpers import form_page, org_choices, scoped_organisations


@bp.route("/questionnaires")
@login_required_role(*READ_ROLES)
def questionnaires():
    rows = list(db.session.scalars(sa.select(Questionnaire).where(questionnaire_filter())
                                   .order_by(Questionnaire.is_standard.desc(), Questionnaire.family,
                                             Questionnaire.version.desc())))
    return render_template("admin/questionnaires.html", rows=rows, used=versions.used_ids(),
                           frozen=versions.frozen_ids())


@bp.route("/questionnaires/<int:questionnaire_id>")
@login_required_role(*READ_ROLES)
def questionnaire(questionnaire_id: int):
    q = questionnaire_in_scope(questionnaire_id)
    family = list(db.session.scalars(sa.select(Questionnaire).where(Questionnaire.family == q.family)
                                     .order_by(Questionnaire.version)))
    surveys = list(db.session.scalars(sa.select(Survey).where(Survey.questionnaire_id == q.id,
                                                              org_filter(Survey.organisation_id))))
    return render_template("admin/questionnaire.html", q=q, versions=family, surveys=surveys,
                           frozen=q.is_frozen(), may_edit=may_edit_questionnaire(q))


@bp.route("/questionnaires/<int:questionnaire_id>/clone", methods=["GET", "POST"])
@login_required_role(*WRITE_ROLES)
def questionnaire_clone(questionnaire_id: int):
    """Clone a questionnaire into a new family owned by an organisation (version 1)."""
    src = questionnaire_in_scope(questionnaire_id)
    form = CloneForm()
    form.organisation_id.choices = org_choices(scoped_organisations(active_only=True))
    if request.method == "GET":
        form.title_vi.data, form.title_en.data = src.title_vi, src.title_en
    if form.validate_on_submit():
        org = organisation_in_scope(form.organisation_id.data)
        q = versions.clone_for(src, org, title_vi=form.title_vi.data.strip(), title_en=form.title_en.data.strip())
        audit.record("questionnaire.clone", q, None, audit.snapshot(q, extra={"copied_from": src.id}))
        db.session.commit()
        flash(_("Đã tạo phiếu %(title)s.", title=q.title_vi), "success")
        return redirect(url_for("admin.questionnaire", questionnaire_id=q.id))
    return form_page(form, _("Sao chép phiếu %(title)s", title=src.title_vi),
                     cancel=url_for("admin.questionnaire", questionnaire_id=src.id), submit=_("Sao chép"))


def _editable(q: Questionnaire) -> tuple[Questionnaire, bool]:
    """The version to edit (:func:`versions.editable_version`), a new one recorded as such."""
    target, new = versions.editable_version(q)
    if new:
        audit.record("questionnaire.new_version", target, None, audit.snapshot(target, extra={"copied_from": q.id}))
    return target, new


def _version_notice(q: Questionnaire) -> str | None:
    if versions.needs_new_version(q):
        return _("Phiên bản này đã có câu trả lời (hoặc là phiếu chuẩn) nên được giữ nguyên: lưu thay đổi sẽ tạo một "
                 "phiên bản mới. Các đợt khảo sát hiện có vẫn dùng phiên bản cũ.")
    return None


@bp.route("/questionnaires/<int:questionnaire_id>/edit", methods=["GET", "POST"])
@login_required_role(*WRITE_ROLES)
def questionnaire_edit(questionnaire_id: int):
    q = questionnaire_in_scope(questionnaire_id, write=True)
    form = QuestionnaireTitleForm(obj=q)
    if form.validate_on_submit():
        target, new = _editable(q)
        before = None if new else audit.snapshot(target)
        target.title_vi, target.title_en = form.title_vi.data.strip(), form.title_en.data.strip()
        audit.record("questionnaire.update", target, before)
        db.session.commit()
        flash(_("Đã tạo phiên bản %(v)d.", v=target.version) if new else _("Đã lưu."), "success")
        return redirect(url_for("admin.questionnaire", questionnaire_id=target.id))
    return form_page(form, _("Sửa tên phiếu"), cancel=url_for("admin.questionnaire", questionnaire_id=q.id),
                     intro=_version_notice(q))


@bp.route("/questionnaires/<int:questionnaire_id>/questions/<int:question_id>/edit", methods=["GET", "POST"])
@login_required_role(*WRITE_ROLES)
def question_edit(questionnaire_id: int, question_id: int):
    q = questionnaire_in_scope(questionnaire_id, write=True)
    question = db.session.get(Question, question_id)
    if question is None or question.questionnaire_id != q.id:
        abort(404)
    form = QuestionTextForm(obj=question)
    if form.validate_on_submit():
        target, new = _editable(q)
        target_question = next(x for x in target.questions if x.code == question.code)
        before = audit.snapshot(target_question) if not new else None
        target_question.text_vi, target_question.text_en = form.text_vi.data.strip(), form.text_en.data.strip()
        audit.record("question.update", target_question, before)
        db.session.commit()
        flash(_("Đã tạo phiên bản %(v)d.", v=target.version) if new else _("Đã lưu."), "success")
        return redirect(url_for("admin.questionnaire", questionnaire_id=target.id))
    return form_page(form, _("Sửa câu hỏi %(code)s", code=question.code),
                     cancel=url_for("admin.questionnaire", questionnaire_id=q.id), intro=_version_notice(q))


@bp.route("/questionnaires/<int:questionnaire_id>/questions/new", methods=["GET", "POST"])
@login_required_role(*WRITE_ROLES)
def question_new(questionnaire_id: int):
    q = questionnaire_in_scope(questionnaire_id, write=True)
    form = NewQuestionForm()
    form.aspect_id.choices = choice_list([(0, _("(Không thuộc khía cạnh nào)"))] + [(a.id, a.title_vi) for a in q.aspects])
    if form.validate_on_submit():
        if any(x.code == form.code.data for x in q.questions):
            form.code.errors.append(_("Mã câu hỏi đã có trong phiếu này."))
        elif form.aspect_id.data and form.aspect_id.data not in {a.id for a in q.aspects}:
            abort(400)
        else:
            aspect_code = next((a.code for a in q.aspects if a.id == form.aspect_id.data), None)
            target, new = _editable(q)
            position = max((x.position for x in target.questions), default=0) + 1
            question = Question(
                position=position, code=form.code.data, type=form.type.data, text_vi=form.text_vi.data.strip(),
                text_en=form.text_en.data.strip(), required=form.required.data,
                counts_in_index=form.counts_in_index.data and aspect_code is not None,
                min_value=form.min_value.data if form.type.data == "number" else None,
                max_value=form.max_value.data if form.type.data == "number" else None,
                max_length=1000 if form.type.data == "text" else None,
                aspect=next((a for a in target.aspects if a.code == aspect_code), None),
                options=versions.options_for(form.type.data, form.parsed_options()))
            target.questions.append(question)
            audit.record("question.create", question)
            db.session.commit()
            flash(_("Đã tạo phiên bản %(v)d.", v=target.version) if new else _("Đã thêm câu hỏi."), "success")
            return redirect(url_for("admin.questionnaire", questionnaire_id=target.id))
    return form_page(form, _("Thêm câu hỏi vào %(title)s", title=q.title_vi),
                     cancel=url_for("admin.questionnaire", questionnaire_id=q.id), intro=_version_notice(q))
