"""Digests: a daily, weekly or monthly e-mail per user who asks for one.

The numbers are the dashboard's (``reports.model.scope_report``): the headline indices of the
user's scope with their intervals and verdicts, the change since the previous period, the
units below target; then the period's alerts, and the cases (:func:`digest_cases_section`).
HTML with a plain-text part, one column for a phone, in the user's language.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..clock import day_bounds_utc, now_utc, to_local
from ..extensions import db
from ..cases.service import overdue_cases
from ..models import CASE_DONE_STATES, Alert, Case, Organisation, ServicePoint, User, subtree_filter
from ..outbox import OutboxItem, enqueue_email, event_id_for
from ..reports.model import scope_report
from ..reports.verdicts import STATUS_LABELS
from .notify import absolute_url, in_quiet_hours

PERIODS = ("day", "week", "month")


def last_complete_period(period: str, today: date) -> tuple[date, date]:
    """The last whole day, week (Monday to Sunday) or month before ``today``."""
    if period == "day":
        d = today - timedelta(days=1)
        return d, d
    if period == "week":
        end = today - timedelta(days=today.weekday() + 1)
        return end - timedelta(days=6), end
    end = today.replace(day=1) - timedelta(days=1)
    return end.replace(day=1), end


def scope_of(user: User) -> Organisation | None:
    """The root of what the user may see (None: everything)."""
    if user.role == "admin" and user.organisation_id is None:
        return None
    return user.organisation


@dataclass
class DigestSection:
    """A part of the digest contributed by another area (cases)."""

    title: str  # or a lazy string, rendered in the digest's language
    lines: list[str] = field(default_factory=list)


def digest_cases_section(user: User, start: date, end: date) -> DigestSection:
    """New and overdue cases of the user's scope: how many were opened in the period, how many
    of those are resolved, and each case overdue now (its service point and how late)."""
    root = scope_of(user)
    lo, hi = day_bounds_utc(start, end)
    stmt = sa.select(Case.state, sa.func.count()).join(ServicePoint, ServicePoint.id == Case.service_point_id) \
        .where(Case.opened_at >= lo, Case.opened_at < hi)
    if root is not None:
        stmt = stmt.join(Organisation, Organisation.id == ServicePoint.organisation_id).where(
            subtree_filter(Organisation.id, root))
    counts = dict(db.session.execute(stmt.group_by(Case.state)).all())
    opened = sum(counts.values())
    done = sum(counts.get(s, 0) for s in CASE_DONE_STATES)
    lines = []
    if opened:
        lines.append(_("%(n)s phản ánh mới, %(done)s đã xử lý.", n=opened, done=done))
    now = now_utc()
    late = [c for c in overdue_cases(now) if root is None or c.service_point.organisation.is_within(root)]
    for case in late[:10]:
        lines.append(_("Quá hạn: phản ánh #%(id)s tại %(place)s, hạn %(due)s.", id=case.id,
                       place=case.service_point.name, due=to_local(case.due_at).strftime("%d/%m/%Y")))
    if len(late) > 10:
        lines.append(_("… và %(n)s phản ánh quá hạn khác.", n=len(late) - 10))
    return DigestSection(title=_l("Phản ánh, kiến nghị"), lines=lines)


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{v * 100:.1f}%"


def _pp(v: float | None) -> str:
    return "-" if v is None else f"{v * 100:+.1f}"


def build_digest(user: User, period: str, start: date, end: date) -> tuple[str, str, str]:
    """(subject, text, html) of the user's digest for [start, end], in the user's language."""
    lang = user.language or "vi"
    root = scope_of(user)
    with force_locale(lang):
        report = scope_report(root, start, end, lang=lang)
        sections = []
        for s in report.sections:
            e = s.headline
            change = None
            if s.change is not None:
                change = {"d": _pp(s.change[0]), "low": _pp(s.change[1]), "high": _pp(s.change[2])}
            sections.append({
                "title": s.title, "indicator": s.indicator_label, "index": _pct(e.estimate), "low": _pct(e.low),
                "high": _pct(e.high), "n": e.n, "verdict": str(STATUS_LABELS[s.verdict.status]),
                "target": s.target.label if s.target else "-",
                "previous": _pct(s.previous.estimate) if s.previous is not None else "-", "change": change,
                "below": [{"label": u.label, "index": _pct(u.estimate.estimate),
                           "verdict": str(STATUS_LABELS[u.verdict.status])} for u in s.below],
            })
        lo, hi = day_bounds_utc(start, end)
        alerts_stmt = sa.select(sa.func.count()).select_from(Alert).where(Alert.opened_at >= lo, Alert.opened_at < hi)
        if root is not None:
            alerts_stmt = alerts_stmt.where(subtree_filter(Alert.organisation_id, root))
        n_alerts = db.session.scalar(alerts_stmt)
        cases = digest_cases_section(user, start, end)
        period_label = {"day": _("Bản tin ngày"), "week": _("Bản tin tuần"), "month": _("Bản tin tháng")}[period]
        when = (f"{start:%d/%m/%Y}" if start == end else f"{start:%d/%m/%Y} – {end:%d/%m/%Y}")
        subject = _("%(kind)s %(when)s: %(scope)s", kind=period_label, when=when, scope=report.scope_label)
        ctx = dict(user=user, subject=subject, period_label=period_label, when=when, scope=report.scope_label,
                   sections=sections, respondents=report.respondents, n_alerts=n_alerts,
                   cases=cases if cases.lines else None,
                   dashboard_url=absolute_url("/admin/"), alerts_url=absolute_url("/admin/alerts"),
                   profile_url=absolute_url("/admin/profile"))
        text = render_template("email/digest.txt", **ctx)
        html = render_template("email/digest.html", **ctx)
    return str(subject), text, html


def digest_key(user: User, period: str, start: date) -> str:
    return f"digest:{user.id}:{period}:{start.isoformat()}"


def send_digest(user: User, period: str, *, now: datetime | None = None, force: bool = False) -> OutboxItem | None:
    """Queue the user's digest of the last complete ``period`` (the caller commits). Sent once
    per period unless ``force`` (``flask digest send``)."""
    if not user.email:
        return None
    now = now or now_utc()
    start, end = last_complete_period(period, to_local(now).date())
    key = digest_key(user, period, start)
    if force:
        key += f":sent-{now.isoformat()}"
    elif db.session.scalar(sa.select(OutboxItem.id).where(OutboxItem.event_id == event_id_for("email", key))):
        return None
    subject, text, html = build_digest(user, period, start, end)
    return enqueue_email(user.email, subject, text, html, kind="digest", dedupe_key=key, user_id=user.id)


def send_due_digests(now: datetime | None = None) -> int:
    """Each opted-in user's digest of the period that ended, once, outside their quiet hours."""
    now = now or now_utc()
    users = db.session.scalars(sa.select(User).where(User.active, User.email.is_not(None),
                                                     User.digest_frequency.in_(PERIODS))).all()
    sent = 0
    for user in users:
        if in_quiet_hours(user, now):
            continue
        if send_digest(user, user.digest_frequency, now=now) is not None:
            sent += 1
            db.session.commit()
    db.session.commit()
    return sent
