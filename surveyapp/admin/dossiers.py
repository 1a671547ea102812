"""Dossiers in the workspace: import a CSV/XLSX file (the shared import page of
:mod:`.imports`), the template, and the ranking of units with the rule that decided each rank."""
from __future__ import annotations

from flask import render_template, request, url_for
from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, SelectField
from wtforms.validators import DataRequired, NumberRange, Optional

from .. import rankings
from ..auth.scope import READ_ROLES, WRITE_ROLES, login_required_role, organisation_in_scope
from ..clock import today
from . import bp
from .forms import AdminForm, choice_list
from .helpers import org_choices, scoped_organisations
from .imports import import_page, send_template

KIND = "dossiers"


class RankingForm(AdminForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    org = SelectField(_l("Đơn vị"), coerce=int)
    year = IntegerField(_l("Năm"), validators=[DataRequired(), NumberRange(2000, 2100)])
    quarter = SelectField(_l("Quý"), coerce=int, validators=[Optional()],
                          choices=choice_list([(0, _l("Cả năm")), (1, "I"), (2, "II"), (3, "III"), (4, "IV")]))
    rules = SelectField(_l("Quy tắc xếp loại"),
                        choices=choice_list([("khanh-hoa", "Khánh Hòa"), ("lam-dong", "Lâm Đồng")]))


@bp.route("/dossiers/import", methods=["GET", "POST"])
@login_required_role(*WRITE_ROLES)
def dossier_import():
    """Upload dossiers: the file is checked (nothing stored) and shown; confirming stores it whole."""
    return import_page(KIND, url_for("admin.dossier_import"))


@bp.route("/dossiers/template.csv")
@login_required_role(*READ_ROLES)
def dossier_template():
    """The import template with one example row, as CSV."""
    return send_template(KIND, "csv")


@bp.route("/dossiers/template.xlsx")
@login_required_role(*READ_ROLES)
def dossier_template_xlsx():
    """The import template with one example row, as XLSX."""
    return send_template(KIND, "xlsx")


@bp.route("/rankings")
@login_required_role(*READ_ROLES)
def rankings_page():
    """Units of an organisation ranked for a year or quarter, with the rule that decided each rank."""
    orgs = scoped_organisations(active_only=True)
    form = RankingForm(request.args, meta={"csrf": False})
    form.org.choices = org_choices(orgs)
    if not request.args.get("year"):
        form.year.data = today().year
    rows, org = None, None
    if orgs:
        org_id = form.org.data or orgs[0].id
        org = organisation_in_scope(org_id)
        form.org.data = org.id
        if form.validate() or not request.args:
            rows = rankings.rank(org, form.year.data, form.quarter.data or None, form.rules.data or "khanh-hoa")
    return render_template("admin/rankings.html", form=form, rows=rows, org=org)
