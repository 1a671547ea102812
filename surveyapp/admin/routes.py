"""Administration views of the workspace: organisations, service points, questionnaires,
surveys, kiosk devices, users, targets, service volumes and the audit log.

Every view is wrapped in :func:`login_required_role`; every object named in a URL
is resolved through a ``*_in_scope`` helper (404 outside the user's subtree); every
change goes through :func:`audit.record` in the same transaction. Nothing that
responses refer to is ever deleted: it is deactivated (organisations, service
points, users), closed (surveys) or revoked (kiosk devices).
"""
from __future__ import annotations

import csv
import io
import secrets
from datetime import date
from urllib.parse import urlencode

import sqlalchemy as sa
from flask import abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from wtforms.fields.choices import SelectChoice

from ..auth.scope import (
    READ_ROLES,
    WRITE_ROLES,
    can_write,
    device_in_scope,
    in_scope,
    login_required_role,
    org_filter,
    organisation_in_scope,
    questionnaire_filter,
    questionnaire_in_scope,
    scope_root,
    service_point_in_scope,
    survey_in_scope,
    target_in_scope,
    user_in_scope,
)
from ..auth.forms import LogoutForm
from ..extensions import db
from ..models import (
    Aspect,
    AuditEvent,
    KioskDevice,
    Option,
    Organisation,
    Question,
    Questionnaire,
    Response,
    ServicePoint,
    ServiceVolume,
    Survey,
    Target,
    User,
    move_organisation,
    utcnow,
)
from .. import current_language
from . import audit, bp
from .forms import (
    AuditFilterForm,
    CloneForm,
    ConfirmForm,
    DeviceForm,
    DeviceMoveForm,
    DeviceRenameForm,
    NewQuestionForm,
    OrganisationForm,
    QuestionnaireTitleForm,
    QuestionTextForm,
    ServicePointForm,
    SurveyForm,
    TargetForm,
    UserForm,
    VolumeForm,
    VolumeUploadForm,
    choice_list,
    role_choices,
    sector_choices,
)


def N_(message: str) -> str:
    """Marks a msgid for extraction; translated when rendered."""
    return message


# (endpoint, label, roles): the workspace navigation. Links to views that do not exist
# (yet) are left out.
NAV = (
    ("admin.dashboard", N_("Tổng quan"), READ_ROLES),
    ("admin.organisations", N_("Đơn vị"), READ_ROLES),
    ("admin.service_points", N_("Điểm phục vụ"), READ_ROLES),
    ("admin.questionnaires", N_("Phiếu khảo sát"), READ_ROLES),
    ("admin.surveys", N_("Đợt khảo sát"), READ_ROLES),
    ("admin.comments", N_("Góp ý"), READ_ROLES),
    ("admin.alerts", N_("Cảnh báo"), READ_ROLES),
    ("admin.deliveries", N_("Thư và webhook đã gửi"), READ_ROLES),
    ("admin.kiosks", N_("Máy đánh giá"), READ_ROLES),
    ("admin.users", N_("Người dùng"), WRITE_ROLES),
    ("admin.targets", N_("Chỉ tiêu"), READ_ROLES),
    ("admin.audit_log", N_("Nhật ký thay đổi"), ("admin",)),
)


@bp.context_processor
def workspace_context():
    """Navigation, the language switch and the user's rights, for templates/admin/layout.html."""
    nav = []
    if current_user.is_authenticated:
        for endpoint, label, roles in NAV:
            if endpoint in current_app.view_functions and current_user.role in roles:
                nav.append((endpoint, _(label), request.endpoint == endpoint))

    def lang_url(code: str) -> str:
        """This page in another language, keeping its filters."""
        args = request.args.to_dict()
        args["lang"] = code
        return request.path + "?" + urlencode(args)

    # The sign-out button's CSRF token; only on workspace pages, so that citizens' pages set no cookie.
    return {"workspace_nav": nav, "lang_url": lang_url, "can_write": can_write(), "logout_form": LogoutForm()}


# ---------------------------------------------------------------------------------------------
# Helpers


def scoped_organisations(*, active_only: bool = False) -> list[Organisation]:
    """The organisations of the user's subtree in tree order (parents before children, by name)."""
    stmt = sa.select(Organisation).where(org_filter(Organisation.id))
    if active_only:
        stmt = stmt.where(Organisation.active)
    orgs = list(db.session.scalars(stmt))
    names = {o.id: o.name.casefold() for o in orgs}
    return sorted(orgs, key=lambda o: [names.get(i, "") for i in o.ancestor_ids()])


def org_label(org: Organisation, base_depth: int = 0) -> str:
    return "— " * max(org.depth - base_depth, 0) + f"{org.name} ({org.code})"


def org_choices(orgs: list[Organisation], *, none_label: str | None = None) -> list[tuple[int, str]]:
    base = min((o.depth for o in orgs), default=0)
    choices = [(0, none_label)] if none_label else []
    return choice_list(choices + [(o.id, org_label(o, base)) for o in orgs])


def scoped_service_points(*, active_only: bool = True, under: Organisation | None = None) -> list[ServicePoint]:
    stmt = sa.select(ServicePoint).join(Organisation).where(org_filter(ServicePoint.organisation_id))
    if under is not None:
        stmt = stmt.where(Organisation.path.startswith(under.path, autoescape=True))
    if active_only:
        stmt = stmt.where(ServicePoint.active)
    return list(db.session.scalars(stmt.order_by(Organisation.name, ServicePoint.name)))


def sp_choices(points: list[ServicePoint]) -> list[tuple[int, str]]:
    return choice_list((sp.id, f"{sp.name} – {sp.organisation.name}") for sp in points)


