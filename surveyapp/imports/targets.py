"""The ``targets`` import kind: satisfaction targets by organisation (or by sector, for the
installation's administrator). A row is matched by (indicator, organisation or sector, first
day). An organisation's own target is never laxer than the one it inherits
(:mod:`surveyapp.targets`), from the stored targets and from the file's own rows above it;
who sets which bar is :func:`surveyapp.auth.scope.may_set_target_for`.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from .. import imports
from .. import targets as target_rules
from ..auth.scope import may_set_target_for, within
from ..extensions import db
from ..models import INDICATORS, Organisation, Target, subtree_filter
from .organisations import SECTOR_NAMES, SECTORS_READ, existing_by_code

INDICATORS_READ = {i: i for i in INDICATORS}
OPERATORS_READ = {">=": ">=", "≥": ">=", ">": ">"}
OPERATOR_NAMES = {">=": "≥", ">": ">"}

COLUMNS = [("indicator", "Chỉ số"), ("organisation", "Mã đơn vị"), ("sector", "Lĩnh vực"), ("value", "Chỉ tiêu (%)"),
           ("operator", "Phép so sánh"), ("valid_from", "Áp dụng từ ngày"), ("valid_to", "Đến ngày"),
           ("source", "Căn cứ")]
WRITTEN = ("indicator", "organisation_id", "sector", "value", "operator", "valid_from", "valid_to", "source")


def _percent(value) -> float | None:
    """A percentage above 0 and at most 100, with one decimal ("92,5" or "92.5")."""
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        try:
            number = float(str(value or "").strip().replace(",", "."))
        except ValueError:
            return None
    if not 0 < number <= 100 or round(number, 1) != number:
        return None
    return round(number / 100, 4)


def _parse(records, context):
    check = imports.Rows(KIND)
    rows, seen = [], {}
    for n, rec in records:
        r = {"row": n, "indicator": check.choice(n, rec, "indicator", INDICATORS_READ),
             "organisation": check.code(n, rec, "organisation", 32, required=False) or None,
             "sector": check.choice(n, rec, "sector", SECTORS_READ, required=False, shown=SECTOR_NAMES.values()),
             "value": _percent(rec.get("value")),
             "operator": check.choice(n, rec, "operator", OPERATORS_READ, shown=OPERATOR_NAMES.values()),
             "valid_from": check.day(n, rec, "valid_from"), "valid_to": check.day(n, rec, "valid_to", required=False),
             "source": check.optional(n, rec, "source", 255)}
        if r["value"] is None:
            check.error(n, "value", _l("Chỉ tiêu phải lớn hơn 0 và không quá 100, tối đa một chữ số thập phân."))
        if bool(r["organisation"]) == bool(r["sector"]):
            check.error(n, "organisation", _l("Ghi mã đơn vị hoặc lĩnh vực (không ghi cả hai)."))
        if r["valid_from"] and r["valid_to"] and r["valid_to"] < r["valid_from"]:
            check.error(n, "valid_to", _l("Ngày kết thúc trước ngày bắt đầu."))
        key = (r["indicator"], r["organisation"] or r["sector"], r["valid_from"])
        if all(key) and not check.duplicate(n, "valid_from", seen, key):
            rows.append(r)
    orgs = existing_by_code(r["organisation"] for r in rows if r["organisation"])
    for r in rows:
        org = orgs.get(r["organisation"]) if r["organisation"] else None
        if r["organisation"] and not within(org, context.scope):
            check.error(r["row"], "organisation", _l("Không có đơn vị mã “%(code)s” trong phạm vi của bạn.",
                                                     code=r["organisation"]))
            continue
        if not may_set_target_for(org, context.actor) or (
                org is not None and context.scope is not None and not within(org.parent, context.scope)):
            check.error(r["row"], "organisation",
                        _l("Chỉ tiêu của đơn vị này do cấp trên đặt.") if org is not None
                        else _l("Chỉ quản trị viên hệ thống đặt chỉ tiêu theo lĩnh vực."))
        r["organisation_id"] = org.id if org is not None else None
        r["org"] = org
    if not check.errors:
        _check_bars(rows, check)
    return rows, check.errors


def _check_bars(rows, check) -> None:
    """Write the rows in a savepoint, bars above first, checking each organisation's own target
    against what it inherits then (the stored targets and the file's), and undo them."""
    savepoint = db.session.begin_nested()
    try:
        _write(sorted(rows, key=_top_down))
        for r in sorted(rows, key=_top_down):
            if r["org"] is None:
                continue
            undercut = target_rules.undercut_target(r["org"], r["indicator"], r["value"], r["operator"],
                                                    r["valid_from"], r["valid_to"])
            if undercut is not None:
                origin = undercut.organisation.code if undercut.organisation else SECTOR_NAMES[undercut.sector]
                bar = f"{OPERATOR_NAMES[undercut.operator]} {undercut.value * 100:.1f}%"
                check.error(r["row"], "value", _l(
                    "Chỉ tiêu riêng của đơn vị chỉ được bằng hoặc cao hơn chỉ tiêu áp dụng từ cấp trên, "
                    "không được thấp hơn: %(bar)s theo %(origin)s.", bar=bar, origin=origin))
    finally:
        savepoint.rollback()


def _top_down(r) -> tuple:
    return (r["org"].depth if r["org"] is not None else -1, r["row"])


def _key(t) -> tuple:
    return (t["indicator"], t["organisation_id"], t["sector"], t["valid_from"])


def _write(rows) -> dict:
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    stored = {(t.indicator, t.organisation_id, t.sector, t.valid_from): t for t in db.session.scalars(
        sa.select(Target).where(Target.indicator.in_({r["indicator"] for r in rows})))}
    for r in rows:
        values = {c: r[c] for c in WRITTEN}
        t = stored.get(_key(r))
        if t is None:
            db.session.add(Target(**values))
            counts["created"] += 1
        elif all(getattr(t, c) == v for c, v in values.items()):
            counts["unchanged"] += 1
        else:
            for c, v in values.items():
                setattr(t, c, v)
            counts["updated"] += 1
    db.session.flush()
    return counts


def _apply(rows):
    return _write(rows)


def _export(context):
    q = (sa.select(Target, Organisation.code).outerjoin(Organisation, Organisation.id == Target.organisation_id)
         .order_by(Target.indicator, Organisation.code, Target.sector, Target.valid_from))
    if context.scope is not None:
        q = q.where(subtree_filter(Target.organisation_id, context.scope))
    for t, org_code in db.session.execute(q):
        yield {"indicator": t.indicator, "organisation": org_code or "",
               "sector": SECTOR_NAMES[t.sector] if t.sector else "", "value": f"{t.value * 100:.1f}",
               "operator": OPERATOR_NAMES[t.operator], "valid_from": f"{t.valid_from:%Y-%m-%d}",
               "valid_to": f"{t.valid_to:%Y-%m-%d}" if t.valid_to else "", "source": t.source or ""}


KIND = imports.register(imports.Kind(
    name="targets",
    title=_l("Chỉ tiêu hài lòng"),
    columns=COLUMNS,
    parse=_parse,
    apply=_apply,
    export=_export,
    example={"indicator": "composite", "organisation": "26734", "sector": "", "value": "92.5", "operator": "≥",
             "valid_from": "2026-01-01", "valid_to": "2026-12-31", "source": "Kế hoạch CCHC 2026"},
))
