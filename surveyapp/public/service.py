"""The public page of indices: who is published, the period it shows, what it shows, and the
rendered-page cache that makes a burst of visitors cost one computation.

The rule: a unit's numbers are public when the unit **or one of its ancestors** has a
:class:`~surveyapp.models.Publication` (publishing a province publishes its whole tree; a unit
under an unpublished province may publish itself alone). Everything else answers 404. A unit
with fewer responses than its publication's minimum is shown as "not enough responses", with no
number. Only indices are shown: never a comment, a contact, a time or anything about a person.

The numbers are the dashboard's: :func:`surveyapp.reports.model.build_report` with
:class:`~surveyapp.reports.filters.Filters` for the period. The period is the last twelve
complete calendar months (local time): complete months never change (responses are stamped with
their receipt time), so every visitor of a month sees the same numbers; the trend is the change
from the twelve months before.
"""
from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from .. import clock
from .. import audit
from ..extensions import db
from ..models import AuditEvent, Organisation, Publication, Response, User
from ..reports.filters import Filters, month_end
from ..reports.model import build_report


class PublicationError(ValueError):
    """A publication refused; the message is for the user."""


# ---------------------------------------------------------------------------------------------
# Who is published


def publication_for(org: Organisation) -> Publication | None:
    """The publication that makes ``org`` public: its own, else its nearest published ancestor's."""
    ids = org.ancestor_ids()
    pubs = {p.organisation_id: p for p in db.session.scalars(
        sa.select(Publication).where(Publication.organisation_id.in_(ids)))}
    return next((pubs[i] for i in reversed(ids) if i in pubs), None)


def public_organisation(code: str) -> tuple[Organisation, Publication] | None:
    """The active organisation ``code`` and the publication that makes it public, or None."""
    org = db.session.scalar(sa.select(Organisation).where(Organisation.code == code, Organisation.active))
    if org is None:
        return None
    pub = publication_for(org)
    return (org, pub) if pub is not None else None


def own_publication(org: Organisation) -> Publication | None:
    return db.session.scalar(sa.select(Publication).where(Publication.organisation_id == org.id))


def publish(org: Organisation, by: User | None, min_responses: int | None = None) -> Publication:
    """Publish ``org``'s indices (and its sub-units'); idempotent. Audited; not committed here.
    Who may do it is the caller's check (:func:`surveyapp.auth.scope.in_scope` and a write role)."""
    if min_responses is not None and min_responses < 1:
        raise PublicationError(_("Số phiếu tối thiểu phải từ 1 trở lên."))
    pub = own_publication(org)
    before = audit.snapshot(pub)
    if pub is None:
        pub = Publication(organisation=org, published_by=by,
                          min_responses=min_responses or current_app.config["PUBLIC_MIN_RESPONSES"])
        db.session.add(pub)
    elif min_responses is not None:
        pub.min_responses = min_responses
    audit.record("publication.publish", pub, before, object_type="Publication", object_id=org.id)
    page_cache().clear()  # this process at once; the others within PUBLIC_CACHE_SECONDS
    return pub


def unpublish(org: Organisation) -> bool:
    """Withdraw ``org``'s own publication (its page goes unless an ancestor is published).
    Audited; not committed here. False when it was not published."""
    pub = own_publication(org)
    if pub is None:
        return False
    audit.record("publication.unpublish", None, audit.snapshot(pub), {}, object_type="Publication",
                 object_id=org.id)
    db.session.delete(pub)
    page_cache().clear()
    return True


# ---------------------------------------------------------------------------------------------
# The period


def public_period(today: date | None = None) -> Filters:
    """The last twelve complete local calendar months."""
    today = today or clock.today()
    last = today.replace(day=1) - timedelta(days=1)
    first = last.replace(day=1)
    for _i in range(11):
        first = (first - timedelta(days=1)).replace(day=1)
    return Filters(first, month_end(last))


# ---------------------------------------------------------------------------------------------
# What the page shows


@dataclass
class Figure:
    """One index as the public sees it; ``shown`` False: not enough responses, no number at all."""

    label: str
    shown: bool
    n: int | None = None
    estimate: float | None = None
    low: float | None = None
    high: float | None = None
    status: str | None = None
    verdict: str | None = None
    target: str | None = None
    change: float | None = None
    change_low: float | None = None
    change_high: float | None = None
    code: str | None = None  # an organisation unit's code: its own public page
    protected: bool = False  # hidden although it has enough responses (see _protect)
    n_hidden: int = 0  # the responses of a hidden figure, never shown

    def hide(self, protected: bool = False) -> None:
        n = self.n or 0
        for name in ("n", "estimate", "low", "high", "status", "verdict", "target", "change", "change_low",
                     "change_high"):
            setattr(self, name, None)
        self.shown, self.protected, self.n_hidden = False, protected, n

    def to_dict(self) -> dict:
        out = {"label": self.label, "enough_responses": self.shown or self.protected}
        if self.code:
            out["code"] = self.code
        if self.protected:
            out["protected"] = True
        if self.shown:
            r = lambda v: None if v is None else round(v, 4)  # noqa: E731
            out.update(responses=self.n, index=r(self.estimate), low=r(self.low), high=r(self.high),
                       verdict=self.status, verdict_label=self.verdict, target=self.target,
                       change=r(self.change), change_low=r(self.change_low), change_high=r(self.change_high))
        return out


@dataclass
class Indicator:
    title: str
    indicator: str
    headline: Figure
    units: list[Figure] = field(default_factory=list)


