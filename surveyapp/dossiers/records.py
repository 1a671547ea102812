"""Dossier records: one parser/validator and one write step shared by the JSON API, the
file import and the CLI (docs/DOSSIERS.md).

A record is a mapping with the keys of :data:`FIELDS`. Dates are ``yyyyMMddHHmmss`` strings in
Asia/Ho_Chi_Minh time (or ``datetime`` objects in local time, as spreadsheet cells arrive),
stored as naive UTC.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..clock import now_utc, to_local, to_utc
from ..extensions import db, dialect_insert
from ..models import DOSSIER_CHANNELS, Dossier, Organisation, ServicePoint, subtree_filter
from ..qr import dossier_hash
from . import volumes

MAX_CODE = 64
DATE_FORMAT = "%Y%m%d%H%M%S"

# Record key -> (column label for templates, required)
FIELDS: dict[str, tuple[str, bool]] = {
    "code": ("MaHoSo", True),
    "agency": ("MaCoQuan", True),
    "procedure": ("MaTTHC", False),
    "field": ("MaLinhVuc", False),
    "service_point": ("MaDiemPhucVu", False),
    "received": ("NgayTiepNhan", True),
    "due": ("NgayHenTra", False),
    "returned": ("NgayTra", False),
    "status": ("TrangThai", False),
    "channel": ("KenhNop", False),
}
# Columns written to the table, in the order of FIELDS' values.
WRITTEN = ("organisation_id", "service_point_id", "code", "code_hash", "procedure_code", "field_code",
           "received_at", "due_at", "returned_at", "status", "channel")


@dataclass(frozen=True)
class RecordError:
    index: int  # 0-based position in the batch (the API) or the row number (files)
    field: str
    message: str

    def as_dict(self) -> dict:
        return {"index": self.index, "field": self.field, "message": str(self.message)}


def parse_local_timestamp(value) -> datetime:
    """``yyyyMMddHHmmss`` in Asia/Ho_Chi_Minh time (or a naive local ``datetime``) -> naive UTC."""
    if isinstance(value, datetime):
        local = value
    else:
        text = str(value).strip()
        if len(text) != 14 or not text.isdigit():
            raise ValueError("not yyyyMMddHHmmss")
        local = datetime.strptime(text, DATE_FORMAT)
    return to_utc(local.replace(tzinfo=None))


def format_local_timestamp(instant: datetime | None) -> str:
    """Naive UTC -> ``yyyyMMddHHmmss`` local, the form :func:`parse_local_timestamp` reads."""
    return "" if instant is None else to_local(instant).strftime(DATE_FORMAT)


class Resolver:
    """Organisation and service point codes -> ids, limited to ``scope``'s subtree when given."""

    def __init__(self, scope: Organisation | None = None):
        self.scope = scope
        self._orgs: dict[str, int | None] = {}
        self._sps: dict[str, tuple[int, int] | None] = {}

    def organisation(self, code: str) -> int | None:
        if code not in self._orgs:
            q = sa.select(Organisation.id).where(Organisation.code == code)
            if self.scope is not None:
                q = q.where(subtree_filter(Organisation.id, self.scope))
            self._orgs[code] = db.session.scalar(q)
        return self._orgs[code]

    def service_point(self, code: str) -> tuple[int, int] | None:
        if code not in self._sps:
            row = db.session.execute(sa.select(ServicePoint.id, ServicePoint.organisation_id)
                                     .where(ServicePoint.code == code)).first()
            self._sps[code] = (row[0], row[1]) if row else None
        return self._sps[code]


def _text(raw: dict, key: str) -> str:
    value = raw.get(key)
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():  # a spreadsheet's number cell
        value = int(value)
    return str(value).strip()


