"""The report view model: one :class:`Report` of :class:`Section` (one per questionnaire) and
:class:`Row` (aspects, months, units, channels, items), built by :func:`build_report`.

Every index is computed here, so the dashboard, the exports and ``flask report`` agree by
construction.
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

import analysis

from ..extensions import db
from ..models import Organisation, Questionnaire, ServicePoint, Target
from .estimates import LEVEL, Cells, Estimate, estimate_by, layout_for
from .filters import Filters, month_label
from .rollups import fetch_respondents
from .verdicts import TargetRef, Verdict, judge, resolve_target, target_sector
from .volumes import SOURCE_LABELS, source_of, weighting_volumes

INDICATOR_LABELS = {
    "composite": _l("Chỉ số hài lòng tổng hợp"),
    "overall_rate": _l("Tỷ lệ hài lòng chung"),
    "quick": _l("Chỉ số đánh giá nhanh"),
    "procedure": _l("Hài lòng về giải quyết thủ tục"),
}
CHANNEL_LABELS = {"qr": _l("Mã QR"), "kiosk": _l("Máy đánh giá tại quầy")}
SECTOR_LABELS = {"administrative": _l("Hành chính"), "health": _l("Y tế"), "education": _l("Giáo dục")}
# The headline indicators an official reads first, in this order: the quick rating, the SIPAS-style
# composite of administrative services, health, education (one or more questionnaires each).
HEADLINE_GROUPS = {
    "quick": _l("Đánh giá nhanh tại quầy"),
    "composite": _l("Hành chính công (SIPAS)"),
    "health": _l("Y tế"),
    "education": _l("Giáo dục"),
}


@dataclass
class Row:
    """A line of a table: a unit (organisation or service point), a month, a channel."""

    key: Any
    label: str
    estimate: Estimate
    verdict: Verdict
    kind: str = ""  # "organisation" / "service_point" for units
    target: TargetRef | None = None
    previous: Estimate | None = None
    change: tuple[float, float, float] | None = None  # difference, low, high (Newcombe)
    funnel: tuple[float, float, float, float] | None = None  # 95% and 99.8% limits at this n
    # Decision 766's dossier-based indicator (units only; None where no dossiers): see
    # reports.decision766.attach_indicator_766.
    indicator_766: dict | None = None
    # Units: the organisation's or service point's code, and where its weights came from
    # (reports.volumes: "dossiers", "entered", "mixed", or "none" when not weighted).
    code: str | None = None
    weight_source: str | None = None

    @property
    def weight_source_label(self) -> str:
        return str(SOURCE_LABELS[self.weight_source]) if self.weight_source else ""


@dataclass
class Section:
    """Everything about one questionnaire's index within the scope."""

    questionnaire_id: int
    title: str
    indicator: str
    indicator_label: str
    sector: str
    headline: Estimate
    target: TargetRef | None
    verdict: Verdict
    weighted: bool
    previous: Estimate | None
    change: tuple[float, float, float] | None
    aspects: list[Row]
    trend: list[Row]
    units: list[Row]
    channels: list[Row]
    items: list[Row] = field(default_factory=list)
    weight_source: str = "none"  # of the headline, as on units

    @property
    def weight_source_label(self) -> str:
        return str(SOURCE_LABELS[self.weight_source])

    @property
    def group(self) -> str:
        """Which headline indicator this section is: quick, composite (administrative), health, education."""
        if self.indicator == "quick":
            return "quick"
        return self.sector if self.sector in ("health", "education") else "composite"

    @property
    def group_label(self) -> str:
        return str(HEADLINE_GROUPS[self.group])

    def unit_row(self, kind: str, key: int) -> Row | None:
        """The row of unit (``kind``, ``key``), or None when it has no data for this questionnaire."""
        return next((u for u in self.units if u.kind == kind and u.key == key), None)

    @property
    def below(self) -> list[Row]:
        """Units below target (not met, or the point estimate under it) or at or below 80%."""
        return [u for u in self.units if u.estimate.defined and (
            u.verdict.status == "not_met" or u.verdict.admin_met is False or u.verdict.barred)]


@dataclass
class Unit:
    """A unit directly under the report's root: a child organisation (its whole subtree) or one of
    the root's own service points, listed whether or not it has any response in the period."""

    kind: str  # "organisation" / "service_point", as Row.kind
    key: int
    label: str