def org_from_arg(name: str = "org") -> Organisation | None:
    """An optional ``?org=`` filter, checked against the scope like any id in a URL."""
    value = request.args.get(name, type=int)
    return organisation_in_scope(value) if value else None


def commit_or_error(message: str) -> bool:
    """Commit; on a constraint violation roll back everything (nothing half-stored) and flash."""
    try:
        db.session.commit()
        return True
    except IntegrityError:
        db.session.rollback()
        flash(message, "error")
        return False


def confirm_page(title: str, message: str, button: str, cancel: str, *, danger: bool = True):
    return render_template("admin/confirm.html", title=title, message=message, button=button, cancel=cancel,
                           danger=danger, form=ConfirmForm())


def form_page(form, title: str, *, cancel: str, submit: str | None = None, intro: str | None = None,
              multipart: bool = False, status: int = 200):
    if request.method == "POST" and form.errors:
        status = 422  # the browser shows the form again; scripts and tests see the refusal
    return render_template("admin/form.html", form=form, title=title, cancel=cancel, submit=submit or _("Lưu"),
                           intro=intro, multipart=multipart), status


# ---------------------------------------------------------------------------------------------
# Organisations


@bp.route("/organisations")
@login_required_role(*READ_ROLES)
def organisations():
    """The organisation tree of the user's subtree, with counts of service points."""
    orgs = scoped_organisations()
    counts = dict(db.session.execute(
        sa.select(ServicePoint.organisation_id, sa.func.count(ServicePoint.id))
        .where(ServicePoint.active, org_filter(ServicePoint.organisation_id))
        .group_by(ServicePoint.organisation_id)
    ).all())
    base = min((o.depth for o in orgs), default=0)
    return render_template("admin/organisations.html", orgs=orgs, counts=counts, base=base)


def _organisation_form(org: Organisation | None) -> OrganisationForm:
    form = OrganisationForm(obj=org)
    candidates = scoped_organisations(active_only=True)
    if org is not None:
        candidates = [o for o in candidates if not o.is_within(org)]  # never under itself
    root = scope_root()
    form.parent_id.choices = org_choices(candidates, none_label=_("(Cấp cao nhất)") if root is None else None)
    if org is not None and root is not None and (org.parent is None or not in_scope(org.parent)):
        # A manager's own root stays where the administrator put it.
        del form.parent_id
    elif request.method == "GET":
        if org is not None:
            form.parent_id.data = org.parent_id or 0
        else:
            parent = org_from_arg("parent")
            form.parent_id.data = parent.id if parent else (root.id if root else 0)
            if parent is not None:
                form.sector.data = parent.sector
    return form


def _parent_from_form(form: OrganisationForm) -> Organisation | None:
    if form.parent_id.data == 0:
        if scope_root() is not None:
            abort(403)
        return None
    return organisation_in_scope(form.parent_id.data)


def _code_taken(model, code: str, own_id: int | None = None) -> bool:
    stmt = sa.select(model.id).where(model.code == code)
    if own_id is not None:
        stmt = stmt.where(model.id != own_id)
    return db.session.scalar(stmt) is not None


@bp.route("/organisations/new", methods=["GET", "POST"])
@login_required_role(*WRITE_ROLES)
def organisation_new():
    form = _organisation_form(None)
    if form.validate_on_submit():
        if _code_taken(Organisation, form.code.data.strip()):
            form.code.errors.append(_("Mã đơn vị đã được dùng."))
        else:
            org = Organisation(code=form.code.data.strip(), name=form.name.data.strip(),
                               name_en=(form.name_en.data or "").strip() or None, sector=form.sector.data,
                               parent=_parent_from_form(form))
            db.session.add(org)
            db.session.flush()
            audit.record("organisation.create", org)
            if commit_or_error(_("Mã đơn vị đã được dùng.")):
                flash(_("Đã tạo đơn vị %(name)s.", name=org.name), "success")
                return redirect(url_for("admin.organisations"))
    return form_page(form, _("Thêm đơn vị"), cancel=url_for("admin.organisations"))


@bp.route("/organisations/<int:org_id>/edit", methods=["GET", "POST"])
@login_required_role(*WRITE_ROLES)
def organisation_edit(org_id: int):
    org = organisation_in_scope(org_id)
    form = _organisation_form(org)
    if form.validate_on_submit():
        if _code_taken(Organisation, form.code.data.strip(), org.id):
            form.code.errors.append(_("Mã đơn vị đã được dùng."))
        else:
            before = audit.snapshot(org)
            org.code, org.name = form.code.data.strip(), form.name.data.strip()
            org.name_en = (form.name_en.data or "").strip() or None
            org.sector = form.sector.data
            if "parent_id" in form:
                parent = _parent_from_form(form)
                if parent is not None and parent.is_within(org):
                    abort(400)
                if (parent.id if parent else None) != org.parent_id:
                    move_organisation(org, parent)
                    org = db.session.get(Organisation, org_id)
            audit.record("organisation.update", org, before)
            if commit_or_error(_("Mã đơn vị đã được dùng.")):
                flash(_("Đã lưu đơn vị %(name)s.", name=org.name), "success")
                return redirect(url_for("admin.organisations"))
    return form_page(form, _("Sửa đơn vị %(name)s", name=org.name), cancel=url_for("admin.organisations"))


