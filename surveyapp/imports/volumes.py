"""The ``volumes`` import kind: how many people each service point served in a month, the
weights of the population estimate. A row is matched by (service point, month)."""
from __future__ import annotations

import re
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from .. import imports
from ..auth.scope import within
from ..extensions import db
from ..models import MAX_VOLUME, ServicePoint, ServiceVolume, subtree_filter
from .service_points import point_code, points_by_code

MAX_SHOWN = format(MAX_VOLUME, ",").replace(",", ".")  # 10.000.000, as Vietnamese writes it
COLUMNS = [("service_point", "Mã điểm phục vụ"), ("month", "Tháng"), ("volume", "Số lượt phục vụ")]


def parse_month(value) -> date | None:
    """``yyyy-mm`` (or a spreadsheet date cell) -> the first day of that month; None if not one."""
    if isinstance(value, (datetime, date)):
        return date(value.year, value.month, 1)
    text = str(value or "").strip()
    parts = text.split("-")
    if len(parts) != 2 or len(parts[0]) != 4 or not all(p.isdigit() for p in parts):
        return None
    year, month = int(parts[0]), int(parts[1])
    return date(year, month, 1) if 2000 <= year <= 2100 and 1 <= month <= 12 else None


_WHOLE = re.compile(r"^(\d+|\d{1,3}(\.\d{3})+)$")  # 1250 or, written the Vietnamese way, 1.250


def parse_volume(value) -> int | None:
    """A whole number of people served, 0 to MAX_VOLUME; None if not one."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value if value is not None else "").strip()
    if not _WHOLE.match(text):
        return None
    number = int(text.replace(".", ""))
    return number if number <= MAX_VOLUME else None


def _parse(records, context):
    check = imports.Rows(KIND)
    rows, seen = [], {}
    for n, rec in records:
        code = check.code(n, rec, "service_point", 64)
        month = parse_month(rec.get("month"))
        if month is None:
            check.error(n, "month", _l("Tháng không hợp lệ (định dạng năm-tháng, ví dụ 2026-05)."))
        volume = parse_volume(rec.get("volume"))
        if volume is None:
            check.error(n, "volume", _l("Số lượt phải là số nguyên từ 0 đến %(n)s.", n=MAX_SHOWN))
        if code and month and not check.duplicate(n, "month", seen, (code, month)):
            rows.append({"row": n, "code": code, "month": month, "volume": volume})
    points = points_by_code(r["code"] for r in rows)
    for r in rows:
        sp = points.get(r["code"])
        if sp is None or not within(sp.organisation, context.scope):
            check.error(r["row"], "service_point", _l("Không có điểm phục vụ mã “%(code)s” trong phạm vi của bạn.",
                                                      code=r["code"]))
        else:
            r["service_point_id"] = sp.id
    return rows, check.errors


def _apply(rows):
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    ids = sorted({r["service_point_id"] for r in rows})
    stored = {}
    for part in imports.chunked(ids):
        for v in db.session.scalars(sa.select(ServiceVolume).where(ServiceVolume.service_point_id.in_(part))):
            stored[(v.service_point_id, v.month)] = v
    for r in rows:
        v = stored.get((r["service_point_id"], r["month"]))
        if v is None:
            db.session.add(ServiceVolume(service_point_id=r["service_point_id"], month=r["month"], volume=r["volume"]))
            counts["created"] += 1
        elif v.volume == r["volume"]:
            counts["unchanged"] += 1
        else:
            v.volume = r["volume"]
            counts["updated"] += 1
    db.session.flush()
    return counts


def _export(context):
    scope = context.scope
    q = (sa.select(ServiceVolume.month, ServiceVolume.volume, ServicePoint)
         .join(ServicePoint, ServicePoint.id == ServiceVolume.service_point_id))
    if scope is not None:
        q = q.where(subtree_filter(ServicePoint.organisation_id, scope))
    rows = [(point_code(sp), month, volume) for month, volume, sp in db.session.execute(q)]
    for code, month, volume in sorted(rows):
        yield {"service_point": code, "month": f"{month:%Y-%m}", "volume": volume}


KIND = imports.register(imports.Kind(
    name="volumes",
    title=_l("Số lượt phục vụ theo tháng"),
    columns=COLUMNS,
    parse=_parse,
    apply=_apply,
    export=_export,
    example={"service_point": "26734-MC", "month": "2026-05", "volume": 1250},
))