NO_DATA = Verdict("no_data", None, False)


@dataclass
class Cell:
    """One square of the units × indicators matrix: a unit's row in a section, or no data."""

    unit: Unit
    section: Section
    row: Row | None

    @property
    def verdict(self) -> Verdict:
        return self.row.verdict if self.row is not None else NO_DATA


@dataclass
class Report:
    scope_label: str
    scope_code: str | None
    organisation_id: int | None
    service_point_id: int | None
    filters: Filters
    sections: list[Section]
    respondents: int
    computed_in: float
    units: list[Unit] = field(default_factory=list)

    @property
    def headlines(self) -> list[Section]:
        """The sections in the order of the headline indicators (quick, composite, health, education)."""
        order = list(HEADLINE_GROUPS)
        return sorted(self.sections, key=lambda s: order.index(s.group))

    @property
    def matrix(self) -> list[tuple[Unit, list[Cell]]]:
        """Units × headline sections; a unit without data for a section gets a "no data" cell."""
        heads = self.headlines
        return [(u, [Cell(u, s, s.unit_row(u.kind, u.key)) for s in heads]) for u in self.units]

    def to_dict(self) -> dict:
        def conv(o):
            if isinstance(o, (date, datetime)):
                return o.isoformat()
            if hasattr(o, "__html__") or type(o).__name__ == "LazyString":
                return str(o)
            raise TypeError(type(o))

        data = asdict(self)
        return json.loads(json.dumps(data, default=conv))


def _change(cur: Estimate, prev: Estimate | None) -> tuple[float, float, float] | None:
    """Newcombe's hybrid score interval on the effective sample sizes (design effect included)."""
    if prev is None or not cur.defined or not prev.defined:
        return None
    n1 = cur.n_eff if cur.n_eff and cur.n_eff > 0 else cur.n
    n2 = prev.n_eff if prev.n_eff and prev.n_eff > 0 else prev.n
    d, lo, hi = analysis.newcombe_difference(cur.estimate * n1, n1, prev.estimate * n2, n2, level=LEVEL)
    return float(d), float(lo), float(hi)


def funnel_at(e: Estimate, target: TargetRef | None) -> tuple[float, float, float, float] | None:
    """The 95% and 99.8% funnel limits around ``target`` at ``e``'s effective sample size."""
    if target is None or not e.defined or not (0 < target.value < 1):
        return None
    n = max(int(round(e.n_eff if e.n_eff and e.n_eff > 0 else e.n)), 1)
    lim = analysis.funnel_limits([n], target.value, levels=(0.95, 0.998))
    lo95, hi95 = lim.limits[0.95]
    lo998, hi998 = lim.limits[0.998]
    return float(lo95[0]), float(hi95[0]), float(lo998[0]), float(hi998[0])


def _name(obj, lang: str) -> str:
    return (obj.name_en or obj.name) if lang == "en" else obj.name