@bp.route("/organisations/<int:org_id>/toggle", methods=["GET", "POST"])
@login_required_role(*WRITE_ROLES)
def organisation_toggle(org_id: int):
    """Deactivate (or reactivate) an organisation; never deleted, responses refer to it."""
    org = organisation_in_scope(org_id)
    if org.active and org.id == getattr(scope_root(), "id", None):
        abort(403)  # a manager cannot switch off their own root
    cancel = url_for("admin.organisations")
    if request.method == "POST":
        if not ConfirmForm().validate_on_submit():
            abort(400)
        before = audit.snapshot(org)
        org.active = not org.active
        audit.record("organisation.activate" if org.active else "organisation.deactivate", org, before)
        db.session.commit()
        flash(_("Đã kích hoạt lại đơn vị.") if org.active else _("Đã ngừng hoạt động đơn vị."), "success")
        return redirect(cancel)
    if org.active:
        return confirm_page(_("Ngừng hoạt động đơn vị %(name)s?", name=org.name),
                            _("Đơn vị sẽ không còn xuất hiện trong danh sách chọn. Dữ liệu khảo sát đã có được giữ nguyên."),
                            _("Ngừng hoạt động"), cancel)
    return confirm_page(_("Kích hoạt lại đơn vị %(name)s?", name=org.name), "", _("Kích hoạt lại"), cancel, danger=False)


# ---------------------------------------------------------------------------------------------
# Service points and posters


@bp.route("/service-points")
@login_required_role(*READ_ROLES)
def service_points():
    org = org_from_arg()
    points = scoped_service_points(active_only=False, under=org)
    return render_template("admin/service_points.html", points=points, org=org)


def _service_point_form(sp: ServicePoint | None) -> ServicePointForm:
    form = ServicePointForm(obj=sp)
    form.organisation_id.choices = org_choices(scoped_organisations(active_only=True))
    if request.method == "GET" and sp is None:
        org = org_from_arg()
        if org is not None:
            form.organisation_id.data = org.id
    return form


@bp.route("/service-points/new", methods=["GET", "POST"])
@login_required_role(*WRITE_ROLES)
def service_point_new():
    form = _service_point_form(None)
    if form.validate_on_submit():
        org = organisation_in_scope(form.organisation_id.data)
        sp = ServicePoint(organisation=org, name=form.name.data.strip(), name_en=(form.name_en.data or "").strip() or None)
        db.session.add(sp)
        audit.record("service_point.create", sp)
        db.session.commit()
        flash(_("Đã tạo điểm phục vụ %(name)s.", name=sp.name), "success")
        return redirect(url_for("admin.service_points", org=org.id))
    return form_page(form, _("Thêm điểm phục vụ"), cancel=url_for("admin.service_points"))


@bp.route("/service-points/<int:sp_id>/edit", methods=["GET", "POST"])
@login_required_role(*WRITE_ROLES)
def service_point_edit(sp_id: int):
    sp = service_point_in_scope(sp_id)
    form = _service_point_form(sp)
    if form.validate_on_submit():
        before = audit.snapshot(sp)
        sp.organisation = organisation_in_scope(form.organisation_id.data)
        sp.name, sp.name_en = form.name.data.strip(), (form.name_en.data or "").strip() or None
        audit.record("service_point.update", sp, before)
        db.session.commit()
        flash(_("Đã lưu điểm phục vụ %(name)s.", name=sp.name), "success")
        return redirect(url_for("admin.service_points", org=sp.organisation_id))
    return form_page(form, _("Sửa điểm phục vụ %(name)s", name=sp.name), cancel=url_for("admin.service_points"))


@bp.route("/service-points/<int:sp_id>/toggle", methods=["GET", "POST"])
@login_required_role(*WRITE_ROLES)
def service_point_toggle(sp_id: int):
    sp = service_point_in_scope(sp_id)
    cancel = url_for("admin.service_points", org=sp.organisation_id)
    if request.method == "POST":
        if not ConfirmForm().validate_on_submit():
            abort(400)
        before = audit.snapshot(sp)
        sp.active = not sp.active
        audit.record("service_point.activate" if sp.active else "service_point.deactivate", sp, before)
        db.session.commit()
        flash(_("Đã kích hoạt lại điểm phục vụ.") if sp.active else _("Đã ngừng hoạt động điểm phục vụ."), "success")
        return redirect(cancel)
    if sp.active:
        return confirm_page(_("Ngừng hoạt động điểm phục vụ %(name)s?", name=sp.name),
                            _("Mã QR của điểm này sẽ không nhận đánh giá mới. Các đánh giá đã có được giữ nguyên."),
                            _("Ngừng hoạt động"), cancel)
    return confirm_page(_("Kích hoạt lại điểm phục vụ %(name)s?", name=sp.name), "", _("Kích hoạt lại"), cancel,
                        danger=False)


def _paper() -> str:
    return "A5" if request.args.get("paper", "").upper() == "A5" else "A4"


def _posters_response(points: list[ServicePoint]):
    from .. import qr

    html = qr.render_posters(points, paper=_paper())
    response = make_response(html)
    response.headers["Content-Type"] = "text/html; charset=utf-8"
    return response


@bp.route("/service-points/<int:sp_id>/poster")
@login_required_role(*READ_ROLES)
def service_point_poster(sp_id: int):
    """The printable QR poster of one service point."""
    sp = service_point_in_scope(sp_id)
    if not sp.active:
        abort(404)
    return _posters_response([sp])


@bp.route("/organisations/<int:org_id>/posters")
@login_required_role(*READ_ROLES)
def organisation_posters(org_id: int):
    """The posters of every active service point in an organisation's subtree, for batch printing."""
    org = organisation_in_scope(org_id)
    points = scoped_service_points(under=org)
    if not points:
        flash(_("Đơn vị này chưa có điểm phục vụ nào đang hoạt động."), "info")
        return redirect(url_for("admin.organisations"))
    return _posters_response(points)


# ---------------------------------------------------------------------------------------------
# Service volumes