def parse_record(raw, index: int, resolver: Resolver) -> tuple[dict | None, list[RecordError]]:
    """Validate one record: (column values to write, []) or (None, errors in Vietnamese)."""
    if not isinstance(raw, dict):
        return None, [RecordError(index, "-", _l("Mỗi hồ sơ phải là một đối tượng JSON."))]
    errors: list[RecordError] = []

    def err(field, message):
        errors.append(RecordError(index, FIELDS.get(field, (field,))[0], message))

    unknown = set(raw) - set(FIELDS)
    for key in sorted(unknown, key=str):
        errors.append(RecordError(index, str(key), _l("Trường không được hỗ trợ.")))
    values: dict = {}
    for key, (label, required) in FIELDS.items():
        if required and not _text(raw, key):
            err(key, _l("Thiếu giá trị bắt buộc."))
    code = _text(raw, "code")
    if len(code) > MAX_CODE:
        err("code", _l("Mã hồ sơ dài quá %(n)d ký tự.", n=MAX_CODE))
    values["code"] = code
    values["code_hash"] = dossier_hash(code) if code else ""
    for key, column in (("procedure", "procedure_code"), ("field", "field_code"), ("status", "status")):
        text = _text(raw, key)
        limit = 32 if key == "status" else MAX_CODE
        if len(text) > limit:
            err(key, _l("Dài quá %(n)d ký tự.", n=limit))
        values[column] = text or None
    agency = _text(raw, "agency")
    values["organisation_id"] = None
    if agency:
        values["organisation_id"] = resolver.organisation(agency)
        if values["organisation_id"] is None:
            err("agency", _l("Không có cơ quan mã “%(code)s” trong phạm vi của bạn.", code=agency))
    sp_code = _text(raw, "service_point")
    values["service_point_id"] = None
    if sp_code:
        sp = resolver.service_point(sp_code)
        if sp is None:
            err("service_point", _l("Không có điểm phục vụ mã “%(code)s”.", code=sp_code))
        elif values["organisation_id"] is not None and sp[1] != values["organisation_id"]:
            err("service_point", _l("Điểm phục vụ không thuộc cơ quan đã ghi."))
        else:
            values["service_point_id"] = sp[0]
    for key, column in (("received", "received_at"), ("due", "due_at"), ("returned", "returned_at")):
        values[column] = None
        value = raw.get(key)
        if value is None or (not isinstance(value, datetime) and not str(value).strip()):
            continue
        try:
            values[column] = parse_local_timestamp(value)
        except ValueError:
            err(key, _l("Ngày giờ không đúng dạng yyyyMMddHHmmss."))
    for key in ("due", "returned"):
        column = key + "_at"
        if values.get(column) and values.get("received_at") and values[column] < values["received_at"]:
            err(key, _l("Trước ngày tiếp nhận."))
    channel = _text(raw, "channel").lower()
    if channel and channel not in DOSSIER_CHANNELS:
        err("channel", _l("Kênh nộp phải là “online” hoặc “counter”."))
    values["channel"] = channel or None
    return (None, errors) if errors else (values, [])


def parse_batch(raws, resolver: Resolver, indices: list[int] | None = None) -> tuple[list[dict], list[RecordError]]:
    """Every record parsed; a code repeated for the same organisation is an error too.
    ``indices``: what each record's errors call it (default: its position)."""
    rows, errors, seen = [], [], {}
    for i, raw in enumerate(raws):
        index = indices[i] if indices is not None else i
        values, errs = parse_record(raw, index, resolver)
        if values is not None:
            key = (values["organisation_id"], values["code"])
            if key in seen:
                errs = [RecordError(index, "MaHoSo", _l("Mã hồ sơ lặp lại (đã có ở %(i)s).", i=seen[key]))]
                values = None
            else:
                seen[key] = index
        errors.extend(errs)
        if values is not None:
            rows.append(values)
    return rows, errors


def _comparable(values: dict) -> tuple:
    return tuple(values[c] for c in WRITTEN)