def build_report(root: Organisation | None, f: Filters, lang: str = "vi", service_point: ServicePoint | None = None,
                 with_items: bool = False, rollups: bool | None = None) -> Report:
    """The whole report for ``root``'s subtree (everything when None) or one service point.

    ``rollups``: read complete months from the monthly rollups (default: the app's
    ``REPORT_ROLLUPS``, on); False computes everything from the raw answers."""
    t0 = time.perf_counter()
    data = fetch_respondents(service_point.organisation if service_point else root, f, rollups=rollups)
    if service_point is not None:
        data = data.only_sp(service_point.id)
    sp_ids = data.sp_ids()
    volumes, volume_sources = weighting_volumes(sp_ids, f)
    targets = list(db.session.scalars(sa.select(Target).options(selectinload(Target.organisation))))
    sps = {sp.id: sp for sp in db.session.scalars(sa.select(ServicePoint).where(ServicePoint.id.in_(
        [int(i) for i in sp_ids])))} if sp_ids.size else {}
    sections = []
    qids = data.questionnaire_ids()
    # Aspects and questions loaded with their questionnaires, one query each (a question's aspect
    # is then found in the session), not one per questionnaire.
    questionnaires = {q.id: q for q in db.session.scalars(
        sa.select(Questionnaire).where(Questionnaire.id.in_(qids))
        .options(selectinload(Questionnaire.aspects), selectinload(Questionnaire.questions)))}
    # Units: the children of the root (each a subtree) and the root's own service points.
    if service_point is None:
        unit_of_sp, unit_meta = _units(root, sps, lang)
        scope_units = _all_units(root, unit_meta, f, lang)
    else:
        scope_units = []
        unit_of_sp = {service_point.id: ("sp", service_point.id)}
        unit_meta = {("sp", service_point.id): (_name(service_point, lang), "service_point", service_point.organisation,
                                                service_point.code)}
    for qid in sorted(qids, key=lambda i: (questionnaires[i].sector, questionnaires[i].indicator != "quick", i)):
        q = questionnaires[qid]
        lay = layout_for(q)
        mine = data.cells(qid, lay)
        cur, prev = mine.take(mine.current), mine.take(~mine.current)
        judged_org = service_point.organisation if service_point else root
        sector = target_sector(q, judged_org, f)
        target = resolve_target(targets, lay.indicator, judged_org, sector, f.date_to)
        all_key = np.zeros(len(cur), dtype=np.int64)
        head = estimate_by(cur, lay, all_key, volumes).get(0, Estimate(None, None, None, 0))
        weighted = _is_weighted(cur, volumes)
        prev_head = estimate_by(prev, lay, np.zeros(len(prev), dtype=np.int64), volumes).get(0) if len(prev) else None
        aspects = []
        if lay.indicator != "quick" and len(cur):
            for code, e in estimate_by(cur, lay, all_key, volumes, kind="aspects")[0].items():
                vi, en = lay.aspect_titles.get(code, (code, code))
                aspects.append(Row(code, en if lang == "en" else vi, e, judge(e, target)))
        trend = [Row(int(m), month_label(int(m)), e, judge(e, target))
                 for m, e in sorted(estimate_by(cur, lay, cur.month, volumes).items())]
        channels = []
        if len(cur):
            for k, e in sorted(estimate_by(cur, lay, cur.kiosk.astype(np.int64), volumes).items()):
                ch = "kiosk" if k else "qr"
                channels.append(Row(ch, str(CHANNEL_LABELS[ch]), e, judge(e, target)))
        units = _unit_rows(cur, prev, lay, volumes, unit_of_sp, unit_meta, targets, q, f, volume_sources, weighted)
        items = []
        if with_items and len(cur):
            texts = {x.code: x.text(lang) for x in q.questions}
            ids = dict(zip(lay.codes, lay.question_ids))
            for code, e in estimate_by(cur, lay, all_key, volumes, kind="items")[0].items():
                items.append(Row(ids[code], texts.get(code, code), e, judge(e, target)))
        sections.append(Section(
            questionnaire_id=qid, title=q.title(lang), indicator=lay.indicator,
            indicator_label=str(INDICATOR_LABELS.get(lay.indicator, lay.indicator)), sector=q.sector,
            headline=head, target=target, verdict=judge(head, target), weighted=weighted,
            previous=prev_head, change=_change(head, prev_head), aspects=aspects, trend=trend, units=units,
            channels=channels, items=items, weight_source=source_of(cur.sp, cur.month, volume_sources, weighted),
        ))
    if service_point is not None:
        label, code, org_id = _name(service_point, lang), service_point.code, service_point.organisation_id
    elif root is not None:
        label, code, org_id = _name(root, lang), root.code, root.id
    else:
        label, code, org_id = str(_l("Toàn bộ hệ thống")), None, None
    return Report(label, code, org_id, service_point.id if service_point else None, f, sections,
                  data.current_respondents, time.perf_counter() - t0, scope_units)