def _first_of_month(text: str) -> date:
    year, month = text.strip().split("-")
    return date(int(year), int(month), 1)


def _set_volume(sp: ServicePoint, month: date, volume: int) -> None:
    row = db.session.scalar(sa.select(ServiceVolume).where(ServiceVolume.service_point_id == sp.id,
                                                           ServiceVolume.month == month))
    before = audit.snapshot(row)
    if row is None:
        row = ServiceVolume(service_point=sp, month=month, volume=volume)
        db.session.add(row)
    else:
        row.volume = volume
    audit.record("service_volume.set", row, before)


@bp.route("/service-points/<int:sp_id>/volumes", methods=["GET", "POST"])
@login_required_role(*READ_ROLES)
def service_point_volumes(sp_id: int):
    """Monthly service volumes (the weights of the population estimate): one month or a CSV file."""
    sp = service_point_in_scope(sp_id)
    form = VolumeForm(prefix="one")
    upload = VolumeUploadForm(prefix="csv")
    status = 200
    if request.method == "POST":
        if not can_write():
            abort(403)
        if "csv-file" in request.files or request.form.get("which") == "csv":
            if upload.validate_on_submit():
                rows, error = _parse_volumes(upload.file.data)
                if error:
                    upload.file.errors.append(error)
                else:
                    for month, volume in rows:
                        _set_volume(sp, month, volume)
                    db.session.commit()
                    flash(_("Đã nhập %(n)d tháng.", n=len(rows)), "success")
                    return redirect(url_for("admin.service_point_volumes", sp_id=sp.id))
        elif form.validate_on_submit():
            _set_volume(sp, _first_of_month(form.month.data), form.volume.data)
            db.session.commit()
            flash(_("Đã lưu số lượt phục vụ."), "success")
            return redirect(url_for("admin.service_point_volumes", sp_id=sp.id))
        status = 422
    volumes = list(db.session.scalars(sa.select(ServiceVolume).where(ServiceVolume.service_point_id == sp.id)
                                      .order_by(ServiceVolume.month.desc())))
    return render_template("admin/volumes.html", sp=sp, volumes=volumes, form=form, upload=upload), status


def _parse_volumes(storage) -> tuple[list[tuple[date, int]], str | None]:
    """Rows of a CSV with columns month (YYYY-MM) and volume; all or nothing."""
    from .forms import MONTH_RE

    try:
        text = storage.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], _("Tệp phải là CSV mã hóa UTF-8.")
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or not {"month", "volume"} <= {f.strip().lower() for f in reader.fieldnames}:
        return [], _("Tệp cần hai cột: month và volume.")
    rows: dict[date, int] = {}
    for line_no, raw in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
        if not MONTH_RE.match(row.get("month", "")):
            return [], _("Dòng %(n)d: tháng không hợp lệ (định dạng năm-tháng).", n=line_no)
        try:
            volume = int(row.get("volume", ""))
        except ValueError:
            volume = -1
        if not 0 <= volume <= 10_000_000:
            return [], _("Dòng %(n)d: số lượt phải là số nguyên từ 0 đến 10.000.000.", n=line_no)
        rows[_first_of_month(row["month"])] = volume
    if not rows:
        return [], _("Tệp không có dòng dữ liệu nào.")
    return sorted(rows.items()), None


# ---------------------------------------------------------------------------------------------
# Questionnaires: clone a standard one, edit wording, add questions; versions with responses are frozen


@bp.route("/questionnaires")
@login_required_role(*READ_ROLES)
def questionnaires():
    rows = list(db.session.scalars(sa.select(Questionnaire).where(questionnaire_filter())
                                   .order_by(Questionnaire.is_standard.desc(), Questionnaire.family,
                                             Questionnaire.version.desc())))
    used = set(db.session.scalars(sa.select(Survey.questionnaire_id).distinct()))
    frozen = set(db.session.scalars(
        sa.select(Survey.questionnaire_id).join(Response, Response.survey_id == Survey.id).distinct()))
    return render_template("admin/questionnaires.html", rows=rows, used=used, frozen=frozen)


def _may_edit(q: Questionnaire) -> bool:
    if not can_write():
        return False
    return not q.is_standard or current_user.role == "admin"


@bp.route("/questionnaires/<int:questionnaire_id>")
@login_required_role(*READ_ROLES)
def questionnaire(questionnaire_id: int):
    q = questionnaire_in_scope(questionnaire_id)
    versions = list(db.session.scalars(sa.select(Questionnaire).where(Questionnaire.family == q.family)
                                       .order_by(Questionnaire.version)))
    surveys = list(db.session.scalars(sa.select(Survey).where(Survey.questionnaire_id == q.id,
                                                              org_filter(Survey.organisation_id))))
    return render_template("admin/questionnaire.html", q=q, versions=versions, surveys=surveys,
                           frozen=q.is_frozen(), may_edit=_may_edit(q))


def copy_questionnaire(src: Questionnaire, **overrides) -> Questionnaire:
    """A deep copy of ``src`` (aspects, questions, options); ``overrides`` set family, version..."""
    q = Questionnaire(family=src.family, version=src.version, title_vi=src.title_vi, title_en=src.title_en,
                      sector=src.sector, indicator=src.indicator, is_standard=False,
                      organisation_id=src.organisation_id)
    for key, value in overrides.items():
        setattr(q, key, value)
    aspects = {}
    for a in src.aspects:
        aspects[a.id] = Aspect(position=a.position, code=a.code, title_vi=a.title_vi, title_en=a.title_en)
        q.aspects.append(aspects[a.id])
    for s in src.questions:
        copy = Question(position=s.position, code=s.code, type=s.type, text_vi=s.text_vi, text_en=s.text_en,
                        required=s.required, counts_in_index=s.counts_in_index, min_value=s.min_value,
                        max_value=s.max_value, max_length=s.max_length, follows_code=s.follows_code,
                        follows_max_value=s.follows_max_value,
                        aspect=aspects.get(s.aspect_id) if s.aspect_id else None)
        for o in s.options:
            copy.options.append(Option(position=o.position, code=o.code, value=o.value, label_vi=o.label_vi,
                                       label_en=o.label_en, is_satisfied=o.is_satisfied, is_no_opinion=o.is_no_opinion))
        q.questions.append(copy)
    db.session.add(q)
    db.session.flush()
    return q