@dataclass
class PublicPage:
    code: str
    name: str
    period: Filters
    min_responses: int
    licence: str
    indicators: list[Indicator]

    def to_dict(self) -> dict:
        return {
            "organisation": {"code": self.code, "name": self.name},
            "period": {"from": self.period.date_from.isoformat(), "to": self.period.date_to.isoformat()},
            "min_responses": self.min_responses,
            "licence": self.licence,
            "indicators": [{"title": i.title, "indicator": i.indicator, "headline": i.headline.to_dict(),
                            "units": [u.to_dict() for u in i.units]} for i in self.indicators],
        }

    def csv_rows(self) -> list[list]:
        """One row per (indicator, unit), the headline first: the same figures as the page."""
        rows = []
        for ind in self.indicators:
            for level, fig in [("headline", ind.headline)] + [("unit", u) for u in ind.units]:
                d = fig.to_dict()
                rows.append([ind.title, ind.indicator, level, fig.code or (self.code if level == "headline" else ""),
                             fig.label, d.get("enough_responses"), d.get("responses"), d.get("index"), d.get("low"),
                             d.get("high"), d.get("verdict"), d.get("target"), d.get("change"),
                             d.get("change_low"), d.get("change_high")])
        return rows


CSV_HEADER = ["indicator_title", "indicator", "level", "code", "unit", "enough_responses", "responses", "index",
              "low", "high", "verdict", "target", "change", "change_low", "change_high"]


def _figure(label: str, row_estimate, verdict, target, change, previous, minimum: int, code: str | None = None) -> Figure:
    if not row_estimate.defined or row_estimate.n < minimum:
        return Figure(label, False, code=code, n_hidden=row_estimate.n)
    fig = Figure(label, True, n=row_estimate.n, estimate=row_estimate.estimate, low=row_estimate.low,
                 high=row_estimate.high, status=verdict.status, verdict=verdict.label,
                 target=target.label if target else None, code=code)
    # The trend only when the previous period had enough responses too.
    if change is not None and previous is not None and previous.n >= minimum:
        fig.change, fig.change_low, fig.change_high = change
    return fig


def _protect(units: list[Figure], minimum: int) -> None:
    """Secondary suppression: the headline minus the units shown must not give away the units
    hidden for want of responses. While the hidden ones add up to fewer than ``minimum``
    responses, the smallest shown unit is hidden too (marked "protected")."""
    hidden_n = sum(u.n_hidden for u in units if not u.shown)
    if not any(not u.shown for u in units):
        return
    for u in sorted((u for u in units if u.shown), key=lambda u: u.n):
        if hidden_n >= minimum:
            break
        hidden_n += u.n
        u.hide(protected=True)


def build_page(org: Organisation, pub: Publication, lang: str) -> PublicPage:
    """The public page of ``org``: its report for the public period, reduced to the figures shown."""
    f = public_period()
    report = build_report(org, f, lang=lang)
    minimum = pub.min_responses
    codes = {}
    unit_orgs = [u.key for s in report.sections for u in s.units if u.kind == "organisation"]
    if unit_orgs:
        codes = dict(db.session.execute(sa.select(Organisation.id, Organisation.code)
                                        .where(Organisation.id.in_(unit_orgs))).all())
    indicators = []
    for s in report.sections:
        head = _figure(report.scope_label, s.headline, s.verdict, s.target, s.change, s.previous, minimum)
        units = [_figure(u.label, u.estimate, u.verdict, u.target, u.change, u.previous, minimum,
                         codes.get(u.key) if u.kind == "organisation" else None) for u in s.units]
        if head.shown:
            _protect(units, minimum)
        indicators.append(Indicator(s.title, s.indicator_label, head, units))
    return PublicPage(org.code, report.scope_label, f, minimum, current_app.config["PUBLIC_DATA_LICENCE"], indicators)


# ---------------------------------------------------------------------------------------------
# The rendered-page cache


def data_version() -> tuple:
    """Changes whenever anything a public page shows may have changed: a workspace change (all
    audited: publications, targets, names), a new response."""
    return (
        db.session.scalar(sa.select(sa.func.max(AuditEvent.id))),
        db.session.scalar(sa.select(sa.func.max(Response.id))),
        tuple(db.session.execute(sa.select(Publication.organisation_id, Publication.min_responses)
                                 .order_by(Publication.organisation_id)).all()),
        public_period(),
    )


@dataclass
class Cached:
    body: bytes
    etag: str
    version: tuple
    fresh_until: float


class PageCache:
    """Rendered public pages per (kind, code, lang), reused for ``PUBLIC_CACHE_SECONDS`` without
    a single query, then kept as long as :func:`data_version` is unchanged. One build at a time
    per process, so a burst of visitors on a cold page costs one build."""

    def __init__(self):
        self._pages: dict[tuple, Cached] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple, render) -> Cached:
        hit = self._pages.get(key)
        if hit is not None and time.monotonic() < hit.fresh_until:
            return hit
        with self._lock:
            hit = self._pages.get(key)
            ttl = current_app.config["PUBLIC_CACHE_SECONDS"]
            if hit is not None and time.monotonic() < hit.fresh_until:
                return hit
            version = data_version()
            if hit is not None and hit.version == version:
                hit.fresh_until = time.monotonic() + ttl
                return hit
            body = render()
            body = body.encode("utf-8") if isinstance(body, str) else body
            entry = Cached(body, hashlib.sha256(body).hexdigest()[:32], version, time.monotonic() + ttl)
            self._pages[key] = entry
            return entry

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()


def page_cache() -> PageCache:
    """This app's cache (one per app, so that two apps never share pages)."""
    return current_app.extensions.setdefault("public_page_cache", PageCache())
