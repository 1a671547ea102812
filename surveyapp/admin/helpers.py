"""View helpers shared by every area of the workspace: the user's organisations and service
points as form choices, committing without storing half, the one confirmation page, the one
activate/deactivate view, and the form page.

Rules (who may see and change what) are not here but in :mod:`surveyapp.auth.scope`; these
helpers only apply them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from ..auth.scope import org_filter, organisation_in_scope
from ..extensions import db
from ..models import Organisation, ServicePoint
from .. import audit
from .forms import ConfirmForm, choice_list


def N_(message: str) -> str:
    """Marks a msgid for extraction; translated when rendered."""
    return message


# ---------------------------------------------------------------------------------------------
# The user's organisations and service points


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


def org_choices(orgs: list[Organisation], *, none_label: str | None = None) -> list:
    """``orgs`` as select choices, indented by depth; ``none_label``: a first choice with value 0."""
    base = min((o.depth for o in orgs), default=0)
    choices = [(0, none_label)] if none_label else []
    return choice_list(choices + [(o.id, org_label(o, base)) for o in orgs])


def scoped_service_points(*, active_only: bool = True, under: Organisation | None = None) -> list[ServicePoint]:
    """The service points of the user's subtree (``under``: of that organisation's subtree only)."""
    stmt = sa.select(ServicePoint).join(Organisation).where(org_filter(ServicePoint.organisation_id))
    if under is not None:
        stmt = stmt.where(Organisation.path.startswith(under.path, autoescape=True))
    if active_only:
        stmt = stmt.where(ServicePoint.active)
    return list(db.session.scalars(stmt.order_by(Organisation.name, ServicePoint.name)))


def sp_choices(points: list[ServicePoint]) -> list:
    return choice_list((sp.id, f"{sp.name} – {sp.organisation.name}") for sp in points)


def org_from_arg(name: str = "org") -> Organisation | None:
    """An optional ``?org=`` filter, checked against the scope like any id in a URL."""
    value = request.args.get(name, type=int)
    return organisation_in_scope(value) if value else None


def clean(text: str | None) -> str | None:
    """A form's optional text, stripped; None when empty."""
    return (text or "").strip() or None


# ---------------------------------------------------------------------------------------------
# Storing


def commit_or_error(message: str) -> bool:
    """Commit; on a constraint violation roll back everything (nothing half-stored) and flash."""
    try:
        db.session.commit()
        return True
    except IntegrityError:
        db.session.rollback()
        flash(message, "error")
        return False


# ---------------------------------------------------------------------------------------------
# Pages


def form_page(form, title: str, *, cancel: str, submit: str | None = None, intro: str | None = None,
              multipart: bool = False, status: int = 200):
    """A form on the workspace's form page; a refused POST answers 422."""
    if request.method == "POST" and form.errors:
        status = 422  # the browser shows the form again; scripts and tests see the refusal
    return render_template("admin/form.html", form=form, title=title, cancel=cancel, submit=submit or _("Lưu"),
                           intro=intro, multipart=multipart), status


def confirm_page(title: str, message: str, button: str, cancel: str, *, danger: bool = True):
    """The one confirmation page: a question, a POST button with its CSRF token, and a way back."""
    return render_template("admin/confirm.html", title=title, message=message, button=button, cancel=cancel,
                           danger=danger, form=ConfirmForm())


def confirm_then(do: Callable[[], object], *, title: str, message: str, button: str, back: str,
                 danger: bool = True):
    """A change that asks first: GET shows the confirmation page; POST, with its CSRF token
    (else 400), runs ``do()`` and answers what it returns."""
    if request.method == "POST":
        if not ConfirmForm().validate_on_submit():
            abort(400)
        return do()
    return confirm_page(title, message, button, back, danger=danger)


def save_change(obj, change: Callable[[], object], action: str | Callable[[], str], *,
                done: str | Callable[[], str], back: str | Callable[[], str],
                snapshot: Callable[[object], dict | None] = audit.snapshot):
    """The one way a view changes an object: ``change()``, recorded in the audit log as ``action``
    with ``obj``'s ``snapshot`` before and after, committed together; then ``done`` is said and the
    browser goes ``back``. ``action``, ``done`` and ``back`` may be functions, read after the change."""
    before = snapshot(obj)
    change()
    db.session.flush()  # so that a relationship set by the change shows in its id columns
    audit.record(_after(action), obj, before, snapshot(obj))
    db.session.commit()
    flash(_after(done), "success")
    return redirect(_after(back))


def _after(value):
    return value() if callable(value) else value


@dataclass(frozen=True)
class ToggleTexts:
    """What the confirmation page and the message afterwards say, for switching off and on again."""

    off_title: str
    off_message: str
    off_button: str
    off_done: str
    on_title: str
    on_button: str
    on_done: str


def toggle_active(obj, action: str, texts: ToggleTexts, *, back: str,
                  on_change: Callable[[object], None] | None = None):
    """The one activate/deactivate view. Nothing is deleted (responses and the audit log refer
    to it): ``obj.active`` flips, recorded as ``<action>.activate``/``<action>.deactivate`` in
    the same transaction; ``on_change(obj)`` runs after the flip, before the commit."""

    def flip():
        obj.active = not obj.active
        if on_change is not None:
            on_change(obj)

    def save():
        return save_change(obj, flip, lambda: f"{action}.activate" if obj.active else f"{action}.deactivate",
                           done=lambda: texts.on_done if obj.active else texts.off_done, back=back)

    if obj.active:
        return confirm_then(save, title=texts.off_title, message=texts.off_message, button=texts.off_button, back=back)
    return confirm_then(save, title=texts.on_title, message="", button=texts.on_button, back=back, danger=False)