def editable_version(q: Questionnaire) -> tuple[Questionnaire, bool]:
    """The version to edit: ``q`` itself, or a new version n+1 when ``q`` has responses (frozen)."""
    if q.is_standard and current_user.role != "admin":
        abort(403)
    if not q.is_frozen() and not q.is_standard:
        return q, False
    latest = db.session.scalar(sa.select(sa.func.max(Questionnaire.version)).where(Questionnaire.family == q.family))
    new = copy_questionnaire(q, version=latest + 1, is_standard=q.is_standard)
    audit.record("questionnaire.new_version", new, None,
                 audit.snapshot(new, extra={"copied_from": q.id}))
    return new, True


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
        family = f"{src.family[:30]}-{org.code.lower()[:16]}-{secrets.token_hex(3)}"
        q = copy_questionnaire(src, family=family, version=1, organisation_id=org.id,
                               title_vi=form.title_vi.data.strip(), title_en=form.title_en.data.strip())
        audit.record("questionnaire.clone", q, None, audit.snapshot(q, extra={"copied_from": src.id}))
        db.session.commit()
        flash(_("Đã tạo phiếu %(title)s.", title=q.title_vi), "success")
        return redirect(url_for("admin.questionnaire", questionnaire_id=q.id))
    return form_page(form, _("Sao chép phiếu %(title)s", title=src.title_vi),
                     cancel=url_for("admin.questionnaire", questionnaire_id=src.id), submit=_("Sao chép"))


def _version_notice(q: Questionnaire) -> str | None:
    if q.is_frozen() or q.is_standard:
        return _("Phiên bản này đã có câu trả lời (hoặc là phiếu chuẩn) nên được giữ nguyên: lưu thay đổi sẽ tạo một "
                 "phiên bản mới. Các đợt khảo sát hiện có vẫn dùng phiên bản cũ.")
    return None


@bp.route("/questionnaires/<int:questionnaire_id>/edit", methods=["GET", "POST"])
@login_required_role(*WRITE_ROLES)
def questionnaire_edit(questionnaire_id: int):
    q = questionnaire_in_scope(questionnaire_id, write=True)
    form = QuestionnaireTitleForm(obj=q)
    if form.validate_on_submit():
        target, new = editable_version(q)
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
        target, new = editable_version(q)
        target_question = next(x for x in target.questions if x.code == question.code)
        before = audit.snapshot(target_question) if not new else None
        target_question.text_vi, target_question.text_en = form.text_vi.data.strip(), form.text_en.data.strip()
        audit.record("question.update", target_question, before)
        db.session.commit()
        flash(_("Đã tạo phiên bản %(v)d.", v=target.version) if new else _("Đã lưu."), "success")
        return redirect(url_for("admin.questionnaire", questionnaire_id=target.id))
    return form_page(form, _("Sửa câu hỏi %(code)s", code=question.code),
                     cancel=url_for("admin.questionnaire", questionnaire_id=q.id), intro=_version_notice(q))


RATING_SCALE = (
    (1, "v1", "Rất không hài lòng", "Very dissatisfied", False),
    (2, "v2", "Không hài lòng", "Dissatisfied", False),
    (3, "v3", "Bình thường", "Neutral", False),
    (4, "v4", "Hài lòng", "Satisfied", True),
    (5, "v5", "Rất hài lòng", "Very satisfied", True),
)


def _options_for(form: NewQuestionForm) -> list[Option]:
    kind = form.type.data
    if kind == "rating":
        options = [Option(position=i, code=c, value=v, label_vi=vi, label_en=en, is_satisfied=s)
                   for i, (v, c, vi, en, s) in enumerate(RATING_SCALE, start=1)]
        options.append(Option(position=6, code="na", label_vi="Không ý kiến / Không áp dụng",
                              label_en="No opinion / Not applicable", is_no_opinion=True))
        return options
    if kind == "yesno":
        return [Option(position=1, code="yes", value=1, label_vi="Có", label_en="Yes"),
                Option(position=2, code="no", value=0, label_vi="Không", label_en="No")]
    if kind == "choice":
        return [Option(position=i, code=f"o{i}", label_vi=vi, label_en=en)
                for i, (vi, en) in enumerate(form.parsed_options(), start=1)]
    return []


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
            target, new = editable_version(q)
            position = max((x.position for x in target.questions), default=0) + 1
            question = Question(
                position=position, code=form.code.data, type=form.type.data, text_vi=form.text_vi.data.strip(),
                text_en=form.text_en.data.strip(), required=form.required.data,
                counts_in_index=form.counts_in_index.data and aspect_code is not None,
                min_value=form.min_value.data if form.type.data == "number" else None,
                max_value=form.max_value.data if form.type.data == "number" else None,
                max_length=1000 if form.type.data == "text" else None,
                aspect=next((a for a in target.aspects if a.code == aspect_code), None),
                options=_options_for(form))
            target.questions.append(question)
            audit.record("question.create", question)
            db.session.commit()
            flash(_("Đã tạo phiên bản %(v)d.", v=target.version) if new else _("Đã thêm câu hỏi."), "success")
            return redirect(url_for("admin.questionnaire", questionnaire_id=target.id))
    return form_page(form, _("Thêm câu hỏi vào %(title)s", title=q.title_vi),
                     cancel=url_for("admin.questionnaire", questionnaire_id=q.id), intro=_version_notice(q))


