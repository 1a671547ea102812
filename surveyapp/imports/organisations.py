"""The ``organisations`` import kind: the organisation tree, each unit under its parent's code.

The tree's depth is never fixed: a row names its parent by code, the parent being a unit
already stored or another row of the file (in any order). National administrative-unit codes
(2-digit provinces, 5-digit communes) are codes like any other.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from .. import imports
from ..auth.scope import within
from ..extensions import db
from ..models import Organisation, move_organisation, subtree_filter

# Accepted spellings of a sector -> stored value; exports write the Vietnamese one.
SECTOR_NAMES = {"administrative": "hành chính", "health": "y tế", "education": "giáo dục"}
SECTORS_READ = {**{v: k for k, v in SECTOR_NAMES.items()}, **{k: k for k in SECTOR_NAMES}}

COLUMNS = [("code", "Mã đơn vị"), ("name", "Tên đơn vị"), ("name_en", "Tên tiếng Anh"), ("sector", "Lĩnh vực"),
           ("parent", "Mã đơn vị cấp trên")]


def existing_by_code(codes) -> dict[str, Organisation]:
    found = {}
    for part in imports.chunked(sorted(set(codes))):
        for org in db.session.scalars(sa.select(Organisation).where(Organisation.code.in_(part))):
            found[org.code] = org
    return found


def _parse(records, context):
    check = imports.Rows(KIND)
    scope = context.scope
    rows, seen = {}, {}
    for n, rec in records:
        code = check.code(n, rec, "code", 32)
        parent = check.code(n, rec, "parent", 32, required=False)
        values = {"row": n, "code": code, "parent": parent or None,
                  "name": check.required(n, rec, "name", 255),
                  "name_en": check.optional(n, rec, "name_en", 255),
                  "sector": check.choice(n, rec, "sector", SECTORS_READ, shown=SECTOR_NAMES.values())}
        if code and not check.duplicate(n, "code", seen, code):
            rows[code] = values
    stored = existing_by_code(list(rows) + [r["parent"] for r in rows.values() if r["parent"]])
    for code, r in rows.items():
        n, org = r["row"], stored.get(code)
        if org is not None and not within(org, scope):
            check.error(n, "code", _l("Mã đơn vị “%(code)s” đã thuộc một đơn vị ngoài phạm vi của bạn.", code=code))
            continue
        if r["parent"] == code:
            check.error(n, "parent", _l("Đơn vị không thể là cấp trên của chính nó."))
            continue
        current_parent = org.parent.code if org is not None and org.parent is not None else None
        if org is not None and r["parent"] == current_parent:
            continue  # not moved: its place was checked when it was put there
        if org is not None and scope is not None and org.id == scope.id:
            check.error(n, "parent", _l("Không thể chuyển đơn vị gốc trong phạm vi của bạn."))
        elif r["parent"] is None:
            if scope is not None:
                check.error(n, "parent", _l("Chỉ quản trị viên hệ thống tạo được đơn vị cấp cao nhất; "
                                            "hãy ghi mã đơn vị cấp trên."))
        elif r["parent"] in rows:
            if _cycle(code, rows, stored):
                check.error(n, "parent", _l("Quan hệ cấp trên tạo thành vòng lặp."))
        elif not within(stored.get(r["parent"]), scope):
            check.error(n, "parent", _l("Không có đơn vị mã “%(code)s” trong phạm vi của bạn.", code=r["parent"]))
        elif org is not None and stored[r["parent"]].is_within(org):
            check.error(n, "parent", _l("Quan hệ cấp trên tạo thành vòng lặp."))
    return list(rows.values()), check.errors


def _cycle(code: str, rows: dict, stored: dict) -> bool:
    """Whether following parents from ``code`` (the file's, else the stored ones) comes back to it."""
    seen, current = {code}, rows[code]["parent"]
    while current is not None:
        if current in seen:
            return True
        seen.add(current)
        if current in rows:
            current = rows[current]["parent"]
        else:
            org = stored.get(current)
            return org is not None and any(stored.get(c) is not None and org.is_within(stored[c]) for c in seen
                                           if c != current)
    return False


def _apply(rows):
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    stored = existing_by_code(list({r["code"] for r in rows} | {r["parent"] for r in rows if r["parent"]}))
    by_code = {r["code"]: r for r in rows}
    done: set[str] = set()

    def place(r):
        # Parents first, so that each new unit's path is built from its parent's.
        if r["code"] in done:
            return
        done.add(r["code"])
        if r["parent"] in by_code:
            place(by_code[r["parent"]])
        parent = stored.get(r["parent"]) if r["parent"] else None
        org = stored.get(r["code"])
        if org is None:
            org = Organisation(code=r["code"], name=r["name"], name_en=r["name_en"], sector=r["sector"], parent=parent)
            db.session.add(org)
            db.session.flush()
            stored[r["code"]] = org
            counts["created"] += 1
            return
        changed = (org.name, org.name_en, org.sector) != (r["name"], r["name_en"], r["sector"])
        org.name, org.name_en, org.sector = r["name"], r["name_en"], r["sector"]
        if org.parent_id != (parent.id if parent else None):
            move_organisation(org, parent)
            changed = True
        counts["updated" if changed else "unchanged"] += 1

    for r in rows:
        place(r)
    return counts


def _export(context):
    scope = context.scope
    parent = sa.orm.aliased(Organisation)
    q = (sa.select(Organisation, parent.code).outerjoin(parent, parent.id == Organisation.parent_id)
         .order_by(Organisation.path))
    if scope is not None:
        q = q.where(subtree_filter(Organisation.id, scope))
    rows = [(org.depth, org.code, {"code": org.code, "name": org.name, "name_en": org.name_en or "",
                                   "sector": SECTOR_NAMES[org.sector], "parent": parent_code or ""})
            for org, parent_code in db.session.execute(q)]
    # Parents before children, then by code: the order does not depend on ids.
    return [rec for _, _, rec in sorted(rows, key=lambda t: (t[0], t[1]))]


KIND = imports.register(imports.Kind(
    name="organisations",
    title=_l("Cây đơn vị"),
    columns=COLUMNS,
    parse=_parse,
    apply=_apply,
    export=_export,
    example={"code": "26734", "name": "UBND xã Tân Lập", "name_en": "Tan Lap Commune People's Committee",
             "sector": "hành chính", "parent": "25"},
))
