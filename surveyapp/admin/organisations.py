"""Organisations: the tree of the user's subtree, creating, editing, moving and deactivating units."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..auth.scope import READ_ROLES, WRITE_ROLES, in_scope, login_required_role, org_filter, organisation_in_scope, scope_root
from ..extensions import db
from ..models import Organisation, Publication, ServicePoint, move_organisation
from .. import audit
from . import bp
from .forms import OrganisationForm
from .helpers import (
    ToggleTexts,
    clean,
    commit_or_error,
    form_page,
    org_choices,
    org_from_arg,
    scoped_organisations,
    toggle_active,
)


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
    published = set(db.session.scalars(sa.select(Publication.organisation_id)
                                       .where(org_filter(Publication.organisation_id))))
    return render_template("admin/organisations.html", orgs=orgs, counts=counts, base=base, published=published)


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


def _code_taken(code: str, own_id: int | None = None) -> bool:
    stmt = sa.select(Organisation.id).where(Organisation.code == code)
    if own_id is not None:
        stmt = stmt.where(Organisation.id != own_id)
    return db.session.scalar(stmt) is not None


@bp.route("/organisations/new", methods=["GET", "POST"])
@login_required_role(*WRITE_ROLES)
def organisation_new():
    form = _organisation_form(None)
    if form.validate_on_submit():
        if _code_taken(form.code.data.strip()):
            form.code.errors.append(_("Mã đơn vị đã được dùng."))
        else:
            org = Organisation(code=form.code.data.strip(), name=form.name.data.strip(),
                               name_en=clean(form.name_en.data), sector=form.sector.data,
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
        if _code_taken(form.code.data.strip(), org.id):
            form.code.errors.append(_("Mã đơn vị đã được dùng."))
        else:
            before = audit.snapshot(org)
            org.code, org.name = form.code.data.strip(), form.name.data.strip()
            org.name_en = clean(form.name_en.data)
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
        abort(403)  # nobody switches off their own root
    return toggle_active(org, "organisation", ToggleTexts(
        off_title=_("Ngừng hoạt động đơn vị %(name)s?", name=org.name),
        off_message=_("Đơn vị sẽ không còn xuất hiện trong danh sách chọn. Dữ liệu khảo sát đã có được giữ nguyên."),
        off_button=_("Ngừng hoạt động"), off_done=_("Đã ngừng hoạt động đơn vị."),
        on_title=_("Kích hoạt lại đơn vị %(name)s?", name=org.name), on_button=_("Kích hoạt lại"),
        on_done=_("Đã kích hoạt lại đơn vị.")), back=url_for("admin.organisations"))