# ---------------------------------------------------------------------------------------------
# Surveys


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
            form.starts_on.data = date.today()
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
    cancel = url_for("admin.surveys")
    if request.method == "POST":
        if not ConfirmForm().validate_on_submit():
            abort(400)
        before = _survey_snapshot(survey)
        survey.status = "closed"
        audit.record("survey.close", survey, before, _survey_snapshot(survey))
        db.session.commit()
        flash(_("Đã đóng đợt khảo sát."), "success")
        return redirect(cancel)
    return confirm_page(_("Đóng đợt khảo sát %(name)s?", name=survey.name),
                        _("Người dân sẽ không gửi được đánh giá mới cho đợt này. Các câu trả lời đã có được giữ nguyên."),
                        _("Đóng đợt khảo sát"), cancel)


# ---------------------------------------------------------------------------------------------
# Kiosk devices


@bp.route("/kiosks")
@login_required_role(*READ_ROLES)
def kiosks():
    org = org_from_arg()
    stmt = (sa.select(KioskDevice).join(ServicePoint).join(Organisation)
            .where(org_filter(ServicePoint.organisation_id)).order_by(Organisation.name, ServicePoint.name, KioskDevice.name))
    if org is not None:
        stmt = stmt.where(Organisation.path.startswith(org.path, autoescape=True))
    return render_template("admin/kiosks.html", devices=list(db.session.scalars(stmt)), org=org)


def _show_code(device: KioskDevice, code: str):
    """The one-time enrolment code and its QR: shown once, never cached."""
    from .. import qr
    from ..kiosk import devices as kiosk_devices

    url = kiosk_devices.enrolment_url(code)
    response = make_response(render_template("admin/kiosk_code.html", device=device, code=code, url=url,
                                             qr_svg=Markup(qr.qr_svg(url))))  # our own SVG, no user text
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/kiosks/new", methods=["GET", "POST"])
@login_required_role(*WRITE_ROLES)
def kiosk_new():
    from ..kiosk import devices as kiosk_devices

    form = DeviceForm()
    org = org_from_arg()
    form.service_point_id.choices = sp_choices(scoped_service_points(under=org))
    if request.method == "GET" and request.args.get("sp", type=int):
        form.service_point_id.data = service_point_in_scope(request.args.get("sp", type=int)).id
    if form.validate_on_submit():
        sp = service_point_in_scope(form.service_point_id.data)
        device, code = kiosk_devices.create_device(sp, form.name.data.strip())
        audit.record("kiosk.create", device)
        db.session.commit()
        return _show_code(device, code)
    return form_page(form, _("Đăng ký máy đánh giá"), cancel=url_for("admin.kiosks"), submit=_("Tạo mã đăng ký"))


@bp.route("/kiosks/<int:device_id>/rename", methods=["GET", "POST"])
@login_required_role(*WRITE_ROLES)
def kiosk_rename(device_id: int):
    from ..kiosk import devices as kiosk_devices

    device = device_in_scope(device_id)
    form = DeviceRenameForm(obj=device)
    if form.validate_on_submit():
        before = audit.snapshot(device)
        kiosk_devices.rename_device(device, form.name.data.strip())
        audit.record("kiosk.rename", device, before)
        db.session.commit()
        flash(_("Đã đổi tên thiết bị."), "success")
        return redirect(url_for("admin.kiosks"))
    return form_page(form, _("Đổi tên thiết bị %(name)s", name=device.name), cancel=url_for("admin.kiosks"))


@bp.route("/kiosks/<int:device_id>/move", methods=["GET", "POST"])
@login_required_role(*WRITE_ROLES)
def kiosk_move(device_id: int):
    from ..kiosk import devices as kiosk_devices

    device = device_in_scope(device_id)
    form = DeviceMoveForm(obj=device)
    form.service_point_id.choices = sp_choices(scoped_service_points())
    if form.validate_on_submit():
        sp = service_point_in_scope(form.service_point_id.data)
        before = audit.snapshot(device)
        kiosk_devices.move_device(device, sp)
        audit.record("kiosk.move", device, before)
        db.session.commit()
        flash(_("Đã chuyển thiết bị đến %(name)s.", name=sp.name), "success")
        return redirect(url_for("admin.kiosks"))
    return form_page(form, _("Chuyển thiết bị %(name)s", name=device.name), cancel=url_for("admin.kiosks"))


@bp.route("/kiosks/<int:device_id>/revoke", methods=["GET", "POST"])
@login_required_role(*WRITE_ROLES)
def kiosk_revoke(device_id: int):
    from ..kiosk import devices as kiosk_devices

    device = device_in_scope(device_id)
    cancel = url_for("admin.kiosks")
    if request.method == "POST":
        if not ConfirmForm().validate_on_submit():
            abort(400)
        before = audit.snapshot(device)
        kiosk_devices.revoke_device(device)
        audit.record("kiosk.revoke", device, before)
        db.session.commit()
        flash(_("Đã thu hồi thiết bị."), "success")
        return redirect(cancel)
    return confirm_page(_("Thu hồi thiết bị %(name)s?", name=device.name),
                        _("Thiết bị sẽ không gửi được đánh giá nữa; muốn dùng lại phải đăng ký lại. "
                          "Các đánh giá đã nhận được giữ nguyên."),
                        _("Thu hồi"), cancel)


