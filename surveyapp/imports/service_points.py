"""The ``service-points`` import kind: counters, one-stop desks, hospital departments, schools.

A row is matched by the point's official code, or by its QR code for a point that has no
official code yet. The QR code of a stored point never changes (its posters are on the walls);
a new point takes the QR code the file gives (a move from another installation) or a new one.
"""
from __future__ import annotations

import re

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from .. import imports
from ..auth.scope import within
from ..extensions import db
from ..models import Organisation, ServicePoint, subtree_filter
from .organisations import existing_by_code

QR_CODE_RE = re.compile(r"^[a-z0-9]{6,16}$")

COLUMNS = [("official_code", "Mã điểm phục vụ"), ("name", "Tên điểm phục vụ"), ("name_en", "Tên tiếng Anh"),
           ("organisation", "Mã đơn vị"), ("qr_code", "Mã QR")]


def points_by_code(codes) -> dict[str, ServicePoint]:
    """Stored points by official code, and by QR code for the codes that are no official one."""
    codes = sorted(set(codes))
    found: dict[str, ServicePoint] = {}
    for part in imports.chunked(codes):
        for sp in db.session.scalars(sa.select(ServicePoint).where(ServicePoint.official_code.in_(part))):
            found[sp.official_code] = sp
    rest = [c for c in codes if c not in found]
    for part in imports.chunked(rest):
        for sp in db.session.scalars(sa.select(ServicePoint).where(ServicePoint.code.in_(part))):
            found.setdefault(sp.code, sp)
    return found


def _parse(records, context):
    check = imports.Rows(KIND)
    rows, seen, seen_qr = [], {}, {}
    for n, rec in records:
        official = check.code(n, rec, "official_code", 64, required=False)
        qr = check.text(rec, "qr_code")
        if qr and not QR_CODE_RE.match(qr):
            check.error(n, "qr_code", _l("Mã QR gồm 6–16 chữ thường không dấu hoặc số."))
            qr = ""
        if not official and not qr and not check.text(rec, "official_code"):
            check.error(n, "official_code", _l("Thiếu giá trị bắt buộc."))
        r = {"row": n, "official_code": official or None, "qr_code": qr or None,
             "name": check.required(n, rec, "name", 255), "name_en": check.optional(n, rec, "name_en", 255),
             "organisation": check.code(n, rec, "organisation", 32)}
        if official and check.duplicate(n, "official_code", seen, official):
            continue
        if qr and check.duplicate(n, "qr_code", seen_qr, qr):
            continue
        rows.append(r)
    orgs = existing_by_code(r["organisation"] for r in rows if r["organisation"])
    stored = points_by_code([r["official_code"] for r in rows if r["official_code"]] +
                            [r["qr_code"] for r in rows if r["qr_code"]])
    for r in rows:
        n = r["row"]
        org = orgs.get(r["organisation"])
        if r["organisation"] and not within(org, context.scope):
            check.error(n, "organisation", _l("Không có đơn vị mã “%(code)s” trong phạm vi của bạn.",
                                              code=r["organisation"]))
        r["organisation_id"] = org.id if org is not None else None
        sp = stored.get(r["official_code"]) if r["official_code"] else None
        if sp is None and r["qr_code"]:
            by_qr = stored.get(r["qr_code"])
            if by_qr is not None and (by_qr.code != r["qr_code"] or by_qr.official_code not in (None, r["official_code"])):
                check.error(n, "qr_code", _l("Mã QR “%(code)s” đã thuộc điểm phục vụ khác.", code=r["qr_code"]))
                continue
            sp = by_qr
        if sp is not None and not within(sp.organisation, context.scope):
            check.error(n, "official_code", _l("Mã “%(code)s” đã thuộc một điểm phục vụ ngoài phạm vi của bạn.",
                                               code=r["official_code"] or r["qr_code"]))
            continue
        if sp is not None and r["qr_code"] and sp.code != r["qr_code"]:
            check.error(n, "qr_code", _l("Không đổi được mã QR của điểm phục vụ đã có (mã QR hiện tại: %(code)s).",
                                         code=sp.code))
        r["id"] = sp.id if sp is not None else None
    return rows, check.errors


def _apply(rows):
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    existing = {sp.id: sp for part in imports.chunked([r["id"] for r in rows if r["id"]])
                for sp in db.session.scalars(sa.select(ServicePoint).where(ServicePoint.id.in_(part)))}
    for r in rows:
        values = {"official_code": r["official_code"], "name": r["name"], "name_en": r["name_en"],
                  "organisation_id": r["organisation_id"]}
        sp = existing.get(r["id"])
        if sp is None:
            sp = ServicePoint(**values)
            if r["qr_code"]:
                sp.code = r["qr_code"]
            db.session.add(sp)
            counts["created"] += 1
        elif all(getattr(sp, k) == v for k, v in values.items()):
            counts["unchanged"] += 1
        else:
            for k, v in values.items():
                setattr(sp, k, v)
            counts["updated"] += 1
    db.session.flush()
    return counts


def _export(context):
    scope = context.scope
    q = (sa.select(ServicePoint, Organisation.code).join(Organisation, Organisation.id == ServicePoint.organisation_id)
         .order_by(Organisation.code, ServicePoint.official_code, ServicePoint.code))
    if scope is not None:
        q = q.where(subtree_filter(ServicePoint.organisation_id, scope))
    for sp, org_code in db.session.execute(q):
        yield {"official_code": sp.official_code or "", "name": sp.name, "name_en": sp.name_en or "",
               "organisation": org_code, "qr_code": sp.code}


def point_code(sp: ServicePoint) -> str:
    """How files name a point: its official code, else its QR code."""
    return sp.official_code or sp.code


KIND = imports.register(imports.Kind(
    name="service-points",
    title=_l("Điểm phục vụ"),
    columns=COLUMNS,
    parse=_parse,
    apply=_apply,
    export=_export,
    example={"official_code": "26734-MC", "name": "Bộ phận Một cửa xã Tân Lập", "name_en": "Tan Lap one-stop desk",
             "organisation": "26734", "qr_code": ""},
))