def write(rows: list[dict]) -> dict:
    """Upsert ``rows`` by (organisation, code) in the current transaction, touching only rows
    that differ, and keep the stored dossier volumes (:mod:`.volumes`) equal to a fresh count.
    The one write path of dossier records. Returns counts ``created``, ``updated``, ``unchanged``.

    Rows already stored are read ``FOR UPDATE``, so their old values (the service point and
    month they counted in) are the latest committed ones and stay so until commit. The others go
    in with ``ON CONFLICT DO NOTHING RETURNING``: what comes back was created by this transaction;
    what does not was created meanwhile by another writer, and is read ``FOR UPDATE`` in turn."""
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    if not rows:
        return counts
    # A fixed order, so that two writers lock the same dossiers alike.
    rows = sorted(rows, key=lambda r: (r["organisation_id"], r["code"]))
    table = Dossier.__table__
    now = now_utc()
    cols = [getattr(Dossier, c) for c in WRITTEN]
    existing: dict[tuple[int, str], tuple] = {}

    def lock_existing(keys):
        by_org: dict[int, list[str]] = {}
        for org_id, code in keys:
            by_org.setdefault(org_id, []).append(code)
        for org_id, codes in by_org.items():
            for i in range(0, len(codes), 500):
                for row in db.session.execute(sa.select(*cols).where(Dossier.organisation_id == org_id,
                                                                      Dossier.code.in_(codes[i:i + 500]))
                                              .order_by(Dossier.code).with_for_update()):
                    existing[(row.organisation_id, row.code)] = tuple(row)

    lock_existing((r["organisation_id"], r["code"]) for r in rows)
    missing = [r for r in rows if (r["organisation_id"], r["code"]) not in existing]
    created: set[tuple[int, str]] = set()
    insert_new = (dialect_insert(table).on_conflict_do_nothing(index_elements=["organisation_id", "code"])
                  .returning(table.c.organisation_id, table.c.code))
    for i in range(0, len(missing), 500):
        chunk = [{**{c: r[c] for c in WRITTEN}, "updated_at": now} for r in missing[i:i + 500]]
        created.update((org_id, code) for org_id, code in db.session.execute(insert_new, chunk))
    lock_existing(k for k in ((r["organisation_id"], r["code"]) for r in missing) if k not in created)
    changed, moves = [], []
    for r in rows:
        key = (r["organisation_id"], r["code"])
        new_cell = volumes.cell(r["service_point_id"], r["received_at"])
        if key in created:
            counts["created"] += 1
            moves.append((None, new_cell))
            continue
        old = existing[key]
        if old == _comparable(r):
            counts["unchanged"] += 1
            continue
        counts["updated"] += 1
        old_values = dict(zip(WRITTEN, old))
        moves.append((volumes.cell(old_values["service_point_id"], old_values["received_at"]), new_cell))
        changed.append({**{c: r[c] for c in WRITTEN}, "updated_at": now})
    if changed:
        stmt = dialect_insert(table)
        stmt = stmt.on_conflict_do_update(
            index_elements=["organisation_id", "code"],
            set_={c: stmt.excluded[c] for c in WRITTEN + ("updated_at",) if c not in ("organisation_id", "code")},
        )
        for i in range(0, len(changed), 500):
            db.session.execute(stmt, changed[i:i + 500])
    volumes.apply(volumes.changes(moves))
    return counts


def as_record(d: Dossier, org_code: str, sp_code: str | None) -> dict:
    """A stored dossier as the record that :func:`parse_record` reads back to the same values."""
    return {
        "code": d.code, "agency": org_code, "procedure": d.procedure_code or "", "field": d.field_code or "",
        "service_point": sp_code or "", "received": format_local_timestamp(d.received_at),
        "due": format_local_timestamp(d.due_at), "returned": format_local_timestamp(d.returned_at),
        "status": d.status or "", "channel": d.channel or "",
    }


__all__ = ["FIELDS", "RecordError", "Resolver", "parse_record", "parse_batch", "write", "as_record",
           "parse_local_timestamp", "format_local_timestamp"]