def _all_units(root: Organisation | None, unit_meta: dict, f: Filters, lang: str) -> list[Unit]:
    """Every unit under ``root`` (active child organisations of the chosen sector, the root's own
    active service points), plus any unit that has data, in the order of the unit rows."""
    seen: dict[tuple, Unit] = {}
    for (k, key), (label, kind, _org, _code) in unit_meta.items():
        seen[(k, key)] = Unit(kind, key, label)
    parent = Organisation.parent_id.is_(None) if root is None else Organisation.parent_id == root.id
    stmt = sa.select(Organisation).where(parent, Organisation.active.is_(True))
    if f.sector:
        stmt = stmt.where(Organisation.sector == f.sector)
    for o in db.session.scalars(stmt):
        seen.setdefault(("org", o.id), Unit("organisation", o.id, _name(o, lang)))
    if root is not None and (not f.sector or root.sector == f.sector):
        for sp in db.session.scalars(sa.select(ServicePoint).where(ServicePoint.organisation_id == root.id,
                                                                   ServicePoint.active.is_(True))):
            seen.setdefault(("sp", sp.id), Unit("service_point", sp.id, _name(sp, lang)))
    return [seen[k] for k in sorted(seen, key=lambda k: (k[0], seen[k].label))]


def scope_report(root: Organisation | None, date_from: date, date_to: date, lang: str = "vi",
                 service_point: ServicePoint | None = None) -> Report:
    """The report of ``root``'s subtree, or of one service point, for a period, in ``lang``: for
    callers without a request to take the language from (the digests, the below-target rule)."""
    with force_locale(lang):
        return build_report(root, Filters(date_from=date_from, date_to=date_to), lang=lang,
                            service_point=service_point)


def _is_weighted(r: Cells, volumes: dict) -> bool:
    if not len(r):
        return False
    width = int(r.month.max()) + 1
    totals: dict[int, int] = {}
    for pair in np.unique(r.sp * width + r.month):
        sp, m = divmod(int(pair), width)
        totals[sp] = totals.get(sp, 0) + volumes.get((sp, m), 0)
    return all(v > 0 for v in totals.values())


def _units(root: Organisation | None, sps: dict[int, ServicePoint], lang: str):
    """Map each service point to its unit under ``root``: a child organisation, or itself."""
    unit_of_sp, meta = {}, {}
    orgs = {}
    if sps:
        org_ids = {sp.organisation_id for sp in sps.values()}
        for o in db.session.scalars(sa.select(Organisation).where(Organisation.id.in_(org_ids))):
            orgs[o.id] = o
        ancestor_ids = {a for o in orgs.values() for a in o.ancestor_ids()}
        for o in db.session.scalars(sa.select(Organisation).where(Organisation.id.in_(ancestor_ids))):
            orgs[o.id] = o
    root_depth = root.depth if root is not None else 0
    for sp_id, sp in sps.items():
        org = orgs[sp.organisation_id]
        chain = org.ancestor_ids()
        if root is not None and org.id == root.id:
            key = ("sp", sp_id)
            meta[key] = (_name(sp, lang), "service_point", org, sp.code)
        else:
            child_id = chain[root_depth] if root is not None else chain[0]
            key = ("org", child_id)
            meta[key] = (_name(orgs[child_id], lang), "organisation", orgs[child_id], orgs[child_id].code)
        unit_of_sp[sp_id] = key
    return unit_of_sp, meta


def _unit_rows(cur, prev, lay, volumes, unit_of_sp, unit_meta, targets, q, f, sources, weighted) -> list[Row]:
    keys = sorted(unit_meta, key=lambda k: (k[0], unit_meta[k][0]))
    index = {k: i for i, k in enumerate(keys)}

    def coded(r):
        lookup = {sp: index[key] for sp, key in unit_of_sp.items()}
        sps, inverse = np.unique(r.sp, return_inverse=True)
        return np.asarray([lookup[int(s)] for s in sps], dtype=np.int64)[inverse.ravel()]

    cur_codes = coded(cur) if len(cur) else np.zeros(0, dtype=np.int64)
    now = estimate_by(cur, lay, cur_codes, volumes) if len(cur) else {}
    before = estimate_by(prev, lay, coded(prev), volumes) if len(prev) else {}
    rows = []
    for i, k in enumerate(keys):
        if i not in now:
            continue
        label, kind, org, code = unit_meta[k]
        target = resolve_target(targets, lay.indicator, org, target_sector(q, org, f), f.date_to)
        e = now[i]
        mine = cur_codes == i
        rows.append(Row(k[1], label, e, judge(e, target), kind=kind, target=target, previous=before.get(i),
                        change=_change(e, before.get(i)), funnel=funnel_at(e, target), code=code,
                        weight_source=source_of(cur.sp[mine], cur.month[mine], sources, weighted)))
    return rows