@bp.route("/kiosks/<int:device_id>/code", methods=["GET", "POST"])
@login_required_role(*WRITE_ROLES)
def kiosk_code(device_id: int):
    """A new one-time enrolment code (e.g. a replaced tablet); the old token stops working."""
    from ..kiosk import devices as kiosk_devices

    device = device_in_scope(device_id)
    if device.revoked_at is not None:
        flash(_("Thiết bị đã bị thu hồi; hãy đăng ký một thiết bị mới."), "error")
        return redirect(url_for("admin.kiosks"))
    if request.method == "POST":
        if not ConfirmForm().validate_on_submit():
            abort(400)
        before = audit.snapshot(device)
        code = kiosk_devices.new_enrolment_code(device)
        audit.record("kiosk.new_code", device, before)
        db.session.commit()
        return _show_code(device, code)
    return confirm_page(_("Tạo mã đăng ký mới cho %(name)s?", name=device.name),
                        _("Mã đăng ký cũ không còn dùng được."), _("Tạo mã mới"), url_for("admin.kiosks"))


# ---------------------------------------------------------------------------------------------
# Users


@bp.route("/users")
@login_required_role(*WRITE_ROLES)
def users():
    stmt = sa.select(User).order_by(User.username)
    if current_user.role != "admin":
        stmt = stmt.where(User.role != "admin", org_filter(User.organisation_id))
    return render_template("admin/users.html", rows=list(db.session.scalars(stmt)), now=utcnow())


def _user_form(user: User | None) -> UserForm:
    form = UserForm(obj=user)
    admin = current_user.role == "admin"
    # Never more authority than oneself: a manager creates managers and viewers of its subtree.
    form.role.choices = role_choices() if admin else role_choices(("manager", "viewer"))
    root = scope_root()
    form.organisation_id.choices = org_choices(
        scoped_organisations(active_only=True), none_label=_("(Toàn bộ – chỉ quản trị viên)") if root is None else None)
    if request.method == "GET":
        form.organisation_id.data = (user.organisation_id if user else None) or (root.id if root else 0)
    if user is None:
        form.password.validators = [v for v in form.password.validators if type(v).__name__ != "Optional"]
        from wtforms.validators import DataRequired

        form.password.validators.insert(0, DataRequired(_("Vui lòng đặt mật khẩu (ít nhất 8 ký tự).")))
    return form


def _apply_user_form(form: UserForm, user: User) -> None:
    org = organisation_in_scope(form.organisation_id.data) if form.organisation_id.data else None
    if org is None and scope_root() is not None:
        abort(403)
    if form.role.data == "admin" and current_user.role != "admin":
        abort(403)
    user.username, user.full_name = form.username.data.strip(), (form.full_name.data or "").strip() or None
    user.role, user.organisation = form.role.data, org
    user.active = form.active.data
    if form.password.data:
        user.set_password(form.password.data)
        user.failed_logins, user.locked_until = 0, None


def _username_taken(username: str, own_id: int | None = None) -> bool:
    stmt = sa.select(User.id).where(sa.func.lower(User.username) == username.strip().lower())
    if own_id is not None:
        stmt = stmt.where(User.id != own_id)
    return db.session.scalar(stmt) is not None


@bp.route("/users/new", methods=["GET", "POST"])
@login_required_role(*WRITE_ROLES)
def user_new():
    form = _user_form(None)
    if form.validate_on_submit():
        if _username_taken(form.username.data):
            form.username.errors.append(_("Tên đăng nhập đã được dùng."))
        else:
            user = User()
            _apply_user_form(form, user)
            db.session.add(user)
            audit.record("user.create", user)
            if commit_or_error(_("Tên đăng nhập đã được dùng.")):
                flash(_("Đã tạo tài khoản %(name)s.", name=user.username), "success")
                return redirect(url_for("admin.users"))
    return form_page(form, _("Thêm người dùng"), cancel=url_for("admin.users"))


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@login_required_role(*WRITE_ROLES)
def user_edit(user_id: int):
    user = user_in_scope(user_id)
    form = _user_form(user)
    form.password.label.text = _("Mật khẩu mới (để trống nếu không đổi)")
    if form.validate_on_submit():
        if _username_taken(form.username.data, user.id):
            form.username.errors.append(_("Tên đăng nhập đã được dùng."))
        elif user.id == current_user.id and (not form.active.data or form.role.data != user.role):
            form.role.errors.append(_("Bạn không thể tự đổi vai trò hoặc tự khóa tài khoản của mình."))
        else:
            before = audit.snapshot(user)
            password_changed = bool(form.password.data)
            _apply_user_form(form, user)
            audit.record("user.update", user, before, audit.snapshot(user, extra={"password_changed": password_changed}))
            if commit_or_error(_("Tên đăng nhập đã được dùng.")):
                flash(_("Đã lưu tài khoản %(name)s.", name=user.username), "success")
                return redirect(url_for("admin.users"))
    return form_page(form, _("Sửa tài khoản %(name)s", name=user.username), cancel=url_for("admin.users"))


@bp.route("/users/<int:user_id>/toggle", methods=["GET", "POST"])
@login_required_role(*WRITE_ROLES)
def user_toggle(user_id: int):
    """Deactivate or reactivate an account (never deleted: the audit log refers to it)."""
    user = user_in_scope(user_id)
    if user.id == current_user.id:
        abort(403)
    cancel = url_for("admin.users")
    if request.method == "POST":
        if not ConfirmForm().validate_on_submit():
            abort(400)
        before = audit.snapshot(user)
        user.active = not user.active
        user.failed_logins, user.locked_until = 0, None
        audit.record("user.activate" if user.active else "user.deactivate", user, before)
        db.session.commit()
        flash(_("Đã mở lại tài khoản.") if user.active else _("Đã khóa tài khoản."), "success")
        return redirect(cancel)
    if user.active:
        return confirm_page(_("Khóa tài khoản %(name)s?", name=user.username),
                            _("Người này sẽ không đăng nhập được nữa."), _("Khóa tài khoản"), cancel)
    return confirm_page(_("Mở lại tài khoản %(name)s?", name=user.username), "", _("Mở lại"), cancel, danger=False)


# ---------------------------------------------------------------------------------------------
# Targets


@bp.route("/targets")
@login_required_role(*READ_ROLES)
def targets():
    rows = list(db.session.scalars(
        sa.select(Target).where(sa.or_(Target.organisation_id.is_(None), org_filter(Target.organisation_id)))
        .order_by(Target.valid_from.desc(), Target.sector, Target.indicator)))
    return render_template("admin/targets.html", rows=rows, sectors={c.value: c.label for c in sector_choices()})


def _target_form(target: Target | None) -> TargetForm:
    form = TargetForm(obj=target)
    admin = current_user.role == "admin"
    form.sector.choices = [SelectChoice("", _("(Theo đơn vị)"))] + (sector_choices() if admin else [])
    form.organisation_id.choices = org_choices(scoped_organisations(active_only=True),
                                               none_label=_("(Theo lĩnh vực)"))
    if request.method == "GET":
        if target is not None:
            form.value.data = round(target.value * 100, 1)
            form.sector.data = target.sector or ""
            form.organisation_id.data = target.organisation_id or 0
        else:
            form.operator.data = ">="
    return form


def _apply_target_form(form: TargetForm, target: Target) -> None:
    if form.sector.data and current_user.role != "admin":
        abort(403)
    target.indicator = form.indicator.data
    target.sector = form.sector.data or None
    target.organisation = organisation_in_scope(form.organisation_id.data) if form.organisation_id.data else None
    target.value = float(form.value.data) / 100
    target.operator = form.operator.data
    target.valid_from, target.valid_to = form.valid_from.data, form.valid_to.data
    target.source = (form.source.data or "").strip() or None


@bp.route("/targets/new", methods=["GET", "POST"])
@login_required_role(*WRITE_ROLES)
def target_new():
    form = _target_form(None)
    if form.validate_on_submit():
        target = Target()
        _apply_target_form(form, target)
        db.session.add(target)
        audit.record("target.create", target)
        db.session.commit()
        flash(_("Đã thêm chỉ tiêu."), "success")
        return redirect(url_for("admin.targets"))
    return form_page(form, _("Thêm chỉ tiêu"), cancel=url_for("admin.targets"))


@bp.route("/targets/<int:target_id>/edit", methods=["GET", "POST"])
@login_required_role(*WRITE_ROLES)
def target_edit(target_id: int):
    target = target_in_scope(target_id, write=True)
    form = _target_form(target)
    if form.validate_on_submit():
        before = audit.snapshot(target)
        _apply_target_form(form, target)
        audit.record("target.update", target, before)
        db.session.commit()
        flash(_("Đã lưu chỉ tiêu."), "success")
        return redirect(url_for("admin.targets"))
    return form_page(form, _("Sửa chỉ tiêu"), cancel=url_for("admin.targets"))


@bp.route("/targets/<int:target_id>/delete", methods=["GET", "POST"])
@login_required_role(*WRITE_ROLES)
def target_delete(target_id: int):
    """Targets are settings, not data that responses refer to: they may be deleted, after confirmation."""
    target = target_in_scope(target_id, write=True)
    cancel = url_for("admin.targets")
    if request.method == "POST":
        if not ConfirmForm().validate_on_submit():
            abort(400)
        before = audit.snapshot(target)
        audit.record("target.delete", target, before, {})
        db.session.delete(target)
        db.session.commit()
        flash(_("Đã xóa chỉ tiêu."), "success")
        return redirect(cancel)
    return confirm_page(_("Xóa chỉ tiêu này?"), _("Các báo cáo sẽ không còn so sánh với chỉ tiêu này."), _("Xóa"), cancel)


# ---------------------------------------------------------------------------------------------
# Audit log

AUDIT_PAGE = 100


@bp.route("/audit")
@login_required_role("admin")
def audit_log():
    """Every change, newest first, filterable by user and object type (administrators only)."""
    form = AuditFilterForm(request.args)
    people = list(db.session.scalars(sa.select(User).order_by(User.username)))
    form.user_id.choices = choice_list([(0, _("(Tất cả)"))] + [(u.id, u.username) for u in people])
    types = list(db.session.scalars(sa.select(AuditEvent.object_type).distinct().order_by(AuditEvent.object_type)))
    form.object_type.choices = choice_list([("", _("(Tất cả)"))] + [(t, t) for t in types])
    stmt = sa.select(AuditEvent).order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
    user_id = request.args.get("user_id", type=int)
    object_type = request.args.get("object_type", "")
    if user_id:
        stmt = stmt.where(AuditEvent.user_id == user_id)
    if object_type:
        stmt = stmt.where(AuditEvent.object_type == object_type)
    page = max(request.args.get("page", 1, type=int), 1)
    events = list(db.session.scalars(stmt.limit(AUDIT_PAGE + 1).offset((page - 1) * AUDIT_PAGE)))
    more = len(events) > AUDIT_PAGE
    return render_template("admin/audit.html", form=form, events=events[:AUDIT_PAGE], page=page, more=more,
                           changes=audit.changes)
